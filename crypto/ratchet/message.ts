/**
 * The ratchet message on the wire: header ‖ AES-256-GCM ciphertext ‖ tag.
 *
 * Header, version 1 (41 bytes): 0x01 ‖ sender's ratchet public key (32) ‖ PN u32 ‖ N u32.
 * Header, version 2 (53 bytes): 0x02 ‖ sender's ratchet public key (32) ‖ PN u32 ‖ N u32 ‖ the
 * AES-GCM nonce (12 random bytes). All big-endian. The header travels in the clear and is
 * authenticated as associated data after the PQXDH AD, so any change to it (the nonce included)
 * fails the tag. The version byte is also the ratchet version the message was made with
 * (crypto/ratchet/double_ratchet.ts).
 *
 * @module
 */

import { ByteReader } from "../codec.ts";
import { DecryptError } from "../errors.ts";
import { GCM_NONCE_BYTES, GCM_TAG_BYTES, KEY_BYTES } from "../subtle.ts";

/** The ratchet versions: 1 (HMAC chain, derived nonce) and 2 (batched HKDF chain, random nonce). */
export type RatchetVersion = 1 | 2;

/** Version byte of a version 1 header. */
export const HEADER_VERSION = 0x01;
/** Version byte of a version 2 header. */
export const HEADER_VERSION_V2 = 0x02;
/** Bytes of an encoded version 1 header. */
export const HEADER_BYTES = 1 + KEY_BYTES + 4 + 4;
/** Bytes of an encoded version 2 header (the version 1 fields and the nonce). */
export const HEADER_BYTES_V2 = HEADER_BYTES + GCM_NONCE_BYTES;

/** A message header: the sender's ratchet key, the previous chain's length and this index. */
export interface MessageHeader {
  ratchetKey: Uint8Array;
  /** PN: how many messages the sender sent in its previous sending chain. */
  previousCounter: number;
  /** N: this message's index in its chain. */
  counter: number;
}

/** A parsed ratchet message. */
export interface RatchetMessage {
  version: RatchetVersion;
  header: MessageHeader;
  /** Version 2: the AES-GCM nonce the header carries; version 1: null (derived from the key). */
  nonce: Uint8Array | null;
  /** The header exactly as received, for the associated data. */
  headerBytes: Uint8Array;
  ciphertext: Uint8Array;
}

/** Bytes of the header of `version`. */
export function headerBytesOf(version: RatchetVersion): number {
  return version === 1 ? HEADER_BYTES : HEADER_BYTES_V2;
}

/**
 * Writes a header of `version` into `out` at `at` (the caller sized `out`, so the header lands
 * where the associated data needs it, with no copy). Version 2 writes the 12-byte nonce given;
 * null leaves its 12 bytes to the caller.
 */
export function writeHeader(
  out: Uint8Array,
  at: number,
  version: RatchetVersion,
  header: MessageHeader,
  nonce: Uint8Array | null,
): void {
  const { previousCounter: pn, counter: n } = header;
  if (!Number.isInteger(pn) || pn < 0 || pn > 0xffff_ffff) throw new RangeError(`PN: ${pn}`);
  if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) throw new RangeError(`N: ${n}`);
  out[at] = version === 1 ? HEADER_VERSION : HEADER_VERSION_V2;
  out.set(header.ratchetKey, at + 1);
  const view = new DataView(out.buffer, out.byteOffset + at + 1 + KEY_BYTES, 8);
  view.setUint32(0, pn);
  view.setUint32(4, n);
  // A null nonce: the caller has put (or will put) it in place itself.
  if (version === 2 && nonce) out.set(nonce, at + HEADER_BYTES);
}

/** Encodes a header on its own. */
export function encodeHeader(
  header: MessageHeader,
  version: RatchetVersion = 1,
  nonce: Uint8Array | null = null,
): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(headerBytesOf(version));
  writeHeader(out, 0, version, header, nonce);
  return out;
}

/**
 * Splits a ratchet message into header and ciphertext; `DecryptError("bad_format")` when it is
 * too short, has an unknown version, or its ciphertext exceeds `maxCiphertext` bytes.
 */
export function decodeMessage(message: Uint8Array, maxCiphertext: number): RatchetMessage {
  const fail = (m: string) => new DecryptError("bad_format", `ratchet message: ${m}`);
  if (!(message instanceof Uint8Array)) throw fail("expected Uint8Array");
  const r = new ByteReader(message, fail);
  const byte = r.u8("version");
  if (byte !== HEADER_VERSION && byte !== HEADER_VERSION_V2) {
    throw fail(`expected version ${HEADER_VERSION} or ${HEADER_VERSION_V2}, got ${byte}`);
  }
  const version: RatchetVersion = byte === HEADER_VERSION ? 1 : 2;
  const ratchetKey = r.bytes(KEY_BYTES, "ratchet key");
  const previousCounter = r.u32("PN");
  const counter = r.u32("N");
  const nonce = version === 2 ? r.view(GCM_NONCE_BYTES, "nonce") : null;
  if (r.remaining < GCM_TAG_BYTES || r.remaining > maxCiphertext) {
    throw fail(`expected ${GCM_TAG_BYTES}..${maxCiphertext} ciphertext bytes, got ${r.remaining}`);
  }
  const size = headerBytesOf(version);
  return {
    version,
    header: { ratchetKey, previousCounter, counter },
    nonce,
    headerBytes: message.subarray(0, size),
    ciphertext: message.subarray(size),
  };
}
