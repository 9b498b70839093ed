/**
 * The Noise SymmetricState (revision 34, §5.2) for SHA256, as an immutable value: every operation
 * returns a new SymmetricState and leaves the old one as it was. The handshake keeps the old value
 * until a whole message has been processed, which is what makes a failed read roll back for free.
 *
 * @module
 */

import { concat, utf8 } from "../bytes.ts";
import { hkdfSha256, sha256 } from "../subtle.ts";
import { CipherState } from "./cipher_state.ts";

/** HASHLEN of SHA256. */
export const NOISE_HASH_BYTES = 32;

const INSPECT = Symbol.for("Deno.customInspect");
const EMPTY = new Uint8Array(0);

/**
 * HKDF(chaining_key, input_key_material, 2) of §4.3. With two outputs it is RFC 5869 HKDF with
 * salt = chaining_key and empty info, which Web Crypto computes in one derivation.
 */
async function hkdf2(
  chainingKey: Uint8Array,
  ikm: Uint8Array,
): Promise<[Uint8Array, Uint8Array]> {
  const out = await hkdfSha256(ikm, chainingKey, EMPTY, 2 * NOISE_HASH_BYTES);
  return [out.subarray(0, NOISE_HASH_BYTES), out.subarray(NOISE_HASH_BYTES)];
}

/** A Noise SymmetricState: chaining key `ck`, handshake hash `h` and a CipherState. */
export class SymmetricState {
  readonly #ck: Uint8Array;
  readonly #h: Uint8Array;
  readonly #cipher: CipherState;

  private constructor(ck: Uint8Array, h: Uint8Array, cipher: CipherState) {
    this.#ck = ck;
    this.#h = h;
    this.#cipher = cipher;
  }

  /** InitializeSymmetric(protocol_name). */
  static async initialize(protocolName: string): Promise<SymmetricState> {
    const name = utf8(protocolName);
    let h: Uint8Array;
    if (name.length <= NOISE_HASH_BYTES) {
      h = new Uint8Array(NOISE_HASH_BYTES);
      h.set(name);
    } else {
      h = await sha256(name);
    }
    return new SymmetricState(h, h, CipherState.empty());
  }

  /** The handshake hash `h` (a copy). */
  get handshakeHash(): Uint8Array {
    return this.#h.slice();
  }

  /** Whether the CipherState has a key, i.e. whether EncryptAndHash encrypts. */
  get hasKey(): boolean {
    return this.#cipher.hasKey;
  }

  /** MixKey(input_key_material). */
  async mixKey(ikm: Uint8Array): Promise<SymmetricState> {
    const [ck, k] = await hkdf2(this.#ck, ikm);
    const cipher = await CipherState.create(k);
    k.fill(0);
    return new SymmetricState(ck, this.#h, cipher);
  }

  /** MixHash(data): h = HASH(h ‖ data). */
  async mixHash(data: Uint8Array): Promise<SymmetricState> {
    return new SymmetricState(this.#ck, await sha256(concat(this.#h, data)), this.#cipher);
  }

  /** EncryptAndHash(plaintext): the new state and the ciphertext. */
  async encryptAndHash(plaintext: Uint8Array): Promise<[SymmetricState, Uint8Array]> {
    const cipher = this.#cipher.copyUnsafe();
    const ciphertext = await cipher.encryptWithAd(this.#h, plaintext);
    const h = await sha256(concat(this.#h, ciphertext));
    return [new SymmetricState(this.#ck, h, cipher), ciphertext];
  }

  /**
   * DecryptAndHash(ciphertext): the new state and the plaintext. Throws `DecryptError` when the
   * ciphertext does not authenticate; this state is unchanged either way.
   */
  async decryptAndHash(ciphertext: Uint8Array): Promise<[SymmetricState, Uint8Array]> {
    const cipher = this.#cipher.copyUnsafe();
    const plaintext = await cipher.decryptWithAd(this.#h, ciphertext);
    const h = await sha256(concat(this.#h, ciphertext));
    return [new SymmetricState(this.#ck, h, cipher), plaintext];
  }

  /**
   * Split(): the initiator-to-responder and responder-to-initiator CipherStates, in that order.
   * The two 32-byte keys are imported into Web Crypto and the raw bytes wiped.
   */
  async split(): Promise<[CipherState, CipherState]> {
    const [k1, k2] = await hkdf2(this.#ck, EMPTY);
    try {
      return await Promise.all([CipherState.create(k1), CipherState.create(k2)]);
    } finally {
      k1.fill(0);
      k2.fill(0);
    }
  }

  [INSPECT](): string {
    return `SymmetricState { hasKey: ${this.hasKey}, ck: [redacted], h: [redacted] }`;
  }
  toJSON(): unknown {
    return { hasKey: this.hasKey, ck: "[redacted]", h: "[redacted]" };
  }
}
