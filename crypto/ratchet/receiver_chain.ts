/**
 * A receiving chain: the peer's ratchet public key and the chain its DH output started.
 *
 * @module
 */

import { equalBytes, toHex } from "../bytes.ts";
import type { SymmetricChain } from "./symmetric_chain.ts";

const INSPECT = Symbol.for("Deno.customInspect");

/** The chain for messages under one of the peer's ratchet keys. Immutable. */
export class ReceiverChain {
  constructor(
    /** The peer's ratchet public key (32 bytes) that headers of this chain carry. */
    readonly ratchetKey: Uint8Array,
    readonly chain: SymmetricChain,
  ) {}

  /** True when a header's ratchet key is this chain's. */
  belongsTo(ratchetKey: Uint8Array): boolean {
    return equalBytes(this.ratchetKey, ratchetKey);
  }

  /** The same ratchet key with the chain advanced. */
  withChain(chain: SymmetricChain): ReceiverChain {
    return new ReceiverChain(this.ratchetKey, chain);
  }

  [INSPECT](): string {
    return `ReceiverChain { ratchetKey: ${
      toHex(this.ratchetKey)
    }, nextIndex: ${this.chain.nextIndex} }`;
  }
  toJSON(): unknown {
    return { ratchetKey: toHex(this.ratchetKey), nextIndex: this.chain.nextIndex };
  }
}
