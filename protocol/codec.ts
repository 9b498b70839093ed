/**
 * Records to messages and back: UTF-8 JSON validated against the schemas in messages.ts before
 * any other code sees a field, and binary records for the four messages each chat message costs
 * (protocol/binary.ts).
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import {
  type Ack,
  ackSchema,
  byeSchema,
  type Deliver,
  deliverSchema,
  errorSchema,
  requestIdSchema,
  type RequestOf,
  requestSchemas,
  type RequestType,
  type ResultOf,
  resultSchemas,
} from "./messages.ts";
import { toWire } from "./schema.ts";
import * as binary from "./binary.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes any protocol message (Uint8Array fields become base64). */
export function encodeMessage(message: Record<string, unknown>): Uint8Array<ArrayBuffer> {
  return encoder.encode(JSON.stringify(toWire(message)));
}

function parseJson(record: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(record));
  } catch {
    throw new ProtocolError("bad_message", "a message that is not UTF-8 JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProtocolError("bad_message", "a message that is not a JSON object");
  }
  if (typeof (value as { t?: unknown }).t !== "string") {
    throw new ProtocolError("bad_message", "a message without a type field 't'");
  }
  return value as Record<string, unknown>;
}

/** A decoded client message, as the server sees it. */
export type ClientMessage =
  | { kind: "request"; type: RequestType; id: number; body: RequestOf<RequestType> }
  | { kind: "ack"; ack: Ack };

/**
 * Decodes and validates a client message. Throws `ProtocolError("bad_message")` with the request
 * id when one could be read (so the reply can name it), or `"unknown_type"`.
 */
export function decodeClientMessage(record: Uint8Array): ClientMessage {
  if (record[0] === binary.Tag.send) {
    let id: number | undefined;
    try {
      const s = binary.decodeSend(record, (n) => (id = n));
      return {
        kind: "request",
        type: "send",
        id: s.id,
        body: { to: s.to, mid: s.mid, body: s.body },
      };
    } catch (e) {
      throw new RequestError(id, e as ProtocolError);
    }
  }
  if (record[0] === binary.Tag.ack) return { kind: "ack", ack: { qids: binary.decodeAck(record) } };
  const raw = parseJson(record);
  const t = raw.t as string;
  if (t === "ack") return { kind: "ack", ack: ackSchema.parse(raw, "ack") };
  if (!Object.hasOwn(requestSchemas, t)) {
    throw new RequestError(
      idOf(raw),
      new ProtocolError("unknown_type", `unknown message type ${JSON.stringify(t.slice(0, 32))}`),
    );
  }
  const type = t as RequestType;
  const id = requestIdSchema.parse(raw.id, `${type}.id`);
  try {
    const body = requestSchemas[type].parse(raw, type) as RequestOf<RequestType>;
    return { kind: "request", type, id, body };
  } catch (e) {
    throw new RequestError(id, e as ProtocolError);
  }
}

function idOf(raw: Record<string, unknown>): number | undefined {
  const id = raw.id;
  return typeof id === "number" && Number.isInteger(id) && id >= 0 && id <= 0xffffffff
    ? id
    : undefined;
}

/** A bad request whose id is known, so the server can answer it before deciding to close. */
export class RequestError extends ProtocolError {
  constructor(readonly requestId: number | undefined, cause: ProtocolError) {
    super(cause.code, cause.message, { cause });
  }
}

/** Encodes a request. */
export function encodeRequest<T extends RequestType>(
  type: T,
  id: number,
  body: RequestOf<T>,
): Uint8Array<ArrayBuffer> {
  if (type === "send") return binary.encodeSend({ id, ...(body as RequestOf<"send">) });
  return encodeMessage({ ...body, t: type, id });
}

/** Encodes an acknowledgement of stored deliveries. */
export function encodeAck(qids: number[]): Uint8Array<ArrayBuffer> {
  return binary.encodeAck(qids);
}

/** A decoded server message, as the client sees it. The result of `ok` is validated later by
 * {@linkcode parseResult}, which knows the request's type. */
export type ServerMessage =
  | { kind: "ok"; re: number; raw: Record<string, unknown> }
  | { kind: "error"; re?: number; code: string; message: string }
  | { kind: "deliver"; deliver: Deliver }
  | { kind: "bye"; code: string; message: string };

/** Decodes and validates a server message. */
export function decodeServerMessage(record: Uint8Array): ServerMessage {
  if (record[0] === binary.Tag.sendOk) {
    const { re, qid, ts } = binary.decodeSendOk(record);
    return { kind: "ok", re, raw: { qid, ts } };
  }
  if (record[0] === binary.Tag.deliver) {
    return { kind: "deliver", deliver: binary.decodeDeliver(record) };
  }
  const raw = parseJson(record);
  switch (raw.t) {
    case "ok":
      return { kind: "ok", re: requestIdSchema.parse(raw.re, "ok.re"), raw };
    case "error": {
      const e = errorSchema.parse(raw, "error");
      return e.re === undefined
        ? { kind: "error", code: e.code, message: e.message }
        : { kind: "error", re: e.re, code: e.code, message: e.message };
    }
    case "deliver":
      return { kind: "deliver", deliver: deliverSchema.parse(raw, "deliver") };
    case "bye":
      return { kind: "bye", ...byeSchema.parse(raw, "bye") };
    default:
      throw new ProtocolError(
        "unknown_type",
        `unknown message type ${JSON.stringify(String(raw.t).slice(0, 32))}`,
      );
  }
}

/** Validates the result of a request of type `type`. */
export function parseResult<T extends RequestType>(
  type: T,
  raw: Record<string, unknown>,
): ResultOf<T> {
  return resultSchemas[type].parse(raw, `${type} result`) as ResultOf<T>;
}

/** Encodes a successful reply. */
export function encodeOk(re: number, result: Record<string, unknown>): Uint8Array<ArrayBuffer> {
  return encodeMessage({ ...result, t: "ok", re });
}

/** Encodes the reply to a send (binary: the hot path). */
export function encodeSendOk(re: number, qid: number, ts: number): Uint8Array<ArrayBuffer> {
  return binary.encodeSendOk(re, qid, ts);
}

/** Encodes an error reply. */
export function encodeError(
  re: number | undefined,
  code: string,
  message: string,
): Uint8Array<ArrayBuffer> {
  return encodeMessage(
    re === undefined ? { t: "error", code, message } : { t: "error", re, code, message },
  );
}

/** Encodes a delivery (binary: the hot path). */
export function encodeDeliver(d: Deliver): Uint8Array<ArrayBuffer> {
  return binary.encodeDeliver(d);
}
