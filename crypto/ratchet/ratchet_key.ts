/**
 * Our ratchet key pair (DHs), imported lazily: restoring state from bytes imports nothing, and
 * the private key reaches Web Crypto only when a DH ratchet step needs it.
 *
 * @module
 */

import { assertBytes, toHex } from "../bytes.ts";
import { type HkdfKey, KEY_BYTES, X25519KeyPair } from "../subtle.ts";

const INSPECT = Symbol.for("Deno.customInspect");

/** Supplies ratchet key pairs in place of fresh random ones: deterministic test vectors only. */
export type RatchetKeySource = () => Promise<X25519KeyPair>;

/** An X25519 ratchet key pair. Prints its public key only. */
export class RatchetKeyPair {
  readonly #privateKey: Uint8Array;
  #keyPair: Promise<X25519KeyPair> | null;

  private constructor(
    readonly publicKey: Uint8Array,
    privateKey: Uint8Array,
    keyPair: X25519KeyPair | null,
  ) {
    this.#privateKey = privateKey;
    this.#keyPair = keyPair ? Promise.resolve(keyPair) : null;
  }

  /** Wraps an imported key pair. */
  static fromKeyPair(keyPair: X25519KeyPair): RatchetKeyPair {
    // The key pair's own bytes, not a copy: neither side changes them, and state writes copy.
    return new RatchetKeyPair(keyPair.publicKey, keyPair.privateBytesSharedUnsafe(), keyPair);
  }

  /** A stored key pair, imported on first use. */
  static restore(privateKey: Uint8Array, publicKey: Uint8Array): RatchetKeyPair {
    assertBytes(privateKey, KEY_BYTES, "ratchet private key");
    assertBytes(publicKey, KEY_BYTES, "ratchet public key");
    return new RatchetKeyPair(publicKey, privateKey, null);
  }

  /** A fresh key pair, or the next one from `source` when making test vectors. */
  static async generate(source?: RatchetKeySource): Promise<RatchetKeyPair> {
    // fromPrivate over random bytes costs one scalar multiplication; generateKey plus the two
    // exports needed to persist the result costs more than twice as much in Deno.
    const keyPair = source ? await source() : await X25519KeyPair.random();
    return RatchetKeyPair.fromKeyPair(keyPair);
  }

  #imported(): Promise<X25519KeyPair> {
    // The stored public key is trusted rather than recomputed: it came from our own state, and
    // recomputing it would cost a scalar multiplication on every restored DH ratchet step.
    this.#keyPair ??= X25519KeyPair.fromStoredUnsafe(this.#privateKey, this.publicKey);
    return this.#keyPair;
  }

  /** X25519 with the peer's ratchet key; `KeyError("bad_public_key")` for a low-order key. */
  async dh(peerPublicKey: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    return (await this.#imported()).dh(peerPublicKey);
  }

  /** The same DH output as an HKDF key for KDF_RK, one Web Crypto call fewer (version 2). */
  async dhHkdfKey(peerPublicKey: Uint8Array): Promise<HkdfKey> {
    return (await this.#imported()).dhHkdfKey(peerPublicKey);
  }

  /** The private key bytes, for serialising state. Unsafe: secret. */
  privateBytesUnsafe(): Uint8Array {
    return this.#privateKey;
  }

  [INSPECT](): string {
    return `RatchetKeyPair { publicKey: ${toHex(this.publicKey)}, privateKey: [redacted] }`;
  }
  toJSON(): unknown {
    return { publicKey: toHex(this.publicKey), privateKey: "[redacted]" };
  }
}
