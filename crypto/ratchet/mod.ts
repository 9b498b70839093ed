/**
 * The Double Ratchet: state values, encrypt and decrypt, and their serialisation. Sessions
 * (crypto/session.ts) combine it with PQXDH; nothing else needs the files behind this one.
 *
 * @module
 */

export {
  type ActiveState,
  type AwaitingState,
  type InitiatorStart,
  initInitiator,
  initResponder,
  MAX_PLAINTEXT_BYTES,
  MAX_SKIP,
  ratchetDecrypt,
  ratchetEncrypt,
  type RatchetOptions,
  type RatchetState,
  type ResponderDh,
  startInitiator,
  startResponderDh,
} from "./double_ratchet.ts";
export { decodeMessage, HEADER_BYTES, type MessageHeader } from "./message.ts";
export { type RatchetKeySource } from "./ratchet_key.ts";
export { MAX_SKIPPED_KEYS, SKIPPED_KEY_MAX_STEPS } from "./skipped_keys.ts";
export {
  deserializeRatchet,
  RATCHET_STATE_VERSION,
  ratchetStateSize,
  serializeRatchet,
  writeRatchet,
} from "./serialize.ts";
