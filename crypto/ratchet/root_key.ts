/**
 * The root key and KDF_RK: HKDF-SHA256 with the root key as salt and a DH output as input key
 * material (Double Ratchet §5.2). Version 1 takes 64 bytes: the next root key and a new chain key.
 * Version 2 takes 96: the next root key, the chain key for index 1 and the message key for index
 * 0, so a chain's first message (in a conversation that alternates, its only one) costs no chain
 * derivation at all. The message key is one more HKDF output block beside the chain key, as
 * secret and as independent as it, and it is deleted when used like every message key.
 *
 * @module
 */

import { assertBytes, utf8 } from "../bytes.ts";
import { RATCHET_ROOT_INFO, RATCHET_ROOT_INFO_V2 } from "../labels.ts";
import { type HkdfKey, hkdfSha256, KEY_BYTES } from "../subtle.ts";
import { ChainKey } from "./chain_key.ts";
import { MessageKey } from "./message_key.ts";

const INSPECT = Symbol.for("Deno.customInspect");
const INFO = utf8(RATCHET_ROOT_INFO);
const INFO_V2 = utf8(RATCHET_ROOT_INFO_V2);

/** A root key. Prints as `[redacted]`. */
export class RootKey {
  readonly #key: Uint8Array;

  /** Wraps 32 secret bytes (SK from PQXDH, or a stored root key). */
  constructor(key: Uint8Array) {
    assertBytes(key, KEY_BYTES, "root key");
    this.#key = key;
  }

  /** KDF_RK(rk, dhOutput): the next root key and the first key of a new chain (index 0). */
  async advance(dhOutput: Uint8Array): Promise<{ rootKey: RootKey; chainKey: ChainKey }> {
    const out = await hkdfSha256(dhOutput, this.#key, INFO, 2 * KEY_BYTES);
    return {
      rootKey: new RootKey(out.slice(0, KEY_BYTES)),
      chainKey: new ChainKey(out.slice(KEY_BYTES), 0),
    };
  }

  /**
   * Version 2's KDF_RK(rk, dhOutput): the next root key, the chain key for index 1 and the
   * message key for index 0 of the new chain. The DH output comes as bytes or, saving its import,
   * as the HKDF key X25519 derived.
   */
  async advanceV2(
    dhOutput: Uint8Array | HkdfKey,
  ): Promise<{ rootKey: RootKey; chainKey: ChainKey; firstKey: MessageKey }> {
    const out = dhOutput instanceof Uint8Array
      ? await hkdfSha256(dhOutput, this.#key, INFO_V2, 3 * KEY_BYTES)
      : await dhOutput.derive(this.#key, INFO_V2, 3 * KEY_BYTES);
    return {
      rootKey: new RootKey(out.subarray(0, KEY_BYTES)),
      chainKey: new ChainKey(out.subarray(KEY_BYTES, 2 * KEY_BYTES), 1, 2),
      firstKey: MessageKey.fromAesKey(0, out.subarray(2 * KEY_BYTES)),
    };
  }

  /** The 32 bytes, for serialising state. Unsafe: secret. */
  bytesUnsafe(): Uint8Array {
    return this.#key;
  }

  [INSPECT](): string {
    return "RootKey [redacted]";
  }
  toJSON(): string {
    return "[redacted]";
  }
}
