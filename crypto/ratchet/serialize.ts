/**
 * Ratchet state to bytes and back, for a client that persists its sessions.
 *
 * Format (version 1, big-endian):
 * ```
 * u8 version ‖ u8 kind (1 awaiting, 2 active) ‖ u32 len ‖ AD ‖ root key (32)
 * ‖ our ratchet public (32) ‖ our ratchet private (32) ‖ u32 steps
 * ‖ u32 n ‖ n × (peer ratchet key (32) ‖ u32 step ‖ key)            skipped keys, oldest first
 * active only: u32 PN ‖ chain (sending) ‖ u8 has receiving ‖ [peer ratchet key (32) ‖ chain]
 * chain = chain key (32) ‖ u64 index ‖ u8 n ‖ n × key
 * key   = u8 form (0 seed, 1 material) ‖ u32 index ‖ 32 or 44 bytes
 * ```
 * Restoring parses only: no key is imported until a message needs it, so a client can load a
 * session per message cheaply.
 *
 * @module
 */

import { ByteReader, ByteWriter } from "../codec.ts";
import { DecryptError } from "../errors.ts";
import { KEY_BYTES } from "../subtle.ts";
import { ChainKey } from "./chain_key.ts";
import type { ActiveState, RatchetState } from "./double_ratchet.ts";
import { MESSAGE_KEY_MATERIAL_BYTES, MessageKey } from "./message_key.ts";
import { RatchetKeyPair } from "./ratchet_key.ts";
import { ReceiverChain } from "./receiver_chain.ts";
import { RootKey } from "./root_key.ts";
import { MAX_SKIPPED_KEYS, type SkippedKey, SkippedKeys } from "./skipped_keys.ts";
import { PREFETCH_KEYS, SymmetricChain } from "./symmetric_chain.ts";

/** Version byte of the serialised ratchet state. */
export const RATCHET_STATE_VERSION = 0x01;
/** Largest associated data a stored state may carry (PQXDH's AD is 130 bytes). */
export const MAX_STATE_AD_BYTES = 1024;

const Kind = { awaiting: 1, active: 2 } as const;
const Form = { seed: 0, material: 1 } as const;

function writeKey(w: ByteWriter, key: MessageKey): void {
  w.u8(Form[key.form]).u32(key.index).bytes(key.bytesUnsafe());
}

function writeChain(w: ByteWriter, chain: SymmetricChain): void {
  w.bytes(chain.head.bytesUnsafe()).u64(chain.head.index).u8(chain.ahead.length);
  for (const key of chain.ahead) writeKey(w, key);
}

/** The state as bytes. Secret: store it only sealed under the account key. */
export function serializeRatchet(state: RatchetState): Uint8Array<ArrayBuffer> {
  const w = new ByteWriter()
    .u8(RATCHET_STATE_VERSION)
    .u8(Kind[state.kind])
    .blob(state.ad)
    .bytes(state.rootKey.bytesUnsafe())
    .bytes(state.ratchetKey.publicKey)
    .bytes(state.ratchetKey.privateBytesUnsafe())
    .u32(state.steps)
    .u32(state.skipped.size);
  for (const e of state.skipped.entries) {
    w.bytes(e.ratchetKey).u32(e.step);
    writeKey(w, e.key);
  }
  if (state.kind === "active") {
    w.u32(state.previousCounter);
    writeChain(w, state.sending);
    w.u8(state.receiving ? 1 : 0);
    if (state.receiving) {
      w.bytes(state.receiving.ratchetKey);
      writeChain(w, state.receiving.chain);
    }
  }
  return w.finish();
}

function readKey(r: ByteReader): MessageKey {
  const form = r.u8("key form");
  const index = r.u32("key index");
  if (form === Form.seed) return MessageKey.fromSeed(index, r.bytes(KEY_BYTES, "message key"));
  if (form === Form.material) {
    return MessageKey.fromMaterial(index, r.bytes(MESSAGE_KEY_MATERIAL_BYTES, "message key"));
  }
  throw new DecryptError("bad_format", `ratchet state: unknown key form ${form}`);
}

function readChain(r: ByteReader): SymmetricChain {
  const head = new ChainKey(r.bytes(KEY_BYTES, "chain key"), r.u64("chain index"));
  const n = r.u8("keys ahead");
  if (n > PREFETCH_KEYS) {
    throw new DecryptError(
      "bad_format",
      `ratchet state: ${n} keys ahead, at most ${PREFETCH_KEYS}`,
    );
  }
  const ahead = Array.from({ length: n }, () => readKey(r));
  try {
    return SymmetricChain.restore(head, ahead);
  } catch (e) {
    throw new DecryptError("bad_format", `ratchet state: ${(e as Error).message}`);
  }
}

/** Restores {@linkcode serializeRatchet}'s bytes; `DecryptError("bad_format")` otherwise. */
export function deserializeRatchet(bytes: Uint8Array): RatchetState {
  const r = new ByteReader(bytes, (m) => new DecryptError("bad_format", `ratchet state: ${m}`));
  const version = r.u8("version");
  if (version !== RATCHET_STATE_VERSION) {
    throw new DecryptError(
      "bad_format",
      `ratchet state: expected version ${RATCHET_STATE_VERSION}, got ${version}`,
    );
  }
  const kind = r.u8("kind");
  const ad = r.blob(MAX_STATE_AD_BYTES, "AD");
  const rootKey = new RootKey(r.bytes(KEY_BYTES, "root key"));
  const publicKey = r.bytes(KEY_BYTES, "ratchet public key");
  const ratchetKey = RatchetKeyPair.restore(r.bytes(KEY_BYTES, "ratchet private key"), publicKey);
  const steps = r.u32("steps");
  const count = r.u32("skipped keys");
  if (count > MAX_SKIPPED_KEYS) {
    throw new DecryptError("bad_format", `ratchet state: ${count} skipped keys`);
  }
  const entries: SkippedKey[] = [];
  for (let i = 0; i < count; i++) {
    const ratchet = r.bytes(KEY_BYTES, "skipped ratchet key");
    const step = r.u32("skipped step");
    entries.push({ ratchetKey: ratchet, step, key: readKey(r) });
  }
  const base = { ad, rootKey, ratchetKey, steps, skipped: SkippedKeys.restore(entries) };
  if (kind === Kind.awaiting) {
    r.end("ratchet state");
    return { kind: "awaiting", ...base };
  }
  if (kind !== Kind.active) {
    throw new DecryptError("bad_format", `ratchet state: unknown kind ${kind}`);
  }
  const previousCounter = r.u32("PN");
  const sending = readChain(r);
  const hasReceiving = r.u8("has receiving chain");
  let receiving: ReceiverChain | null = null;
  if (hasReceiving === 1) {
    const theirs = r.bytes(KEY_BYTES, "receiving ratchet key");
    receiving = new ReceiverChain(theirs, readChain(r));
  } else if (hasReceiving !== 0) {
    throw new DecryptError("bad_format", `ratchet state: receiving flag ${hasReceiving}`);
  }
  r.end("ratchet state");
  const state: ActiveState = { kind: "active", ...base, previousCounter, sending, receiving };
  return state;
}
