/**
 * A one-time message key and the AEAD it keys. ENCRYPT(mk, plaintext, ad): HKDF-SHA256 of mk
 * (zero salt, {@linkcode MESSAGE_KEY_INFO}) gives a 32-byte AES-256-GCM key and a 12-byte nonce.
 *
 * The nonce is derived rather than counted because each mk seals exactly one message: the chain
 * never yields the same mk twice and a used mk leaves the state, so no (key, nonce) pair repeats.
 *
 * A message key is held either as its seed (mk, fresh from KDF_CK) or as the derived material
 * (key ‖ nonce); both are equally secret, and holding the derived form saves the HKDF when the
 * key is used.
 *
 * Ratchet version 2 holds a third form, "key": the AES-256-GCM key itself, as version 2's KDFs
 * yield it, with the nonce chosen at random per message and carried in the header. So a message
 * key used twice (two copies of one state, a restored stale backup) still never repeats a
 * (key, nonce) pair.
 *
 * @module
 */

import { assertBytes, utf8 } from "../bytes.ts";
import { MESSAGE_KEY_INFO } from "../labels.ts";
import { AesGcmKey, GCM_NONCE_BYTES, hkdfSha256, KEY_BYTES } from "../subtle.ts";

const INSPECT = Symbol.for("Deno.customInspect");
const INFO = utf8(MESSAGE_KEY_INFO);
const ZERO_SALT = new Uint8Array(KEY_BYTES);

/** Bytes of a message key's derived material: AES-256 key ‖ GCM nonce. */
export const MESSAGE_KEY_MATERIAL_BYTES = KEY_BYTES + GCM_NONCE_BYTES;

/** The forms a message key is held in: version 1's seed and material, version 2's key. */
export type MessageKeyForm = "seed" | "material" | "key";

/** The key for one message of one chain. Prints as `[redacted]`. */
export class MessageKey {
  readonly #bytes: Uint8Array;
  #aes: Promise<AesGcmKey> | null = null;

  private constructor(readonly index: number, readonly form: MessageKeyForm, bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** mk as KDF_CK produced it. */
  static fromSeed(index: number, mk: Uint8Array): MessageKey {
    assertBytes(mk, KEY_BYTES, "message key");
    return new MessageKey(index, "seed", mk);
  }

  /** Derived material (key ‖ nonce), as stored. */
  static fromMaterial(index: number, material: Uint8Array): MessageKey {
    assertBytes(material, MESSAGE_KEY_MATERIAL_BYTES, "message key material");
    return new MessageKey(index, "material", material);
  }

  /** Version 2: the AES-256 key as the chain or root KDF yielded it. */
  static fromAesKey(index: number, key: Uint8Array): MessageKey {
    assertBytes(key, KEY_BYTES, "message key");
    return new MessageKey(index, "key", key);
  }

  /** The same key in derived form, ready to seal or open with no HKDF on the way. */
  async ready(): Promise<MessageKey> {
    if (this.form !== "seed") return this;
    const material = await hkdfSha256(this.#bytes, ZERO_SALT, INFO, MESSAGE_KEY_MATERIAL_BYTES);
    return new MessageKey(this.index, "material", material);
  }

  /**
   * Imports the AES key now (the version 2 and material forms), so a seal or open later does not
   * wait for it. The imported key stays with this key object only, as after a first use.
   */
  async prepare(): Promise<void> {
    if (this.form !== "seed") await this.#cipher();
  }

  #cipher(): Promise<AesGcmKey> {
    // Imported once per key object, on first use: restoring state imports nothing.
    this.#aes ??= AesGcmKey.import(this.#bytes.subarray(0, KEY_BYTES));
    return this.#aes;
  }

  #nonce(nonce: Uint8Array | null): Uint8Array {
    if (this.form === "key") {
      if (nonce === null) throw new TypeError("a version 2 message key needs the header's nonce");
      return nonce;
    }
    return this.#bytes.subarray(KEY_BYTES);
  }

  /**
   * AES-256-GCM seal; the result is ciphertext ‖ tag. `nonce`: the header's (version 2), null for
   * version 1, whose nonce is derived with the key.
   */
  async seal(
    plaintext: Uint8Array,
    ad: Uint8Array,
    nonce: Uint8Array | null = null,
  ): Promise<Uint8Array<ArrayBuffer>> {
    if (this.form === "seed") return (await this.ready()).seal(plaintext, ad, nonce);
    return (await this.#cipher()).seal(this.#nonce(nonce), plaintext, ad);
  }

  /** AES-256-GCM open; `DecryptError("auth_failed")` when the tag does not verify. */
  async open(
    sealed: Uint8Array,
    ad: Uint8Array,
    nonce: Uint8Array | null = null,
  ): Promise<Uint8Array<ArrayBuffer>> {
    if (this.form === "seed") return (await this.ready()).open(sealed, ad, nonce);
    return (await this.#cipher()).open(this.#nonce(nonce), sealed, ad);
  }

  /** The seed or material bytes, for serialising state. Unsafe: secret. */
  bytesUnsafe(): Uint8Array {
    return this.#bytes;
  }

  [INSPECT](): string {
    return `MessageKey { index: ${this.index}, key: [redacted] }`;
  }
  toJSON(): unknown {
    return { index: this.index, key: "[redacted]" };
  }
}
