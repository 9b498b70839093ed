/**
 * Sender keys, as Signal's groups use them: each member has a sending chain and a signing key per
 * room, hands them to the others over pairwise sessions, and encrypts each room message once.
 * When anyone leaves or is removed, every remaining member rotates (a new {@linkcode
 * SenderKeyState}) before their next message, so the one who left reads nothing after.
 *
 * @example
 * ```ts
 * import { SenderKeyRecord, SenderKeyState } from "./mod.ts";
 * const alice = await SenderKeyState.create();
 * const bobHolds = SenderKeyRecord.empty.withDistribution(alice.distribution());
 * const ad = new TextEncoder().encode("room id and sender");
 * const { message } = await alice.encrypt(new TextEncoder().encode("hi all"), ad);
 * const { plaintext } = await bobHolds.decrypt(message, ad);
 * console.log(new TextDecoder().decode(plaintext)); // "hi all"
 * ```
 *
 * @module
 */

export {
  decodeDistribution,
  DISTRIBUTION_ID_BYTES,
  MAX_SENDER_KEY_PLAINTEXT,
  type SenderKeyDistribution,
} from "./format.ts";
export { MAX_SENDER_KEY_ITERATION, SenderKeyState } from "./sender.ts";
export {
  MAX_SENDER_KEY_SKIP,
  MAX_SENDER_KEY_STATES,
  MAX_SKIPPED_SENDER_KEYS,
  SenderKeyRecord,
} from "./receiver.ts";
