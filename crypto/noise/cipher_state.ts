/**
 * The Noise CipherState (revision 34, §5.1) for AESGCM: a key, imported once into Web Crypto and
 * reused, and a 64-bit nonce counter.
 *
 * @module
 */

import { AesGcmKey, GCM_NONCE_BYTES, GCM_TAG_BYTES } from "../subtle.ts";
import { DecryptError } from "../errors.ts";

/** The largest Noise message in bytes (§3): handshake or transport, tag included. */
export const NOISE_MAX_MESSAGE = 65535;
/** Bytes of the AEAD tag that every encrypted Noise message carries. */
export const NOISE_TAG_BYTES = GCM_TAG_BYTES;
/** The largest plaintext that still fits one encrypted Noise message. */
export const NOISE_MAX_PLAINTEXT = NOISE_MAX_MESSAGE - NOISE_TAG_BYTES;
/**
 * 2^64-1: the nonce the spec reserves for {@linkcode CipherState.rekey}. A CipherState whose
 * counter reaches it refuses to encrypt or decrypt, because the next nonce would wrap to one that
 * was already used with this key.
 */
export const NOISE_NONCE_RESERVED = 0xffffffffffffffffn;

const INSPECT = Symbol.for("Deno.customInspect");
const REKEY_ZEROS = new Uint8Array(32);
const EMPTY = new Uint8Array(0);

/** The AESGCM nonce of §12.4: 32 bits of zeros, then the counter as a big-endian 64-bit integer. */
function nonceBytes(n: bigint): Uint8Array<ArrayBuffer> {
  const nonce = new Uint8Array(GCM_NONCE_BYTES);
  new DataView(nonce.buffer).setBigUint64(4, n);
  return nonce;
}

/**
 * A Noise CipherState. Without a key it passes plaintext through, as the spec requires during the
 * first handshake messages. Every message costs exactly one Web Crypto call: the key is imported
 * once, when the CipherState is made or rekeyed.
 *
 * Encryption takes its nonce synchronously, so several `encryptWithAd` calls may be in flight at
 * once and still use consecutive nonces in call order. Decryption advances the nonce only after the
 * tag verifies, so a forged or damaged message changes nothing; overlapping decrypt calls are run
 * one after the other for the same reason.
 *
 * @example
 * ```ts
 * import { CipherState } from "./cipher_state.ts";
 * const key = new Uint8Array(32);
 * const alice = await CipherState.create(key);
 * const bob = await CipherState.create(key);
 * const ct = await alice.encryptWithAd(new Uint8Array(0), new Uint8Array([1, 2, 3]));
 * const pt = await bob.decryptWithAd(new Uint8Array(0), ct);
 * if (pt.length !== 3) throw new Error("round trip failed");
 * ```
 */
export class CipherState {
  #key: AesGcmKey | null;
  #n: bigint;
  // The last decrypt still in flight; the next one waits for it (see the class comment).
  #decrypting: Promise<unknown> | null = null;

  private constructor(key: AesGcmKey | null, n: bigint) {
    this.#key = key;
    this.#n = n;
  }

  /** InitializeKey(k): a CipherState with the 32-byte key `k` and nonce 0. */
  static async create(key: Uint8Array): Promise<CipherState> {
    if (!(key instanceof Uint8Array) || key.length !== 32) {
      throw new TypeError(
        `key: expected 32 bytes, got ${key instanceof Uint8Array ? key.length : typeof key}`,
      );
    }
    return new CipherState(await AesGcmKey.import(key), 0n);
  }

  /** InitializeKey(empty): a CipherState without a key, which passes plaintext through. */
  static empty(): CipherState {
    return new CipherState(null, 0n);
  }

  /** HasKey(). */
  get hasKey(): boolean {
    return this.#key !== null;
  }

  /** The next nonce this CipherState will use. */
  get nonce(): bigint {
    return this.#n;
  }

  /**
   * SetNonce(n). Unsafe: reusing a nonce with the same key breaks AES-GCM completely. Only tests
   * call it, to reach the reserved nonce without 2^64 messages.
   */
  setNonceUnsafe(n: bigint): void {
    if (typeof n !== "bigint" || n < 0n || n > NOISE_NONCE_RESERVED) {
      throw new RangeError(`nonce: expected a u64, got ${String(n)}`);
    }
    this.#n = n;
  }

