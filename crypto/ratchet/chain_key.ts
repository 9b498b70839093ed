/**
 * A chain key and KDF_CK.
 *
 * Version 1: mk = HMAC-SHA256(ck, 0x01), ck' = HMAC-SHA256(ck, 0x02) (Double Ratchet §5.2,
 * Signal's recommended constants), one step per message.
 *
 * Version 2: one HKDF-SHA256 of ck_i (zero salt, {@linkcode RATCHET_CHAIN_INFO_V2}) gives
 * ck_{i+B} ‖ mk_i ‖ … ‖ mk_{i+B-1}, B = {@linkcode CHAIN_BATCH_KEYS}: one derivation per B
 * messages. Every output is as secret as ck_i and as independent of the others as HKDF's PRF
 * makes them, so the batch is, for an attacker who steals the state, exactly what ck_i was: the
 * keys of messages not yet read, and nothing about messages already read (their keys were
 * deleted when used). See docs/design.md.
 *
 * @module
 */

import { assertBytes, utf8 } from "../bytes.ts";
import { CHAIN_MESSAGE_KEY_BYTE, CHAIN_NEXT_KEY_BYTE, RATCHET_CHAIN_INFO_V2 } from "../labels.ts";
import { hkdfSha256, HmacKey, KEY_BYTES } from "../subtle.ts";
import type { RatchetVersion } from "./message.ts";
import { MessageKey } from "./message_key.ts";

const INSPECT = Symbol.for("Deno.customInspect");
const MESSAGE_INPUT = Uint8Array.of(CHAIN_MESSAGE_KEY_BYTE);
const NEXT_INPUT = Uint8Array.of(CHAIN_NEXT_KEY_BYTE);
const CHAIN_INFO_V2 = utf8(RATCHET_CHAIN_INFO_V2);
const EMPTY = new Uint8Array(0);

/** Largest message index: the header carries it as a u32. */
export const MAX_CHAIN_INDEX = 0xffff_ffff;

/**
 * Version 2: message keys one chain derivation yields. Larger saves derivations on long bursts
 * but holds more keys in the state and derives keys a short chain never uses.
 */
export const CHAIN_BATCH_KEYS = 8;

/** The chain key that derives the message key numbered `index`. Prints as `[redacted]`. */
export class ChainKey {
  readonly #key: Uint8Array;

  constructor(key: Uint8Array, readonly index: number, readonly version: RatchetVersion = 1) {
    assertBytes(key, KEY_BYTES, "chain key");
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new RangeError(`chain index: expected a non-negative integer, got ${index}`);
    }
    this.#key = key;
  }

  /** Version 1's KDF_CK: the message key for `index` and the chain key for `index + 1`. */
  async next(): Promise<{ messageKey: MessageKey; chainKey: ChainKey }> {
    if (this.version !== 1) throw new TypeError("next() is version 1's KDF_CK; use batch()");
    const hmac = await HmacKey.import(this.#key);
    // The two HMACs are independent; issuing them together halves the latency of a step.
    const [mk, ck] = await Promise.all([hmac.sign(MESSAGE_INPUT), hmac.sign(NEXT_INPUT)]);
    return {
      messageKey: MessageKey.fromSeed(this.index, mk),
      chainKey: new ChainKey(ck, this.index + 1),
    };
  }

  /**
   * Version 2's KDF_CK: the message keys for `index` .. `index + B - 1` (pushed onto `into`) and
   * the chain key for `index + B`, from one HKDF.
   */
  async batch(into: MessageKey[]): Promise<ChainKey> {
    if (this.version !== 2) throw new TypeError("batch() is version 2's KDF_CK; use next()");
    const out = await hkdfSha256(
      this.#key,
      EMPTY,
      CHAIN_INFO_V2,
      (CHAIN_BATCH_KEYS + 1) * KEY_BYTES,
    );
    for (let i = 0; i < CHAIN_BATCH_KEYS; i++) {
      const at = (i + 1) * KEY_BYTES;
      into.push(MessageKey.fromAesKey(this.index + i, out.subarray(at, at + KEY_BYTES)));
    }
    return new ChainKey(out.subarray(0, KEY_BYTES), this.index + CHAIN_BATCH_KEYS, 2);
  }

  /** The 32 bytes, for serialising state. Unsafe: secret. */
  bytesUnsafe(): Uint8Array {
    return this.#key;
  }

  [INSPECT](): string {
    return `ChainKey { index: ${this.index}, key: [redacted] }`;
  }
  toJSON(): unknown {
    return { index: this.index, key: "[redacted]" };
  }
}
