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
 * Two versions of the KDFs and the message format exist (docs/design.md says why): version 1,
 * HMAC KDF_CK per message and the AES-GCM nonce derived with each key; version 2, one HKDF per
 * batch of chain keys, the root KDF yielding a chain's first key, and a random nonce carried in
 * the header. The initiator chooses (new sessions use version 2); an active state keeps its
 * version for life and refuses messages of the other; an awaiting responder takes the version of
 * the first message, whose tag fails under any other.
 *
 * @module
 */

import { equalBytes, randomBytes } from "../bytes.ts";
import { DecryptError, HandshakeError, KeyError } from "../errors.ts";
import {
  GCM_NONCE_BYTES,
  GCM_TAG_BYTES,
  type HkdfKey,
  KEY_BYTES,
  X25519KeyPair,
} from "../subtle.ts";
import { MAX_CHAIN_INDEX } from "./chain_key.ts";
import {
  decodeMessage,
  HEADER_BYTES,
  headerBytesOf,
  type MessageHeader,
  type RatchetVersion,
  writeHeader,
} from "./message.ts";
import type { MessageKey } from "./message_key.ts";
import { RatchetKeyPair, type RatchetKeySource, type RatchetKeyStart } from "./ratchet_key.ts";
import { ReceiverChain } from "./receiver_chain.ts";
import { RootKey } from "./root_key.ts";
import { SkippedKeys } from "./skipped_keys.ts";
import { SymmetricChain } from "./symmetric_chain.ts";

/** Most message keys one received message may make us skip in one chain (the spec's MAX_SKIP). */
export const MAX_SKIP = 1000;

/** Largest plaintext one ratchet message carries (larger application data is split above). */
export const MAX_PLAINTEXT_BYTES = 1 << 20;

const EMPTY = new Uint8Array(0);

/** The version new sessions use. */
export const CURRENT_RATCHET_VERSION: RatchetVersion = 2;

/** Options of the ratchet operations. */
export interface RatchetOptions {
  /** For deterministic test vectors only: supplies each new ratchet key pair. */
  ratchetKeysForVectorsOnly?: RatchetKeySource;
  /** For deterministic test vectors only: supplies each version 2 message's nonce. */
  noncesForVectorsOnly?: () => Uint8Array;
  /** The version a new initiator uses; old sessions' test vectors only. */
  versionForVectorsOnly?: RatchetVersion;
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
  /**
   * In memory only: DH(DHs, the initiator's ratchet key), started beside PQXDH from the first
   * message's header ({@linkcode startResponderDh}); used when that message is read.
   */
  readonly firstDh?: ResponderDh | null;
}

/** DH(signed prekey, the initiator's first ratchet key) as KDF_RK of `version` takes it. */
export interface ResponderDh {
  readonly theirKey: Uint8Array;
  readonly version: RatchetVersion;
  readonly dh: Promise<Uint8Array | HkdfKey>;
}

/**
 * Starts the responder's first DH from the initiator's first ratchet message, which needs only
 * the signed prekey: a session runs it beside PQXDH, and it is used only once SK exists.
 */
export function startResponderDh(
  signedPrekey: X25519KeyPair,
  firstMessage: Uint8Array,
): ResponderDh {
  const { version, header } = decodeMessage(firstMessage, MAX_PLAINTEXT_BYTES + GCM_TAG_BYTES);
  const key = RatchetKeyPair.fromKeyPair(signedPrekey);
  const dh = dhFor(version, key, header.ratchetKey);
  dh.catch(() => {}); // awaited when the message is read; this keeps a failure from going unhandled
  return { theirKey: header.ratchetKey, version, dh };
}

/** A ratchet that can send (and receive, once the peer has sent). */
export interface ActiveState extends BaseState {
  readonly kind: "active";
  /** The KDF and message version, fixed for the life of the session. */
  readonly version: RatchetVersion;
  /**
   * The sending chain; null (version 2 only) after a DH ratchet step on receiving whose sending
   * half (a fresh DHs, KDF_RK with the peer's new key) waits for our next message.
   */
  readonly sending: SymmetricChain | null;
  /**
   * While `sending` is null in memory: that sending half, already under way since the receive
   * (started beside the decryption, as version 1 does its whole step). Never stored: a state
   * restored from bytes derives it when it sends, with a ratchet key of its own.
   */
  readonly upcoming?: Promise<SendingHalf> | null;
  /** PN: the length of our previous sending chain, sent in every header of this one. */
  readonly previousCounter: number;
  readonly receiving: ReceiverChain | null;
}