  /**
   * A CipherState with the same key and nonce. The handshake works on copies so that a message that
   * fails to authenticate leaves the original untouched. Unsafe outside that use: two copies that
   * both encrypt reuse nonces.
   */
  copyUnsafe(): CipherState {
    return new CipherState(this.#key, this.#n);
  }

  /**
   * EncryptWithAd(ad, plaintext): ciphertext ‖ tag, or the plaintext itself when there is no key.
   * Throws `DecryptError("nonce_exhausted")` at the reserved nonce and a RangeError for a plaintext
   * whose message would exceed {@linkcode NOISE_MAX_MESSAGE}.
   */
  async encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Promise<Uint8Array> {
    const key = this.#key;
    if (key === null) {
      checkLength(plaintext.length, NOISE_MAX_MESSAGE, "plaintext");
      return plaintext;
    }
    checkLength(plaintext.length, NOISE_MAX_PLAINTEXT, "plaintext");
    // Everything up to the seal runs synchronously at call time, nonce included.
    return await key.seal(nonceBytes(this.#takeNonce()), plaintext, ad);
  }

  /**
   * DecryptWithAd(ad, ciphertext): the plaintext, or the input itself when there is no key. Throws
   * `DecryptError` ("auth_failed", "bad_format" for a message over {@linkcode NOISE_MAX_MESSAGE}
   * or shorter than a tag, "nonce_exhausted"); on any failure the nonce is unchanged.
   */
  async decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
    if (ciphertext.length > NOISE_MAX_MESSAGE) {
      throw new DecryptError(
        "bad_format",
        `expected a Noise message of at most ${NOISE_MAX_MESSAGE} bytes, got ${ciphertext.length}`,
      );
    }
    if (this.#key === null) return ciphertext;
    const previous = this.#decrypting;
    const run = previous === null
      ? this.#decryptNow(ad, ciphertext)
      : previous.catch(() => {}).then(() => this.#decryptNow(ad, ciphertext));
    this.#decrypting = run;
    try {
      return await run;
    } finally {
      if (this.#decrypting === run) this.#decrypting = null;
    }
  }

  async #decryptNow(ad: Uint8Array, ciphertext: Uint8Array): Promise<Uint8Array> {
    const n = this.#n;
    if (n >= NOISE_NONCE_RESERVED) throw exhausted();
    const plaintext = await this.#key!.open(nonceBytes(n), ciphertext, ad);
    // Advanced only now, after the tag verified: a forgery must not desynchronise the peers.
    this.#n = n + 1n;
    return plaintext;
  }

  /**
   * Rekey() (§4.2): the key becomes the first 32 bytes of ENCRYPT(k, 2^64-1, empty, 32 zeros).
   * The nonce counter is left as it is, as the spec says.
   */
  async rekey(): Promise<void> {
    const key = this.#key;
    if (key === null) throw new TypeError("rekey: the CipherState has no key");
    const sealed = await key.seal(nonceBytes(NOISE_NONCE_RESERVED), REKEY_ZEROS, EMPTY);
    const next = sealed.subarray(0, 32);
    this.#key = await AesGcmKey.import(next);
    next.fill(0);
  }

  #takeNonce(): bigint {
    const n = this.#n;
    if (n >= NOISE_NONCE_RESERVED) throw exhausted();
    // Taken before the await, so overlapping encrypts get distinct nonces.
    this.#n = n + 1n;
    return n;
  }

  [INSPECT](): string {
    return `CipherState { hasKey: ${this.hasKey}, nonce: ${this.#n}, key: [redacted] }`;
  }
  toJSON(): unknown {
    return { hasKey: this.hasKey, nonce: this.#n.toString(), key: "[redacted]" };
  }
}

function exhausted(): DecryptError {
  return new DecryptError(
    "nonce_exhausted",
    "expected a nonce below 2^64-1, got 2^64-1: the CipherState must not be used again",
  );
}

function checkLength(length: number, max: number, name: string): void {
  if (length > max) {
    throw new RangeError(`${name}: expected at most ${max} bytes, got ${length}`);
  }
}
