/**
 * The wire formats of sender keys: the distribution a member sends to each other member over
 * their pairwise session, and the room message itself, encrypted once and signed.
 *
 * ```
 * distribution: version u8 | distribution id 16 | chain id u32 | iteration u32 | chain key 32
 *               | signing public key 32
 * message:      version u8 | distribution id 16 | chain id u32 | iteration u32 | nonce 12
 *               | ciphertext (u32 length) | Ed25519 signature 64
 * ```
 *
 * @module
 */

import { ByteReader, ByteWriter } from "../codec.ts";
import { DecryptError, KeyError } from "../errors.ts";
import { GCM_NONCE_BYTES, GCM_TAG_BYTES, KEY_BYTES, SIGNATURE_BYTES } from "../subtle.ts";

/** The version byte of both formats. */
export const SENDER_KEY_VERSION = 0x01;
/** Bytes of a distribution id: one per member per room, chosen by the member. */
export const DISTRIBUTION_ID_BYTES = 16;
/** Largest plaintext of one room message (the relay's body limit bounds it anyway). */
export const MAX_SENDER_KEY_PLAINTEXT = 64 * 1024;

/** A sender key as its owner hands it to the other members. */
export interface SenderKeyDistribution {
  distributionId: Uint8Array;
  chainId: number;
  /** The iteration of `chainKey`: the receiver can read from this message on, not before. */
  iteration: number;
  chainKey: Uint8Array;
  signingKey: Uint8Array;
}

/** A room message, parsed. `signed` is every byte the signature covers, the prefix excluded. */
export interface SenderKeyMessage {
  distributionId: Uint8Array;
  chainId: number;
  iteration: number;
  nonce: Uint8Array;
  ciphertext: Uint8Array;
  signature: Uint8Array;
  header: Uint8Array;
  signed: Uint8Array;
}

/** Encodes a distribution. */
export function encodeDistribution(d: SenderKeyDistribution): Uint8Array<ArrayBuffer> {
  return new ByteWriter().u8(SENDER_KEY_VERSION).bytes(d.distributionId).u32(d.chainId)
    .u32(d.iteration).bytes(d.chainKey).bytes(d.signingKey).finish();
}

/** Decodes a distribution; `KeyError("bad_encoding")` for anything else. */
export function decodeDistribution(bytes: Uint8Array): SenderKeyDistribution {
  const r = new ByteReader(bytes, (m) => new KeyError("bad_encoding", `sender key: ${m}`));
  const version = r.u8("version");
  if (version !== SENDER_KEY_VERSION) {
    throw new KeyError("bad_encoding", `sender key: expected version 1, got ${version}`);
  }
  const d = {
    distributionId: r.bytes(DISTRIBUTION_ID_BYTES, "distribution id"),
    chainId: r.u32("chain id"),
    iteration: r.u32("iteration"),
    chainKey: r.bytes(KEY_BYTES, "chain key"),
    signingKey: r.bytes(KEY_BYTES, "signing key"),
  };
  r.end("sender key");
  return d;
}

/** The header of a message (everything before the ciphertext). */
export function encodeHeader(
  distributionId: Uint8Array,
  chainId: number,
  iteration: number,
  nonce: Uint8Array,
): Uint8Array<ArrayBuffer> {
  return new ByteWriter().u8(SENDER_KEY_VERSION).bytes(distributionId).u32(chainId)
    .u32(iteration).bytes(nonce).finish();
}

/** The signed part of a message: header and ciphertext. */
export function encodeSigned(header: Uint8Array, ciphertext: Uint8Array): Uint8Array<ArrayBuffer> {
  return new ByteWriter().bytes(header).blob(ciphertext).finish();
}

/** Decodes a room message; `DecryptError("bad_format")` for anything else. */
export function decodeMessage(bytes: Uint8Array): SenderKeyMessage {
  const r = new ByteReader(bytes, (m) => new DecryptError("bad_format", `room message: ${m}`));
  const version = r.u8("version");
  if (version !== SENDER_KEY_VERSION) {
    throw new DecryptError("bad_format", `room message: expected version 1, got ${version}`);
  }
  const distributionId = r.bytes(DISTRIBUTION_ID_BYTES, "distribution id");
  const chainId = r.u32("chain id");
  const iteration = r.u32("iteration");
  const nonce = r.bytes(GCM_NONCE_BYTES, "nonce");
  const ciphertext = r.blob(MAX_SENDER_KEY_PLAINTEXT + GCM_TAG_BYTES, "ciphertext");
  const signedLength = bytes.length - r.remaining;
  const signature = r.bytes(SIGNATURE_BYTES, "signature");
  r.end("room message");
  const signed = bytes.slice(0, signedLength);
  return {
    distributionId,
    chainId,
    iteration,
    nonce,
    ciphertext,
    signature,
    header: signed.slice(0, signedLength - 4 - ciphertext.length),
    signed,
  };
}