/** The sending half of a DH ratchet step: our new ratchet key, the root key and chain after it. */
export interface SendingHalf {
  readonly ratchetKey: RatchetKeyPair;
  readonly rootKey: RootKey;
  readonly chain: SymmetricChain;
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
  started: InitiatorStart = startInitiator(theirSignedPrekey, options),
): Promise<ActiveState> {
  const version = options.versionForVectorsOnly ?? CURRENT_RATCHET_VERSION;
  const ratchetKey = await started.ratchetKey;
  const next = await startChain(new RootKey(sharedKey), await started.dh, version);
  return {
    kind: "active",
    version,
    ad,
    rootKey: next.rootKey,
    ratchetKey,
    skipped: SkippedKeys.empty,
    steps: 0,
    // Version 1 derives only the first key ahead: see ratchetEncrypt on prefetching.
    sending: await next.chain.prefetched(1),
    previousCounter: 0,
    receiving: null,
  };
}

/**
 * The initiator's first ratchet key pair and its DH with the responder's signed prekey, which
 * need nothing from PQXDH: a session starts them beside it (they are used only once SK exists).
 */
export interface InitiatorStart {
  readonly ratchetKey: Promise<RatchetKeyPair>;
  readonly dh: Promise<Uint8Array | HkdfKey>;
}

/**
 * Starts {@linkcode InitiatorStart}'s work: the key pair at once, the DH as soon as
 * `theirSignedPrekey` is known. A session hands over the bundle's key before PQXDH has checked
 * its signature, and passes the result to {@linkcode initInitiator} only once PQXDH succeeded.
 */
export function startInitiator(
  theirSignedPrekey: Uint8Array | Promise<Uint8Array>,
  options: RatchetOptions = {},
): InitiatorStart {
  const version = options.versionForVectorsOnly ?? CURRENT_RATCHET_VERSION;
  const source = options.ratchetKeysForVectorsOnly;
  if (source) {
    const ratchetKey = RatchetKeyPair.generate(source);
    const dh = Promise.all([ratchetKey, theirSignedPrekey]).then(([k, spk]) =>
      dhFor(version, k, spk)
    );
    ratchetKey.catch(() => {});
    dh.catch(() => {});
    return { ratchetKey, dh };
  }
  // The DH starts as soon as the private key is imported, beside its public key's computation.
  const start = X25519KeyPair.startFromPrivate(randomBytes(KEY_BYTES));
  const ratchetKey = start.keyPair.then(RatchetKeyPair.fromKeyPair);
  const dh = Promise.resolve(theirSignedPrekey).then((spk): Promise<Uint8Array | HkdfKey> =>
    version === 1 ? start.dh(spk) : start.dhHkdfKey(spk)
  );
  // Both are awaited by initInitiator; these keep an early failure from going unhandled.
  ratchetKey.catch(() => {});
  dh.catch(() => {});
  return { ratchetKey, dh };
}

/** DH(ours, theirs) as KDF_RK takes it: bytes for version 1, an HKDF key for version 2. */
function dhFor(
  version: RatchetVersion,
  ours: RatchetKeyPair,
  theirs: Uint8Array,
): Promise<Uint8Array | HkdfKey> {
  return version === 1 ? ours.dh(theirs) : ours.dhHkdfKey(theirs);
}

/**
 * KDF_RK and the chain it starts: version 1 the bare chain key, version 2 the chain with its
 * first message key already derived.
 */
async function startChain(
  rootKey: RootKey,
  dhOutput: Uint8Array | HkdfKey,
  version: RatchetVersion,
): Promise<{ rootKey: RootKey; chain: SymmetricChain }> {
  if (version === 1) {
    const next = await rootKey.advance(dhOutput as Uint8Array);
    return { rootKey: next.rootKey, chain: SymmetricChain.start(next.chainKey) };
  }
  const next = await rootKey.advanceV2(dhOutput);
  return {
    rootKey: next.rootKey,
    chain: SymmetricChain.startWithKey(next.chainKey, next.firstKey),
  };
}

