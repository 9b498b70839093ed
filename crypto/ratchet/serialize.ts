/**
 * Ratchet state to bytes and back, for a client that persists its sessions.
 *
 * Format 1 (version 1 states and awaiting states, big-endian):
 * ```
 * u8 1 ‖ u8 kind (1 awaiting, 2 active) ‖ u32 len ‖ AD ‖ root key (32)
 * ‖ our ratchet public (32) ‖ our ratchet private (32) ‖ u32 steps
 * ‖ u32 n ‖ n × (peer ratchet key (32) ‖ u32 step ‖ key)            skipped keys, oldest first
 * active only: u32 PN ‖ chain (sending) ‖ u8 has receiving ‖ [peer ratchet key (32) ‖ chain]
 * chain = chain key (32) ‖ u64 index ‖ u8 n ‖ n × key
 * key   = u8 form (0 seed, 1 material) ‖ u32 index ‖ 32 or 44 bytes
 * ```
 * Format 2 (version 2 active states): the same fields, every message key in its one form (the
 * 32-byte AES key) and the keys ahead of a chain without their index (they end at the head):
 * ```
 * u8 2 ‖ u8 kind (2) ‖ u32 len ‖ AD ‖ root key ‖ our ratchet public ‖ our ratchet private
 * ‖ u32 steps ‖ u32 n ‖ n × (peer ratchet key (32) ‖ u32 step ‖ u32 index ‖ key (32))
 * ‖ u32 PN ‖ u8 has sending ‖ [chain] ‖ u8 has receiving ‖ [peer ratchet key (32) ‖ chain]
 * chain = chain key (32) ‖ u64 index ‖ u8 n ‖ n × key (32)
 * ```
 * Writing sizes the output first and fills one buffer, with no growth and no copy at the end.
 * Restoring parses only, and a format 2 state keeps views into the bytes given rather than
 * copies (the caller hands over bytes it owns, as a freshly decrypted record is): no key is
 * imported until a message needs it, so a client can load a session per message cheaply.
 *
 * @module
 */

import { ByteReader, ByteWriter } from "../codec.ts";
import { DecryptError } from "../errors.ts";
import { KEY_BYTES } from "../subtle.ts";
import { ChainKey } from "./chain_key.ts";
import type { ActiveState, RatchetState } from "./double_ratchet.ts";
import type { RatchetVersion } from "./message.ts";
import { MESSAGE_KEY_MATERIAL_BYTES, MessageKey } from "./message_key.ts";
import { RatchetKeyPair } from "./ratchet_key.ts";
import { ReceiverChain } from "./receiver_chain.ts";
import { RootKey } from "./root_key.ts";
import { MAX_SKIPPED_KEYS, type SkippedKey, SkippedKeys } from "./skipped_keys.ts";
import { SymmetricChain } from "./symmetric_chain.ts";

/** Format byte of version 1 and awaiting states. */
export const RATCHET_STATE_VERSION = 0x01;
/** Format byte of version 2 active states. */
export const RATCHET_STATE_VERSION_V2 = 0x02;
/** Largest associated data a stored state may carry (PQXDH's AD is 130 bytes). */
export const MAX_STATE_AD_BYTES = 1024;

const Kind = { awaiting: 1, active: 2 } as const;
const Form = { seed: 0, material: 1 } as const;

function formatOf(state: RatchetState): RatchetVersion {
  return state.kind === "active" && state.version === 2 ? 2 : 1;
}

function keySize(format: RatchetVersion, key: MessageKey): number {
  // Format 1: form and index before the bytes; format 2: the 32 bytes alone.
  return format === 2 ? KEY_BYTES : 5 + key.bytesUnsafe().length;
}

function chainSize(format: RatchetVersion, chain: SymmetricChain): number {
  let n = KEY_BYTES + 8 + 1;
  for (const key of chain.ahead) n += keySize(format, key);
  return n;
}

/** Bytes {@linkcode writeRatchet} writes for `state`. */
export function ratchetStateSize(state: RatchetState): number {
  const format = formatOf(state);
  let n = 2 + 4 + state.ad.length + 3 * KEY_BYTES + 4 + 4;
  for (const e of state.skipped.entries) {
    n += KEY_BYTES + 4 + (format === 2 ? 4 : 0) + keySize(format, e.key);
  }
  if (state.kind === "active") {
    n += 4 + (format === 2 ? 1 : 0) + (state.sending ? chainSize(format, state.sending) : 0) + 1;
    if (state.receiving) n += KEY_BYTES + chainSize(format, state.receiving.chain);
  }
  return n;
}

function writeKey(w: ByteWriter, format: RatchetVersion, key: MessageKey): void {
  if (format === 2) w.bytes(key.bytesUnsafe());
  else w.u8(Form[key.form as "seed" | "material"]).u32(key.index).bytes(key.bytesUnsafe());
}

function writeChain(w: ByteWriter, format: RatchetVersion, chain: SymmetricChain): void {
  w.bytes(chain.head.bytesUnsafe()).u64(chain.head.index).u8(chain.ahead.length);
  for (const key of chain.ahead) writeKey(w, format, key);
}

