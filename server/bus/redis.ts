/**
 * RESP (the Redis serialisation protocol, redis.io/docs/reference/protocol-spec), as much as
 * plain pub/sub needs. Redis puts a connection that subscribes into a mode where it can only
 * (un)subscribe and ping, so the bus uses two connections: one SUBSCRIBEs, one PUBLISHes.
 *
 * @module
 */

import { BusError } from "./errors.ts";
import type { WireProtocol } from "./link.ts";
import { indexOfCrlf } from "./nats.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

/** A parsed RESP value. */
export type Resp = string | number | Uint8Array | null | Resp[] | BusError;

/** Encodes a command as an array of bulk strings. */
export function command(...parts: (string | Uint8Array)[]): Uint8Array {
  const chunks: Uint8Array[] = [enc.encode(`*${parts.length}\r\n`)];
  for (const p of parts) {
    const bytes = typeof p === "string" ? enc.encode(p) : p;
    chunks.push(enc.encode(`$${bytes.length}\r\n`), bytes, enc.encode("\r\n"));
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
}

/** Parses one value at `at`; null when the buffer does not hold all of it yet. */
export function parseResp(b: Uint8Array, at: number): { value: Resp; next: number } | null {
  const eol = indexOfCrlf(b, at);
  if (eol < 0) return null;
  const kind = String.fromCharCode(b[at]!);
  const text = dec.decode(b.subarray(at + 1, eol));
  const next = eol + 2;
  switch (kind) {
    case "+":
      return { value: text, next };
    case "-":
      return { value: new BusError("protocol", `Redis said ${text.slice(0, 200)}`), next };
    case ":":
      return { value: Number(text), next };
    case "$": {
      const size = Number(text);
      if (size < 0) return { value: null, next };
      if (b.length < next + size + 2) return null;
      return { value: b.slice(next, next + size), next: next + size + 2 };
    }
    case "*": {
      const count = Number(text);
      if (count < 0) return { value: null, next };
      const items: Resp[] = [];
      let pos = next;
      for (let i = 0; i < count; i++) {
        const item = parseResp(b, pos);
        if (!item) return null;
        items.push(item.value);
        pos = item.next;
      }
      return { value: items, next: pos };
    }
    default:
      throw new BusError("protocol", `unexpected RESP type ${JSON.stringify(kind)}`);
  }
}

/** Parses every complete value in `buffer`, handing each to `each`; returns the bytes used. */
function feedAll(buffer: Uint8Array, each: (v: Resp) => void): number {
  let used = 0;
  for (;;) {
    const r = parseResp(buffer, used);
    if (!r) return used;
    if (r.value instanceof BusError) throw r.value;
    each(r.value);
    used = r.next;
  }
}

/** The subscribing connection: SUBSCRIBE once, then "message" pushes. */
export class RedisSubscriber implements WireProtocol {
  constructor(readonly channel: string, readonly onMessage: (payload: Uint8Array) => void) {}

  greeting(): Uint8Array {
    return command("SUBSCRIBE", this.channel);
  }

  ping(): Uint8Array {
    return command("PING");
  }

  feed(buffer: Uint8Array): { used: number } {
    const used = feedAll(buffer, (v) => {
      if (!Array.isArray(v) || !(v[0] instanceof Uint8Array)) return;
      if (dec.decode(v[0]) === "message" && v[2] instanceof Uint8Array) this.onMessage(v[2]);
    });
    return { used };
  }
}

/** The publishing connection: replies (subscriber counts, pongs) are read and dropped. */
export class RedisPublisher implements WireProtocol {
  constructor(readonly channel: string) {}

  greeting(): Uint8Array {
    return new Uint8Array(0);
  }

  ping(): Uint8Array {
    return command("PING");
  }

  publish(payload: Uint8Array): Uint8Array {
    return command("PUBLISH", this.channel, payload);
  }

  feed(buffer: Uint8Array): { used: number } {
    return { used: feedAll(buffer, () => {}) };
  }
}
