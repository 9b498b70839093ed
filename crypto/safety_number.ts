/**
 * Safety numbers, computed as Signal's NumericFingerprintGenerator (version 0) does, so two users
 * can compare 60 digits in person or over a call and know no one sits between them.
 *
 * Per party: hash = version (u16, 0) ‖ key ‖ stable id; then 5,200 times
 * hash = SHA-512(hash ‖ key). The first 30 bytes of the last hash, as six 5-byte big-endian
 * chunks each taken mod 100,000, give 30 digits. The safety number is both parties' digits, the
 * smaller first, so both sides show the same 60 digits.
 *
 * The key is the identity's 65 key bytes (version 0x01 ‖ Ed25519 public ‖ X25519 public, see
 * {@linkcode IdentityPublic.keyBytes}): both keys a contact uses, without the signature, which
 * is proof about the keys rather than part of them. The stable id is the canonical username
 * (NFKC, lowercase) as UTF-8.
 *
 * @module
 */

import { concat, u16be, utf8 } from "./bytes.ts";
import type { IdentityPublic } from "./identity.ts";
import { SAFETY_NUMBER_VERSION } from "./labels.ts";
import { sha512 } from "./subtle.ts";

/** SHA-512 iterations per party (Signal's figure). */
export const SAFETY_NUMBER_ITERATIONS = 5200;
/** Digits per party. */
export const FINGERPRINT_DIGITS = 30;
/** Digits of a safety number. */
export const SAFETY_NUMBER_DIGITS = 2 * FINGERPRINT_DIGITS;

const CHUNK_BYTES = 5;
const CHUNK_MODULUS = 100_000;

/** One side of a conversation: an identity and its owner's canonical username. */
export interface SafetyParty {
  identity: IdentityPublic;
  username: string;
}

/** One party's 30 digits. */
export async function fingerprintDigits(
  identity: IdentityPublic,
  username: string,
): Promise<string> {
  if (typeof username !== "string" || username.length === 0) {
    throw new TypeError("username: expected a non-empty canonical username");
  }
  const key = identity.keyBytes();
  let hash: Uint8Array = concat(u16be(SAFETY_NUMBER_VERSION), key, utf8(username));
  for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) hash = await sha512(concat(hash, key));
  let digits = "";
  for (let offset = 0; offset < FINGERPRINT_DIGITS / 5 * CHUNK_BYTES; offset += CHUNK_BYTES) {
    let n = 0;
    // 40-bit chunks stay exact in a double (below 2^53).
    for (let j = 0; j < CHUNK_BYTES; j++) n = n * 256 + hash[offset + j]!;
    digits += String(n % CHUNK_MODULUS).padStart(5, "0");
  }
  return digits;
}

/**
 * The 60-digit safety number of a conversation: the same whichever side computes it.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { IdentityKeyPair } from "./identity.ts";
 * import { safetyNumber } from "./safety_number.ts";
 *
 * const [a, b] = await Promise.all([IdentityKeyPair.generate(), IdentityKeyPair.generate()]);
 * const alice = { identity: a.publicIdentity, username: "alice" };
 * const bob = { identity: b.publicIdentity, username: "bob" };
 * assert.equal(await safetyNumber(alice, bob), await safetyNumber(bob, alice));
 * ```
 */
export async function safetyNumber(local: SafetyParty, remote: SafetyParty): Promise<string> {
  const [l, r] = await Promise.all([
    fingerprintDigits(local.identity, local.username),
    fingerprintDigits(remote.identity, remote.username),
  ]);
  return l <= r ? l + r : r + l;
}

/** A safety number in twelve groups of five digits, as people read it aloud. */
export function formatSafetyNumber(digits: string): string {
  if (!/^\d{60}$/.test(digits)) throw new TypeError("expected 60 digits");
  return digits.match(/\d{5}/g)!.join(" ");
}
