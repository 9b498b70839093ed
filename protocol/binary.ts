/**
 * Binary forms of the four messages every chat message costs (send, its reply, the delivery, the
 * ack). Everything else is JSON; these are written out field by field, because base64, JSON and
 * UTF-8 conversion were a measurable share of each message's CPU on both ends.
 *
 * A record is binary when its first byte is one of the tags below; a JSON record always starts
 * with `{` (0x7b), so the two never collide. Every length is checked before it is used.
 *
 * Layouts (integers big-endian; u53 is a u64 that must fit in a JavaScript number):
 *
 *   send     0x01 | u32 id | u8 n | recipient (n bytes, UTF-8) | mid (16) | body (rest)
 *   ack      0x02 | u16 n | n × u53 qid
 *   send ok  0x81 | u32 re | u53 qid | u53 ts
 *   deliver  0x82 | u53 qid | u53 ts | u8 n | sender (n bytes, UTF-8) | mid (16) | body (rest)
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import { MAX_ACKS_PER_MESSAGE, MAX_BODY_BYTES } from "./limits.ts";
import type { Deliver } from "./messages.ts";
import { MESSAGE_ID_BYTES } from "./messages.ts";

/** Record tags. */
export const Tag = Object.freeze({ send: 0x01, ack: 0x02, sendOk: 0x81, deliver: 0x82 });

/** Longest username these records carry (the JSON schema's loose bound). */
const MAX_NAME_BYTES = 128;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

function bad(what: string): never {
  throw new ProtocolError("bad_message", what);
}

function putU53(view: DataView, at: number, n: number): void {
  view.setUint32(at, Math.floor(n / 0x1_0000_0000));
  view.setUint32(at + 4, n >>> 0);
}

function getU53(view: DataView, at: number, what: string): number {
  const hi = view.getUint32(at);
  if (hi > 0x1f_ffff) bad(`${what}: expected an integer below 2^53`);
  return hi * 0x1_0000_0000 + view.getUint32(at + 4);
}

function name(text: string, what: string): Uint8Array {
  const bytes = encoder.encode(text);
  if (bytes.length < 1 || bytes.length > MAX_NAME_BYTES) {
    throw new RangeError(`${what}: expected 1-${MAX_NAME_BYTES} bytes, got ${bytes.length}`);
  }
  return bytes;
}

/** A send request. */
export interface SendRecord {
  id: number;
  to: string;
  mid: Uint8Array;
  body: Uint8Array;
}

export function encodeSend(s: SendRecord): Uint8Array<ArrayBuffer> {
  const to = name(s.to, "to");
  const out = new Uint8Array(1 + 4 + 1 + to.length + MESSAGE_ID_BYTES + s.body.length);
  const view = new DataView(out.buffer);
  out[0] = Tag.send;
  view.setUint32(1, s.id);
  out[5] = to.length;
  out.set(to, 6);
  out.set(s.mid, 6 + to.length);
  out.set(s.body, 6 + to.length + MESSAGE_ID_BYTES);
  return out;
}

/**
 * Decodes a send. Throws `ProtocolError("bad_message")`; `onId` learns the request id as soon as
 * it is read, so the error reply can name it.
 */
export function decodeSend(r: Uint8Array, onId: (id: number) => void): SendRecord {
  const view = new DataView(r.buffer, r.byteOffset, r.byteLength);
  if (r.length < 6) bad(`send: expected at least 6 bytes, got ${r.length}`);
  const id = view.getUint32(1);
  onId(id);
  const n = r[5]!;
  const bodyAt = 6 + n + MESSAGE_ID_BYTES;
  if (n < 1) bad("send.to: expected 1-128 bytes, got 0");
  if (n > MAX_NAME_BYTES) bad(`send.to: expected 1-128 bytes, got ${n}`);
  const bodyLength = r.length - bodyAt;
  if (bodyLength < 1 || bodyLength > MAX_BODY_BYTES) {
    bad(`send.body: expected 1-${MAX_BODY_BYTES} bytes, got ${Math.max(0, bodyLength)}`);
  }
  let to: string;
  try {
    to = decoder.decode(r.subarray(6, 6 + n));
  } catch {
    return bad("send.to: not UTF-8");
  }
  return { id, to, mid: r.slice(6 + n, bodyAt), body: r.subarray(bodyAt) };
}