/** The responder's first state (RatchetInitBob): DHs = the signed prekey pair, RK = SK. */
export function initResponder(
  sharedKey: Uint8Array,
  ad: Uint8Array,
  signedPrekey: X25519KeyPair,
  firstDh: ResponderDh | null = null,
): AwaitingState {
  return {
    kind: "awaiting",
    ad,
    rootKey: new RootKey(sharedKey),
    ratchetKey: RatchetKeyPair.fromKeyPair(signedPrekey),
    skipped: SkippedKeys.empty,
    steps: 0,
    firstDh,
  };
}

/**
 * Encrypts one message: the ratchet message bytes (after `prefix`, so a caller's framing costs no
 * second copy) and the state after it. Version 2 draws a fresh
 * random nonce per message, so two copies of one state that encrypt at the same chain position
 * (two processes, a restored stale backup) reuse a key but never a (key, nonce) pair.
 */
export async function ratchetEncrypt(
  state: RatchetState,
  plaintext: Uint8Array,
  options: RatchetOptions = {},
  prefix: Uint8Array = EMPTY,
): Promise<{ state: ActiveState; message: Uint8Array<ArrayBuffer> }> {
  if (state.kind !== "active") {
    throw new HandshakeError("wrong_turn", "the responder cannot send before a message arrives");
  }
  if (!(plaintext instanceof Uint8Array) || plaintext.length > MAX_PLAINTEXT_BYTES) {
    throw new RangeError(
      `plaintext: expected at most ${MAX_PLAINTEXT_BYTES} bytes, got ${plaintext?.length}`,
    );
  }
  if (state.sending === null) state = await sendingHalf(state, options);
  const chain = state.sending!;
  const counter = chain.nextIndex;
  if (counter > MAX_CHAIN_INDEX) throw new RangeError("sending chain exhausted");
  const version = state.version;
  // The header is written once, straight into the associated data (PQXDH AD ‖ header), and
  // copied once more into the message: no intermediate arrays. Version 2's random nonce is drawn
  // straight into its place in the header, and sealing reads it from there.
  const size = headerBytesOf(version);
  const adLength = state.ad.length;
  const ad = new Uint8Array(adLength + size);
  ad.set(state.ad);
  let nonce: Uint8Array | null = null;
  if (version === 2) {
    nonce = ad.subarray(adLength + HEADER_BYTES);
    const given = options.noncesForVectorsOnly?.();
    if (given) {
      if (given.length !== GCM_NONCE_BYTES) throw new RangeError("nonce: expected 12 bytes");
      nonce.set(given);
    } else crypto.getRandomValues(nonce);
  }
  writeHeader(ad, adLength, version, {
    ratchetKey: state.ratchetKey.publicKey,
    previousCounter: state.previousCounter,
    counter,
  }, null);
  // Version 1: a chain's first message does not prefetch: in a conversation that alternates,
  // each chain carries one message and the work would be wasted; a second shows a burst.
  const { key, rest } = await chain.seek(counter, counter > 0);
  const [ciphertext, sending] = await Promise.all([key.seal(plaintext, ad, nonce), rest]);
  const message = new Uint8Array(prefix.length + size + ciphertext.length);
  message.set(prefix);
  message.set(ad.subarray(adLength), prefix.length);
  message.set(ciphertext, prefix.length + size);
  return { state: active(state, state.rootKey, state.skipped, sending, state.receiving), message };
}

/**
 * Version 2: the sending half of the last DH ratchet step, taken when we first send after it:
 * a fresh DHs, then (RK, CKs) = KDF_RK(RK, DH(DHs, DHr)). Deferring it from the receive changes
 * no key: the spec's state after the receive would hold this same RK and DHr, and a new DHs
 * drawn now is as fresh as one drawn then (docs/design.md). A responder that only reads saves it.
 */
async function sendingHalf(state: ActiveState, options: RatchetOptions): Promise<ActiveState> {
  if (!state.receiving) throw new HandshakeError("wrong_turn", "no peer ratchet key to send to");
  const half = await (state.upcoming ?? startSendingHalf(
    state.rootKey,
    state.receiving.ratchetKey,
    state.version,
    RatchetKeyPair.start(options.ratchetKeysForVectorsOnly),
  ));
  return {
    kind: "active",
    version: state.version,
    ad: state.ad,
    rootKey: half.rootKey,
    ratchetKey: half.ratchetKey,
    skipped: state.skipped,
    steps: state.steps,
    sending: half.chain,
    previousCounter: state.previousCounter,
    receiving: state.receiving,
    upcoming: null,
  };
}

