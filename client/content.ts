/**
 * What travels inside the end-to-end encryption: chat text and delivery/read receipts. The server
 * sees neither. Plaintext is padded to a multiple of PAD_BLOCK bytes so message lengths leak
 * only coarsely.
 *
 * @module
 */

import { fromUtf8, utf8 } from "../crypto/mod.ts";
import { MAX_TEXT_CHARS } from "./content_limits.ts";
import {
  type ActionContent,
  actionFromWire,
  actionToWire,
  type RoomContent,
} from "./content_actions.ts";

export { MAX_TEXT_CHARS };
export type { ActionContent, RoomContent };

/** Padding granularity of the encrypted content. */
export const PAD_BLOCK = 64;
/** Message ids one receipt may name. */
export const MAX_RECEIPT_IDS = 500;

/** The content of one envelope. */
export type Content =
  | { t: "text"; text: string; ts: number; reply?: Uint8Array }
  | { t: "receipt"; kind: "delivered" | "read"; mids: Uint8Array[] }
  | ActionContent
  | RoomContent;

/**
 * The room state a room message's author held when they wrote it: its version and a digest of
 * the changes it is made of. A reader holding another state knows one of them is missing changes.
 */
export interface RoomHead {
  v: number;
  h: string;
}

/**
 * Encodes and pads content (ISO/IEC 7816-4: 0x80 then zeros); a room message also carries the
 * author's room head (`rv`, `rh`).
 */
export function encodeContent(c: Content, head?: RoomHead): Uint8Array {
  const plain = c.t === "text"
    ? (c.reply ? { ...c, reply: c.reply.toBase64() } : c)
    : c.t === "receipt"
    ? { ...c, mids: c.mids.map((m) => m.toBase64()) }
    : actionToWire(c);
  const wire = head ? { ...plain, rv: head.v, rh: head.h } : plain;
  const json = utf8(JSON.stringify(wire));
  const padded = new Uint8Array(Math.ceil((json.length + 1) / PAD_BLOCK) * PAD_BLOCK);
  padded.set(json);
  padded[json.length] = 0x80;
  return padded;
}

function unpad(bytes: Uint8Array): Record<string, unknown> {
  let end = bytes.length - 1;
  while (end >= 0 && bytes[end] === 0) end--;
  if (end < 0 || bytes[end] !== 0x80) throw new TypeError("content: bad padding");
  return JSON.parse(fromUtf8(bytes.subarray(0, end)));
}

/** The room head a room message carries, or null when it carries none (or it is malformed). */
export function decodeRoomHead(bytes: Uint8Array): RoomHead | null {
  try {
    const raw = unpad(bytes);
    return Number.isSafeInteger(raw?.rv) && (raw.rv as number) >= 0 &&
        typeof raw.rh === "string" && /^[0-9a-f]{1,64}$/.test(raw.rh)
      ? { v: raw.rv as number, h: raw.rh }
      : null;
  } catch {
    return null;
  }
}

/** Decodes padded content; throws a TypeError naming what is wrong. */
export function decodeContent(bytes: Uint8Array): Content {
  // deno-lint-ignore no-explicit-any
  const raw: any = unpad(bytes);
  if (
    raw?.t === "text" && typeof raw.text === "string" && raw.text.length <= MAX_TEXT_CHARS &&
    Number.isFinite(raw.ts)
  ) {
    const reply = typeof raw.reply === "string" && raw.reply.length <= 64
      ? Uint8Array.fromBase64(raw.reply)
      : undefined;
    return reply
      ? { t: "text", text: raw.text, ts: raw.ts, reply }
      : { t: "text", text: raw.text, ts: raw.ts };
  }
  if (
    raw?.t === "receipt" && (raw.kind === "delivered" || raw.kind === "read") &&
    Array.isArray(raw.mids) &&
    raw.mids.length <= MAX_RECEIPT_IDS
  ) {
    return {
      t: "receipt",
      kind: raw.kind,
      mids: raw.mids.map((m: string) => Uint8Array.fromBase64(m)),
    };
  }
  const other = raw && typeof raw === "object" ? actionFromWire(raw) : null;
  if (other) return other;
  throw new TypeError("content: unknown kind");
}