export function encodeAck(qids: number[]): Uint8Array<ArrayBuffer> {
  if (qids.length > MAX_ACKS_PER_MESSAGE) {
    throw new RangeError(`ack: at most ${MAX_ACKS_PER_MESSAGE} ids, got ${qids.length}`);
  }
  const out = new Uint8Array(3 + 8 * qids.length);
  const view = new DataView(out.buffer);
  out[0] = Tag.ack;
  view.setUint16(1, qids.length);
  qids.forEach((q, i) => putU53(view, 3 + 8 * i, q));
  return out;
}

export function decodeAck(r: Uint8Array): number[] {
  const view = new DataView(r.buffer, r.byteOffset, r.byteLength);
  if (r.length < 3) bad(`ack: expected at least 3 bytes, got ${r.length}`);
  const n = view.getUint16(1);
  if (n > MAX_ACKS_PER_MESSAGE) bad(`ack.qids: expected at most ${MAX_ACKS_PER_MESSAGE}, got ${n}`);
  if (r.length !== 3 + 8 * n) bad(`ack: expected ${3 + 8 * n} bytes, got ${r.length}`);
  const qids = new Array<number>(n);
  for (let i = 0; i < n; i++) qids[i] = getU53(view, 3 + 8 * i, "ack.qids");
  return qids;
}

export function encodeSendOk(re: number, qid: number, ts: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(21);
  const view = new DataView(out.buffer);
  out[0] = Tag.sendOk;
  view.setUint32(1, re);
  putU53(view, 5, qid);
  putU53(view, 13, ts);
  return out;
}

export function decodeSendOk(r: Uint8Array): { re: number; qid: number; ts: number } {
  if (r.length !== 21) bad(`send ok: expected 21 bytes, got ${r.length}`);
  const view = new DataView(r.buffer, r.byteOffset, r.byteLength);
  return {
    re: view.getUint32(1),
    qid: getU53(view, 5, "send ok.qid"),
    ts: getU53(view, 13, "send ok.ts"),
  };
}

export function encodeDeliver(d: Deliver): Uint8Array<ArrayBuffer> {
  const from = name(d.from, "from");
  const out = new Uint8Array(1 + 8 + 8 + 1 + from.length + MESSAGE_ID_BYTES + d.body.length);
  const view = new DataView(out.buffer);
  out[0] = Tag.deliver;
  putU53(view, 1, d.qid);
  putU53(view, 9, d.ts);
  out[17] = from.length;
  out.set(from, 18);
  out.set(d.mid, 18 + from.length);
  out.set(d.body, 18 + from.length + MESSAGE_ID_BYTES);
  return out;
}

export function decodeDeliver(r: Uint8Array): Deliver {
  if (r.length < 18) bad(`deliver: expected at least 18 bytes, got ${r.length}`);
  const view = new DataView(r.buffer, r.byteOffset, r.byteLength);
  const qid = getU53(view, 1, "deliver.qid");
  const ts = getU53(view, 9, "deliver.ts");
  const n = r[17]!;
  if (n < 1 || n > MAX_NAME_BYTES) bad(`deliver.from: expected 1-128 bytes, got ${n}`);
  const bodyAt = 18 + n + MESSAGE_ID_BYTES;
  const bodyLength = r.length - bodyAt;
  if (bodyLength < 1 || bodyLength > MAX_BODY_BYTES) {
    bad(`deliver.body: expected 1-${MAX_BODY_BYTES} bytes, got ${Math.max(0, bodyLength)}`);
  }
  let from: string;
  try {
    from = decoder.decode(r.subarray(18, 18 + n));
  } catch {
    return bad("deliver.from: not UTF-8");
  }
  return { qid, from, mid: r.slice(18 + n, bodyAt), ts, body: r.slice(bodyAt) };
}
