/**
 * The two CipherStates a finished handshake yields, already assigned to this side's roles.
 *
 * @module
 */

import type { CipherState } from "./cipher_state.ts";

const INSPECT = Symbol.for("Deno.customInspect");

/**
 * Transport keys after a Noise handshake: `send` encrypts what this side sends, `receive` decrypts
 * what the peer sends. Messages use empty associated data unless the caller's protocol says
 * otherwise, and each CipherState refuses to go past nonce 2^64-2.
 */
export class TransportState {
  /** Build from the CipherStates of Split(), with the roles already applied. */
  constructor(readonly send: CipherState, readonly receive: CipherState) {}

  [INSPECT](): string {
    return `TransportState { send: nonce ${this.send.nonce}, receive: nonce ${this.receive.nonce}, keys: [redacted] }`;
  }
  toJSON(): unknown {
    return { send: this.send.toJSON(), receive: this.receive.toJSON() };
  }
}
