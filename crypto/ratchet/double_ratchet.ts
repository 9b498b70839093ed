/**
 * The Double Ratchet (signal.org/docs/specifications/doubleratchet) as explicit state values.
 *
 * A state is one of two kinds:
 * - `awaiting`: the responder right after PQXDH; its ratchet key is its signed prekey, and it can
 *   neither send nor receive on a chain until the initiator's first message arrives.
 * - `active`: a sending chain, and a receiving chain once the peer has sent.
 *
 * {@linkcode ratchetEncrypt} and {@linkcode ratchetDecrypt} return a new state and never change
 * the one given, so when a message fails to authenticate (tampered header, body or AD, a replay)
 * the caller still holds the state it had, exactly as before.
 *
 * @module
 */

import { concat } from "../bytes.ts";
import { DecryptError, HandshakeError, KeyError } from "../errors.ts";
import { GCM_TAG_BYTES, type X25519KeyPair } from "../subtle.ts";
import { MAX_CHAIN_INDEX } from "./chain_key.ts";
import { decodeMessage, encodeHeader, type MessageHeader } from "./message.ts";
import type { MessageKey } from "./message_key.ts";
import { RatchetKeyPair, type RatchetKeySource } from "./ratchet_key.ts";
import { ReceiverChain } from "./receiver_chain.ts";
import { RootKey } from "./root_key.ts";
import { SkippedKeys } from "./skipped_keys.ts";
import { SymmetricChain } from "./symmetric_chain.ts";

/** Most message keys one received message may make us skip in one chain (the spec's MAX_SKIP). */
export const MAX_SKIP = 1000;

/** Largest plaintext one ratchet message carries (larger application data is split above). */
export const MAX_PLAINTEXT_BYTES = 1 << 20;

/** Options of the ratchet operations. */
export interface RatchetOptions {
  /** For deterministic test vectors only: supplies each new ratchet key pair. */
  ratchetKeysForVectorsOnly?: RatchetKeySource;
}

interface BaseState {
  /** PQXDH's AD, prefixed to every header in the associated data. */
  readonly ad: Uint8Array;
  readonly rootKey: RootKey;
  /** DHs: our current ratchet key pair. */
  readonly ratchetKey: RatchetKeyPair;
  readonly skipped: SkippedKeys;
  /** DH ratchet steps taken on receiving; skipped keys expire by it. */
  readonly steps: number;
}

/** The responder before the first message: DHs is the signed prekey, RK is SK. */
export interface AwaitingState extends BaseState {
  readonly kind: "awaiting";
}

/** A ratchet that can send (and receive, once the peer has sent). */
export interface ActiveState extends BaseState {
  readonly kind: "active";
  readonly sending: SymmetricChain;
  /** PN: the length of our previous sending chain, sent in every header of this one. */
  readonly previousCounter: number;
  readonly receiving: ReceiverChain | null;
}

/** A Double Ratchet state. */
export type RatchetState = AwaitingState | ActiveState;

/**
 * The initiator's first state (RatchetInitAlice): a fresh ratchet key, DHr = the responder's
 * signed prekey, (RK, CKs) = KDF_RK(SK, DH(DHs, DHr)).
 */
export async function initInitiator(
  sharedKey: Uint8Array,
  ad: Uint8Array,
  theirSignedPrekey: Uint8Array,
  options: RatchetOptions = {},
): Promise<ActiveState> {
  const ratchetKey = await RatchetKeyPair.generate(options.ratchetKeysForVectorsOnly);
  const { rootKey, chainKey } = await new RootKey(sharedKey).advance(
    await ratchetKey.dh(theirSignedPrekey),
  );
  return {
    kind: "active",
    ad,
    rootKey,
    ratchetKey,
    skipped: SkippedKeys.empty,
    steps: 0,
    // Only the first key is derived ahead: see ratchetEncrypt on prefetching.
    sending: await SymmetricChain.start(chainKey).prefetched(1),
    previousCounter: 0,
    receiving: null,
  };
}

/** The responder's first state (RatchetInitBob): DHs = the signed prekey pair, RK = SK. */
export function initResponder(
  sharedKey: Uint8Array,
  ad: Uint8Array,
  signedPrekey: X25519KeyPair,
): AwaitingState {
  return {
    kind: "awaiting",
    ad,
    rootKey: new RootKey(sharedKey),
    ratchetKey: RatchetKeyPair.fromKeyPair(signedPrekey),
    skipped: SkippedKeys.empty,
    steps: 0,
  };
}

/** Encrypts one message: the ratchet message bytes and the state after it. */
export async function ratchetEncrypt(
  state: RatchetState,
  plaintext: Uint8Array,
): Promise<{ state: ActiveState; message: Uint8Array<ArrayBuffer> }> {
  if (state.kind !== "active") {
    throw new HandshakeError("wrong_turn", "the responder cannot send before a message arrives");
  }
  if (!(plaintext instanceof Uint8Array) || plaintext.length > MAX_PLAINTEXT_BYTES) {
    throw new RangeError(
      `plaintext: expected at most ${MAX_PLAINTEXT_BYTES} bytes, got ${plaintext?.length}`,
    );
  }
  const counter = state.sending.nextIndex;
  if (counter > MAX_CHAIN_INDEX) throw new RangeError("sending chain exhausted");
  const headerBytes = encodeHeader({
    ratchetKey: state.ratchetKey.publicKey,
    previousCounter: state.previousCounter,
    counter,
  });
  // A chain's first message does not prefetch: in a conversation that alternates, each chain
  // carries one message and the work would be wasted; a second message shows a burst.
  const { key, rest } = await state.sending.seek(counter, counter > 0);
  const [ciphertext, sending] = await Promise.all([
    key.seal(plaintext, concat(state.ad, headerBytes)),
    rest,
  ]);
  return { state: { ...state, sending }, message: concat(headerBytes, ciphertext) };
}

