/**
 * A member's own sender key in one room: a chain that only moves forward and an Ed25519 key that
 * signs every message on it. Each transition returns a new state; the caller stores it before
 * the message leaves, so a crash can skip an iteration but never repeat one.
 *
 * @module
 */

import { concat, copyBytes, randomBytes, u32be } from "../bytes.ts";
import { ByteReader, ByteWriter } from "../codec.ts";
import { DecryptError, KeyError } from "../errors.ts";
import { AesGcmKey, Ed25519KeyPair, GCM_NONCE_BYTES, KEY_BYTES } from "../subtle.ts";
import { chainStep, MESSAGE_CONTEXT } from "./chain.ts";
import {
  DISTRIBUTION_ID_BYTES,
  encodeDistribution,
  encodeHeader,
  encodeSigned,
  MAX_SENDER_KEY_PLAINTEXT,
  SENDER_KEY_VERSION,
} from "./format.ts";

const INSPECT = Symbol.for("Deno.customInspect");

/** The last iteration of a chain; past it the member must rotate to a new sender key. */
export const MAX_SENDER_KEY_ITERATION = 0xffff_ffff;

/** `MESSAGE_CONTEXT ‖ bytes ‖ u32 length of ad ‖ ad`: what is signed, or the AES-GCM AD. */
export function bind(bytes: Uint8Array, ad: Uint8Array): Uint8Array<ArrayBuffer> {
  return concat(MESSAGE_CONTEXT, bytes, u32be(ad.length), ad);
}

/** One member's sending chain in one room. Prints without its keys. */
export class SenderKeyState {
  readonly #chainKey: Uint8Array;
  readonly #signing: Ed25519KeyPair;

  private constructor(
    readonly distributionId: Uint8Array,
    readonly chainId: number,
    /** The iteration the next message uses. */
    readonly iteration: number,
    chainKey: Uint8Array,
    signing: Ed25519KeyPair,
  ) {
    this.#chainKey = chainKey;
    this.#signing = signing;
  }

  /**
   * A fresh sender key: a random chain id, chain key and signing key. Rotation is this: a new
   * state, distributed again, under the same distribution id.
   */
  static async create(
    distributionId: Uint8Array = randomBytes(DISTRIBUTION_ID_BYTES),
  ): Promise<SenderKeyState> {
    if (distributionId.length !== DISTRIBUTION_ID_BYTES) {
      throw new RangeError(`distribution id: expected 16 bytes, got ${distributionId.length}`);
    }
    const chainId = new DataView(randomBytes(4).buffer).getUint32(0);
    return new SenderKeyState(
      copyBytes(distributionId),
      chainId,
      0,
      randomBytes(KEY_BYTES),
      await Ed25519KeyPair.generate(),
    );
  }

  /** The public signing key. */
  get signingKey(): Uint8Array {
    return this.#signing.publicKey;
  }

  /** What the other members need to read from the next message on (never earlier ones). */
  distribution(): Uint8Array<ArrayBuffer> {
    return encodeDistribution({
      distributionId: this.distributionId,
      chainId: this.chainId,
      iteration: this.iteration,
      chainKey: this.#chainKey,
      signingKey: this.#signing.publicKey,
    });
  }

  /**
   * Encrypts `plaintext` once for every member, bound to `ad` (the room and sender, which the
   * receiver must give the same), and signs it. Returns the message and the next state.
   */
  async encrypt(
    plaintext: Uint8Array,
    ad: Uint8Array,
  ): Promise<{ message: Uint8Array<ArrayBuffer>; next: SenderKeyState }> {
    if (plaintext.length > MAX_SENDER_KEY_PLAINTEXT) {
      throw new RangeError(
        `plaintext: expected at most ${MAX_SENDER_KEY_PLAINTEXT} bytes, got ${plaintext.length}`,
      );
    }
    if (this.iteration >= MAX_SENDER_KEY_ITERATION) {
      throw new DecryptError("nonce_exhausted", "this sender key is used up; rotate it");
    }
    const { next, messageKey } = await chainStep(this.#chainKey);
    // A random nonce, so even a repeated message key (two processes on one state) never
    // repeats a (key, nonce) pair.
    const nonce = randomBytes(GCM_NONCE_BYTES);
    const header = encodeHeader(this.distributionId, this.chainId, this.iteration, nonce);
    const key = await AesGcmKey.import(messageKey);
    const ciphertext = await key.seal(nonce, plaintext, bind(header, ad));
    const signed = encodeSigned(header, ciphertext);
    const signature = await this.#signing.sign(bind(signed, ad));
    return {
      message: concat(signed, signature),
      next: new SenderKeyState(
        this.distributionId,
        this.chainId,
        this.iteration + 1,
        next,
        this.#signing,
      ),
    };
  }

  /** The state as bytes, keys included: store it only encrypted. */
  serializeUnsafe(): Uint8Array<ArrayBuffer> {
    return new ByteWriter().u8(SENDER_KEY_VERSION).bytes(this.distributionId).u32(this.chainId)
      .u32(this.iteration).bytes(this.#chainKey).bytes(this.#signing.seedUnsafe()).finish();
  }

  /** The state {@linkcode serializeUnsafe} wrote; `KeyError("bad_encoding")` otherwise. */
  static async deserialize(bytes: Uint8Array): Promise<SenderKeyState> {
    const r = new ByteReader(bytes, (m) => new KeyError("bad_encoding", `sender key state: ${m}`));
    if (r.u8("version") !== SENDER_KEY_VERSION) {
      throw new KeyError("bad_encoding", "sender key state: unknown version");
    }
    const distributionId = r.bytes(DISTRIBUTION_ID_BYTES, "distribution id");
    const chainId = r.u32("chain id");
    const iteration = r.u32("iteration");
    const chainKey = r.bytes(KEY_BYTES, "chain key");
    const seed = r.bytes(KEY_BYTES, "signing key");
    r.end("sender key state");
    return new SenderKeyState(
      distributionId,
      chainId,
      iteration,
      chainKey,
      await Ed25519KeyPair.fromSeed(seed),
    );
  }

  [INSPECT](): string {
    return `SenderKeyState { chainId: ${this.chainId}, iteration: ${this.iteration}, keys: [redacted] }`;
  }
  toJSON(): unknown {
    return { chainId: this.chainId, iteration: this.iteration, keys: "[redacted]" };
  }
}
