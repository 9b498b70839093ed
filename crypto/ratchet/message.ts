/**
 * The ratchet message on the wire: header ‖ AES-256-GCM ciphertext ‖ tag.
 *
 * Header (41 bytes): version 0x01 ‖ sender's ratchet public key (32) ‖ PN u32 ‖ N u32, all
 * big-endian. The header travels in the clear and is authenticated as associated data after the
 * PQXDH AD, so any change to it fails the tag.
 *
 * @module
 */

import { ByteReader, ByteWriter } from "../codec.ts";
import { DecryptError } from "../errors.ts";
import { GCM_TAG_BYTES, KEY_BYTES } from "../subtle.ts";

/** Version byte that starts every header. */
export const HEADER_VERSION = 0x01;
/** Bytes of an encoded header. */
export const HEADER_BYTES = 1 + KEY_BYTES + 4 + 4;

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
  header: MessageHeader;
  /** The header exactly as received, for the associated data. */
  headerBytes: Uint8Array;
  ciphertext: Uint8Array;
}

/** Encodes a header. */
export function encodeHeader(header: MessageHeader): Uint8Array<ArrayBuffer> {
  return new ByteWriter().u8(HEADER_VERSION).bytes(header.ratchetKey).u32(header.previousCounter)
    .u32(header.counter).finish();
}

/**
 * Splits a ratchet message into header and ciphertext; `DecryptError("bad_format")` when it is
 * too short, has another version, or its ciphertext exceeds `maxCiphertext` bytes.
 */
export function decodeMessage(message: Uint8Array, maxCiphertext: number): RatchetMessage {
  const fail = (m: string) => new DecryptError("bad_format", `ratchet message: ${m}`);
  if (!(message instanceof Uint8Array)) throw fail("expected Uint8Array");
  const r = new ByteReader(message, fail);
  const version = r.u8("version");
  if (version !== HEADER_VERSION) throw fail(`expected version ${HEADER_VERSION}, got ${version}`);
  const ratchetKey = r.bytes(KEY_BYTES, "ratchet key");
  const previousCounter = r.u32("PN");
  const counter = r.u32("N");
  if (r.remaining < GCM_TAG_BYTES || r.remaining > maxCiphertext) {
    throw fail(`expected ${GCM_TAG_BYTES}..${maxCiphertext} ciphertext bytes, got ${r.remaining}`);
  }
  return {
    header: { ratchetKey, previousCounter, counter },
    headerBytes: message.subarray(0, HEADER_BYTES),
    ciphertext: message.subarray(HEADER_BYTES),
  };
}
