/**
 * One step of a sender-key chain: one HKDF call turns the chain key into the next chain key and
 * this iteration's AES-256 message key. The chain only moves forward, so a member who holds a
 * chain key reads from that iteration on and never what came before it.
 *
 * @module
 */

import { utf8 } from "../bytes.ts";
import { SENDER_KEY_CHAIN_INFO, SENDER_KEY_MESSAGE_CONTEXT } from "../labels.ts";
import { hkdfSha256, KEY_BYTES } from "../subtle.ts";

const CHAIN_INFO = utf8(SENDER_KEY_CHAIN_INFO);
/** The prefix of signed bytes and associated data. */
export const MESSAGE_CONTEXT = utf8(SENDER_KEY_MESSAGE_CONTEXT);

/** The chain key after this one, and this iteration's message key. */
export async function chainStep(
  chainKey: Uint8Array,
): Promise<{ next: Uint8Array<ArrayBuffer>; messageKey: Uint8Array<ArrayBuffer> }> {
  const out = await hkdfSha256(chainKey, new Uint8Array(0), CHAIN_INFO, 2 * KEY_BYTES);
  return { next: out.slice(0, KEY_BYTES), messageKey: out.slice(KEY_BYTES) };
}