/** A fresh DHs (being made as `newKey`), then KDF_RK(rootKey, DH(DHs, theirKey)). */
async function startSendingHalf(
  rootKey: RootKey | Promise<RootKey>,
  theirKey: Uint8Array,
  version: RatchetVersion,
  newKey: RatchetKeyStart,
): Promise<SendingHalf> {
  // The DH needs only the two private and public keys: it starts once the new private key is
  // imported, beside the computation of its public key (which only our next header needs), and
  // runs while the root key (the receiving half's, when this half is started beside it) is still
  // being derived.
  const dh = version === 1 ? newKey.dh(theirKey) : newKey.dhHkdfKey(theirKey);
  dh.catch(() => {}); // awaited below; this keeps a failure from going unhandled meanwhile
  const next = await startChain(await rootKey, await dh, version);
  // Version 2: the first sending key's AES import is done here too, so the send that takes this
  // half only seals. Version 1 derives only the first sending key ahead: see ratchetEncrypt.
  if (version === 2) await next.chain.ahead[0]?.prepare();
  const ratchetKey = await newKey.keyPair;
  return { ratchetKey, rootKey: next.rootKey, chain: await next.chain.prefetched(1) };
}

/** An active state like `s` with the parts a message changes replaced; no spread, one shape. */
function active(
  s: ActiveState,
  rootKey: RootKey,
  skipped: SkippedKeys,
  sending: SymmetricChain | null,
  receiving: ReceiverChain | null,
): ActiveState {
  return {
    kind: "active",
    version: s.version,
    ad: s.ad,
    rootKey,
    ratchetKey: s.ratchetKey,
    skipped,
    steps: s.steps,
    sending,
    previousCounter: s.previousCounter,
    receiving,
    upcoming: sending === null ? s.upcoming : null,
  };
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
  const { version, header, nonce, headerBytes, ciphertext } = decodeMessage(
    message,
    MAX_PLAINTEXT_BYTES + GCM_TAG_BYTES,
  );
  if (state.kind === "active" && version !== state.version) {
    throw new DecryptError(
      "bad_format",
      `ratchet message of version ${version} on a version ${state.version} session`,
    );
  }
  const adLength = state.ad.length;
  const ad = new Uint8Array(adLength + headerBytes.length);
  ad.set(state.ad);
  ad.set(headerBytes, adLength);

  const stored = state.skipped.find(header.ratchetKey, header.counter);
  if (stored && state.kind === "active") {
    const plaintext = await stored.open(ciphertext, ad, nonce);
    const skipped = state.skipped.remove(header.ratchetKey, header.counter);
    return {
      state: active(state, state.rootKey, skipped, state.sending, state.receiving),
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
    const [plaintext, next] = await Promise.all([key.open(ciphertext, ad, nonce), rest]);
    const skipped = state.skipped.add(header.ratchetKey, passed, state.steps);
    return {
      state: active(state, state.rootKey, skipped, state.sending, receiving.withChain(next)),
      plaintext,
    };
  }

  try {
    const step = { version, header, nonce, ciphertext, ad };
    return await dhRatchetStep(state, step, options);
  } catch (e) {
    if (e instanceof KeyError) {
      throw new DecryptError("bad_format", `ratchet key refused: ${e.message}`);
    }
    throw e;
  }
}

/** DH(DHs, theirKey): the one a responder started beside PQXDH when it matches, else a new one. */
function ourDh(
  state: RatchetState,
  version: RatchetVersion,
  theirKey: Uint8Array,
): Promise<Uint8Array | HkdfKey> {
  const first = state.kind === "awaiting" ? state.firstDh : null;
  if (first && first.version === version && equalBytes(first.theirKey, theirKey)) return first.dh;
  return dhFor(version, state.ratchetKey, theirKey);
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
 * Version 1 takes both halves here, its independent parts together; version 2 takes the second
 * half when it next sends. Nothing is kept unless the message opens.
 */
async function dhRatchetStep(
  state: RatchetState,
  m: {
    version: RatchetVersion;
    header: MessageHeader;
    nonce: Uint8Array | null;
    ciphertext: Uint8Array;
    ad: Uint8Array;
  },
  options: RatchetOptions,
): Promise<{ state: ActiveState; plaintext: Uint8Array<ArrayBuffer> }> {
  const { version, header } = m;
  const theirKey = header.ratchetKey;
  const old = state.kind === "active" ? state.receiving : null;
  let oldKeys: Promise<MessageKey[]> = Promise.resolve([]);
  if (old && header.previousCounter > old.chain.nextIndex) {
    checkGap(header.previousCounter - old.chain.nextIndex);
    oldKeys = old.chain.keysBefore(header.previousCounter);
  }
  checkGap(header.counter);
  const steps = state.steps + 1;
  const previousCounter = state.kind === "active"
    ? state.sending?.nextIndex ?? state.previousCounter
    : 0;

  if (version === 2) {
    // The receiving half; the sending half is kept for our next message (sendingHalf). In a
    // conversation (we had a receiving chain, so we have sent and been answered) it is started
    // now, beside the decryption, so a reply does not wait for it; a responder's first message
    // starts nothing, as it may never answer.
    const speculate = state.kind === "active" && state.receiving !== null;
    // The receiving half first: the message waits for it, and only our next one for the rest.
    const received = ourDh(state, 2, theirKey).then((dh) => startChain(state.rootKey, dh, 2));
    const newKey = speculate ? RatchetKeyPair.start(options.ratchetKeysForVectorsOnly) : null;
    newKey?.keyPair.catch(() => {}); // awaited through `upcoming`; this keeps a failure quiet
    // The sending half's DH runs beside the receiving half's; its KDF_RK waits for the root key.
    const upcoming = newKey
      ? startSendingHalf(received.then((r) => r.rootKey), theirKey, 2, newKey)
      : null;
    upcoming?.catch(() => {}); // the same
    const r = await received;
    const { key, passed, rest } = await r.chain.seek(header.counter);
    const [plaintext, passedOld, chain] = await Promise.all([
      key.open(m.ciphertext, m.ad, m.nonce),
      oldKeys,
      rest,
    ]);
    const skipped = state.skipped
      .add(old?.ratchetKey ?? theirKey, passedOld, steps)
      .add(theirKey, passed, steps)
      .expire(steps);
    return {
      state: {
        kind: "active",
        version,
        ad: state.ad,
        rootKey: r.rootKey,
        ratchetKey: state.ratchetKey,
        skipped,
        steps,
        sending: null,
        previousCounter,
        receiving: new ReceiverChain(theirKey, chain),
        upcoming,
      },
      plaintext,
    };
  }

  // Deno computes X25519 on the calling thread, and HKDF, HMAC and AES (and the public half of a
  // new key pair) on worker threads. So the new key pair is started first, the first DH runs
  // while it is made, its KDF_RK is issued at once, and the second DH runs while that KDF_RK and
  // the receiving chain after it are in flight.
  const newKey = RatchetKeyPair.generate(options.ratchetKeysForVectorsOnly);
  newKey.catch(() => {}); // awaited below; this keeps an early failure from going unhandled
  const received = startChain(state.rootKey, await ourDh(state, version, theirKey), version);
  const opened = received.then(async (r) => {
    const { key, passed, rest } = await r.chain.seek(header.counter, header.counter > 0);
    return { plaintext: await key.open(m.ciphertext, m.ad, m.nonce), passed, rest };
  });
  opened.catch(() => {}); // awaited below; this keeps an early failure from going unhandled
  const ratchetKey = await newKey;
  const dh = await dhFor(version, ratchetKey, theirKey);
  const sending = received.then(async (r) => {
    const next = await startChain(r.rootKey, dh, version);
    // Version 1 derives only the first sending key ahead: see ratchetEncrypt on prefetching.
    return { rootKey: next.rootKey, chain: await next.chain.prefetched(1) };
  });
  sending.catch(() => {}); // awaited below; this keeps an early failure from going unhandled
  const [passedOld, open, send] = await Promise.all([oldKeys, opened, sending]);
  const skipped = state.skipped
    .add(old?.ratchetKey ?? theirKey, passedOld, steps)
    .add(theirKey, open.passed, steps)
    .expire(steps);
  return {
    state: {
      kind: "active",
      version,
      ad: state.ad,
      rootKey: send.rootKey,
      ratchetKey,
      skipped,
      steps,
      sending: send.chain,
      previousCounter,
      receiving: new ReceiverChain(theirKey, await open.rest),
    },
    plaintext: open.plaintext,
  };
}