/**
 * Decrypts one message: the plaintext and the state after it. Throws `DecryptError` with
 * "bad_format" (malformed, or a ratchet key Web Crypto refuses), "too_many_skipped" (a gap over
 * MAX_SKIP), "duplicate" (a key already used or expired) or "auth_failed"; the given state is
 * never changed.
 */
export async function ratchetDecrypt(
  state: RatchetState,
  message: Uint8Array,
  options: RatchetOptions = {},
): Promise<{ state: ActiveState; plaintext: Uint8Array<ArrayBuffer> }> {
  const { header, headerBytes, ciphertext } = decodeMessage(
    message,
    MAX_PLAINTEXT_BYTES + GCM_TAG_BYTES,
  );
  const ad = concat(state.ad, headerBytes);

  const stored = state.skipped.find(header.ratchetKey, header.counter);
  if (stored && state.kind === "active") {
    const plaintext = await stored.open(ciphertext, ad);
    return {
      state: { ...state, skipped: state.skipped.remove(header.ratchetKey, header.counter) },
      plaintext,
    };
  }

  if (state.kind === "active" && state.receiving?.belongsTo(header.ratchetKey)) {
    const receiving = state.receiving;
    const chain = receiving.chain;
    if (header.counter < chain.nextIndex) {
      throw new DecryptError(
        "duplicate",
        `message ${header.counter} of this chain was already read, or its key expired`,
      );
    }
    checkGap(header.counter - chain.nextIndex);
    const { key, passed, rest } = await chain.seek(header.counter, header.counter > 0);
    const [plaintext, next] = await Promise.all([key.open(ciphertext, ad), rest]);
    return {
      state: {
        ...state,
        receiving: receiving.withChain(next),
        skipped: state.skipped.add(header.ratchetKey, passed, state.steps),
      },
      plaintext,
    };
  }

  try {
    return await dhRatchetStep(state, header, ciphertext, ad, options);
  } catch (e) {
    if (e instanceof KeyError) {
      throw new DecryptError("bad_format", `ratchet key refused: ${e.message}`);
    }
    throw e;
  }
}

function checkGap(gap: number): void {
  if (gap > MAX_SKIP) {
    throw new DecryptError(
      "too_many_skipped",
      `message is ${gap} keys ahead of the chain; at most ${MAX_SKIP} may be skipped`,
    );
  }
}

/**
 * A message under a new peer ratchet key: keep the old receiving chain's keys up to PN, then
 * (RK, CKr) = KDF_RK(RK, DH(DHs, DHr')), a fresh DHs, (RK, CKs) = KDF_RK(RK, DH(DHs', DHr')).
 * The independent parts run together; nothing is kept unless the message opens.
 */
async function dhRatchetStep(
  state: RatchetState,
  header: MessageHeader,
  ciphertext: Uint8Array,
  ad: Uint8Array,
  options: RatchetOptions,
): Promise<{ state: ActiveState; plaintext: Uint8Array<ArrayBuffer> }> {
  const theirKey = header.ratchetKey;
  const old = state.kind === "active" ? state.receiving : null;
  let oldKeys: Promise<MessageKey[]> = Promise.resolve([]);
  if (old && header.previousCounter > old.chain.nextIndex) {
    checkGap(header.previousCounter - old.chain.nextIndex);
    oldKeys = old.chain.keysBefore(header.previousCounter);
  }
  checkGap(header.counter);

  // Deno computes X25519 on the calling thread, and HKDF, HMAC and AES (and the public half of a
  // new key pair) on worker threads. So the new key pair is started first, the first DH runs
  // while it is made, its KDF_RK is issued at once, and the second DH runs while that KDF_RK and
  // the receiving chain after it are in flight.
  const newKey = RatchetKeyPair.generate(options.ratchetKeysForVectorsOnly);
  newKey.catch(() => {}); // awaited below; this keeps an early failure from going unhandled
  const received = state.rootKey.advance(await state.ratchetKey.dh(theirKey));
  const opened = received.then(async (r) => {
    const { key, passed, rest } = await SymmetricChain.start(r.chainKey).seek(
      header.counter,
      header.counter > 0,
    );
    return { plaintext: await key.open(ciphertext, ad), passed, rest };
  });
  opened.catch(() => {}); // awaited below; this keeps an early failure from going unhandled
  const ratchetKey = await newKey;
  const dh = await ratchetKey.dh(theirKey);
  const sending = received.then(async (r) => {
    const next = await r.rootKey.advance(dh);
    // Only the first sending key is derived ahead: see ratchetEncrypt on prefetching.
    return {
      rootKey: next.rootKey,
      chain: await SymmetricChain.start(next.chainKey).prefetched(1),
    };
  });
  const [passedOld, open, send] = await Promise.all([oldKeys, opened, sending]);
  const steps = state.steps + 1;
  const skipped = state.skipped
    .add(old?.ratchetKey ?? theirKey, passedOld, steps)
    .add(theirKey, open.passed, steps)
    .expire(steps);
  return {
    state: {
      kind: "active",
      ad: state.ad,
      rootKey: send.rootKey,
      ratchetKey,
      skipped,
      steps,
      sending: send.chain,
      previousCounter: state.kind === "active" ? state.sending.nextIndex : 0,
      receiving: new ReceiverChain(theirKey, await open.rest),
    },
    plaintext: open.plaintext,
  };
}