/** Appends the state to `w` (as {@linkcode serializeRatchet} encodes it). */
export function writeRatchet(w: ByteWriter, state: RatchetState): void {
  const format = formatOf(state);
  w.u8(format === 2 ? RATCHET_STATE_VERSION_V2 : RATCHET_STATE_VERSION)
    .u8(Kind[state.kind])
    .blob(state.ad)
    .bytes(state.rootKey.bytesUnsafe())
    .bytes(state.ratchetKey.publicKey)
    .bytes(state.ratchetKey.privateBytesUnsafe())
    .u32(state.steps)
    .u32(state.skipped.size);
  for (const e of state.skipped.entries) {
    w.bytes(e.ratchetKey).u32(e.step);
    if (format === 2) w.u32(e.key.index);
    writeKey(w, format, e.key);
  }
  if (state.kind === "active") {
    w.u32(state.previousCounter);
    if (format === 2) w.u8(state.sending ? 1 : 0);
    if (state.sending) writeChain(w, format, state.sending);
    w.u8(state.receiving ? 1 : 0);
    if (state.receiving) {
      w.bytes(state.receiving.ratchetKey);
      writeChain(w, format, state.receiving.chain);
    }
  }
}

/** The state as bytes. Secret: store it only sealed under the account key. */
export function serializeRatchet(state: RatchetState): Uint8Array<ArrayBuffer> {
  const w = new ByteWriter(ratchetStateSize(state));
  writeRatchet(w, state);
  return w.finish();
}

const badFormat = (m: string) => new DecryptError("bad_format", `ratchet state: ${m}`);

function readKey(r: ByteReader, format: RatchetVersion, index: number): MessageKey {
  if (format === 2) return MessageKey.fromAesKey(index, r.view(KEY_BYTES, "message key"));
  const form = r.u8("key form");
  const at = r.u32("key index");
  if (form === Form.seed) return MessageKey.fromSeed(at, r.bytes(KEY_BYTES, "message key"));
  if (form === Form.material) {
    return MessageKey.fromMaterial(at, r.bytes(MESSAGE_KEY_MATERIAL_BYTES, "message key"));
  }
  throw badFormat(`unknown key form ${form}`);
}

function readChain(r: ByteReader, format: RatchetVersion): SymmetricChain {
  const bytes = format === 2 ? r.view(KEY_BYTES, "chain key") : r.bytes(KEY_BYTES, "chain key");
  const head = new ChainKey(bytes, r.u64("chain index"), format);
  const n = r.u8("keys ahead");
  if (n > head.index) throw badFormat(`${n} keys ahead of index ${head.index}`);
  const ahead: MessageKey[] = [];
  for (let i = 0; i < n; i++) ahead.push(readKey(r, format, head.index - n + i));
  try {
    return SymmetricChain.restore(head, ahead);
  } catch (e) {
    throw badFormat((e as Error).message);
  }
}

/**
 * Restores {@linkcode serializeRatchet}'s bytes (either format); `DecryptError("bad_format")`
 * otherwise. A format 2 state keeps views into `bytes`: do not change them afterwards.
 */
export function deserializeRatchet(bytes: Uint8Array): RatchetState {
  const r = new ByteReader(bytes, badFormat);
  const byte = r.u8("version");
  if (byte !== RATCHET_STATE_VERSION && byte !== RATCHET_STATE_VERSION_V2) {
    throw badFormat(
      `expected version ${RATCHET_STATE_VERSION} or ${RATCHET_STATE_VERSION_V2}, got ${byte}`,
    );
  }
  const format: RatchetVersion = byte === RATCHET_STATE_VERSION ? 1 : 2;
  const kind = r.u8("kind");
  if (kind !== Kind.active && (kind !== Kind.awaiting || format === 2)) {
    throw badFormat(`unknown kind ${kind}`);
  }
  const ad = r.blob(MAX_STATE_AD_BYTES, "AD");
  const rootKey = new RootKey(r.bytes(KEY_BYTES, "root key"));
  const publicKey = r.bytes(KEY_BYTES, "ratchet public key");
  const ratchetKey = RatchetKeyPair.restore(r.bytes(KEY_BYTES, "ratchet private key"), publicKey);
  const steps = r.u32("steps");
  const count = r.u32("skipped keys");
  if (count > MAX_SKIPPED_KEYS) throw badFormat(`${count} skipped keys`);
  const entries: SkippedKey[] = [];
  for (let i = 0; i < count; i++) {
    const ratchet = r.bytes(KEY_BYTES, "skipped ratchet key");
    const step = r.u32("skipped step");
    const key = readKey(r, format, format === 2 ? r.u32("skipped index") : 0);
    entries.push({ ratchetKey: ratchet, step, key });
  }
  const skipped = SkippedKeys.restore(entries);
  if (kind === Kind.awaiting) {
    r.end("ratchet state");
    return { kind: "awaiting", ad, rootKey, ratchetKey, steps, skipped };
  }
  const previousCounter = r.u32("PN");
  const hasSending = format === 2 ? r.u8("has sending chain") : 1;
  if (hasSending > 1) throw badFormat(`sending flag ${hasSending}`);
  const sending = hasSending ? readChain(r, format) : null;
  const hasReceiving = r.u8("has receiving chain");
  let receiving: ReceiverChain | null = null;
  if (hasReceiving === 1) {
    const theirs = r.bytes(KEY_BYTES, "receiving ratchet key");
    receiving = new ReceiverChain(theirs, readChain(r, format));
  } else if (hasReceiving !== 0) {
    throw badFormat(`receiving flag ${hasReceiving}`);
  }
  if (!sending && !receiving) throw badFormat("neither a sending nor a receiving chain");
  r.end("ratchet state");
  const state: ActiveState = {
    kind: "active",
    version: format,
    ad,
    rootKey,
    ratchetKey,
    skipped,
    steps,
    sending,
    previousCounter,
    receiving,
  };
  return state;
}
