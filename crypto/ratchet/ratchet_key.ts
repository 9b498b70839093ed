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

/** A ratchet key pair being made ({@linkcode RatchetKeyPair.start}): DHs can start at once. */
export interface RatchetKeyStart {
  /** The key pair, once its public key is computed. */
  readonly keyPair: Promise<RatchetKeyPair>;
  /** As {@linkcode RatchetKeyPair.dh}. */
  dh(peerPublicKey: Uint8Array): Promise<Uint8Array<ArrayBuffer>>;
  /** As {@linkcode RatchetKeyPair.dhHkdfKey}. */
  dhHkdfKey(peerPublicKey: Uint8Array): Promise<HkdfKey>;
}

/** An X25519 ratchet key pair. Prints its public key only. */
export class RatchetKeyPair {
  readonly #privateKey: Uint8Array;
  /** The imported key pair once known: a DH with it then starts at once, not a turn later. */
  #ready: X25519KeyPair | null;
  #keyPair: Promise<X25519KeyPair> | null = null;

  private constructor(
    readonly publicKey: Uint8Array,
    privateKey: Uint8Array,
    keyPair: X25519KeyPair | null,
  ) {
    this.#privateKey = privateKey;
    this.#ready = keyPair;
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

  /**
   * A fresh key pair, or the next one from `source`, with its DHs free to start before its
   * public key is computed (which only the header of our next message and the stored state
   * need): the DH and the public key's scalar multiplication run side by side.
   */
  static start(source?: RatchetKeySource): RatchetKeyStart {
    if (source) {
      const keyPair = RatchetKeyPair.generate(source);
      keyPair.catch(() => {}); // the caller awaits it; this keeps a failure from going unhandled
      return {
        keyPair,
        dh: (peer) => keyPair.then((k) => k.dh(peer)),
        dhHkdfKey: (peer) => keyPair.then((k) => k.dhHkdfKey(peer)),
      };
    }
    const started = X25519KeyPair.startRandom();
    return {
      keyPair: started.keyPair.then(RatchetKeyPair.fromKeyPair),
      dh: started.dh,
      dhHkdfKey: started.dhHkdfKey,
    };
  }

  #imported(): Promise<X25519KeyPair> {
    // The stored public key is trusted rather than recomputed: it came from our own state, and
    // recomputing it would cost a scalar multiplication on every restored DH ratchet step.
    this.#keyPair ??= X25519KeyPair.fromStoredUnsafe(this.#privateKey, this.publicKey).then(
      (k) => this.#ready = k,
    );
    return this.#keyPair;
  }

  /** X25519 with the peer's ratchet key; `KeyError("bad_public_key")` for a low-order key. */
  dh(peerPublicKey: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    const ready = this.#ready;
    if (ready) return ready.dh(peerPublicKey);
    return this.#imported().then((k) => k.dh(peerPublicKey));
  }

  /** The same DH output as an HKDF key for KDF_RK, one Web Crypto call fewer (version 2). */
  dhHkdfKey(peerPublicKey: Uint8Array): Promise<HkdfKey> {
    const ready = this.#ready;
    if (ready) return ready.dhHkdfKey(peerPublicKey);
    return this.#imported().then((k) => k.dhHkdfKey(peerPublicKey));
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
