/**
 * What travels inside the end-to-end encryption: chat text and delivery/read receipts. The server
 * sees neither. Plaintext is padded to a multiple of PAD_BLOCK bytes so message lengths leak
 * only coarsely.
 *
 * @module
 */

import { fromUtf8, utf8 } from "../crypto/mod.ts";

/** Padding granularity of the encrypted content. */
export const PAD_BLOCK = 64;
/**
 * Longest chat text, in UTF-16 code units: the most that always fits the protocol's body limit
 * (MAX_BODY_BYTES) once encoded, even when every character takes six bytes of JSON (a control
 * character) and the envelope carries a first message's PQXDH header.
 */
export const MAX_TEXT_CHARS = 10_000;
/** Message ids one receipt may name. */
export const MAX_RECEIPT_IDS = 500;

/** The content of one envelope. */
export type Content =
  | { t: "text"; text: string; ts: number }
  | { t: "receipt"; kind: "delivered" | "read"; mids: Uint8Array[] };

/** Encodes and pads content (ISO/IEC 7816-4: 0x80 then zeros). */
export function encodeContent(c: Content): Uint8Array {
  const json = utf8(
    JSON.stringify(c.t === "text" ? c : { ...c, mids: c.mids.map((m) => m.toBase64()) }),
  );
  const padded = new Uint8Array(Math.ceil((json.length + 1) / PAD_BLOCK) * PAD_BLOCK);
  padded.set(json);
  padded[json.length] = 0x80;
  return padded;
}

/** Decodes padded content; throws a TypeError naming what is wrong. */
export function decodeContent(bytes: Uint8Array): Content {
  let end = bytes.length - 1;
  while (end >= 0 && bytes[end] === 0) end--;
  if (end < 0 || bytes[end] !== 0x80) throw new TypeError("content: bad padding");
  const raw = JSON.parse(fromUtf8(bytes.subarray(0, end)));
  if (
    raw?.t === "text" && typeof raw.text === "string" && raw.text.length <= MAX_TEXT_CHARS &&
    Number.isFinite(raw.ts)
  ) {
    return { t: "text", text: raw.text, ts: raw.ts };
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
  throw new TypeError("content: unknown kind");
}
