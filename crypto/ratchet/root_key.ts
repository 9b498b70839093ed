/**
 * The root key and KDF_RK: HKDF-SHA256 with the root key as salt and a DH output as input key
 * material gives 64 bytes, the next root key and a new chain key (Double Ratchet §5.2).
 *
 * @module
 */

import { assertBytes, utf8 } from "../bytes.ts";
import { RATCHET_ROOT_INFO } from "../labels.ts";
import { hkdfSha256, KEY_BYTES } from "../subtle.ts";
import { ChainKey } from "./chain_key.ts";

const INSPECT = Symbol.for("Deno.customInspect");
const INFO = utf8(RATCHET_ROOT_INFO);

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
