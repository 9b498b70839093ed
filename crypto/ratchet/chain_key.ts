/**
 * A chain key and KDF_CK: mk = HMAC-SHA256(ck, 0x01), ck' = HMAC-SHA256(ck, 0x02) (Double
 * Ratchet §5.2, Signal's recommended constants).
 *
 * @module
 */

import { assertBytes } from "../bytes.ts";
import { CHAIN_MESSAGE_KEY_BYTE, CHAIN_NEXT_KEY_BYTE } from "../labels.ts";
import { HmacKey, KEY_BYTES } from "../subtle.ts";
import { MessageKey } from "./message_key.ts";

const INSPECT = Symbol.for("Deno.customInspect");
const MESSAGE_INPUT = Uint8Array.of(CHAIN_MESSAGE_KEY_BYTE);
const NEXT_INPUT = Uint8Array.of(CHAIN_NEXT_KEY_BYTE);

/** Largest message index: the header carries it as a u32. */
export const MAX_CHAIN_INDEX = 0xffff_ffff;

/** The chain key that derives the message key numbered `index`. Prints as `[redacted]`. */
export class ChainKey {
  readonly #key: Uint8Array;

  constructor(key: Uint8Array, readonly index: number) {
    assertBytes(key, KEY_BYTES, "chain key");
    if (!Number.isSafeInteger(index) || index < 0) {
      throw new RangeError(`chain index: expected a non-negative integer, got ${index}`);
    }
    this.#key = key;
  }

  /** KDF_CK: the message key for `index` and the chain key for `index + 1`. */
  async next(): Promise<{ messageKey: MessageKey; chainKey: ChainKey }> {
    const hmac = await HmacKey.import(this.#key);
    // The two HMACs are independent; issuing them together halves the latency of a step.
    const [mk, ck] = await Promise.all([hmac.sign(MESSAGE_INPUT), hmac.sign(NEXT_INPUT)]);
    return {
      messageKey: MessageKey.fromSeed(this.index, mk),
      chainKey: new ChainKey(ck, this.index + 1),
    };
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
