/**
 * A session with one contact: PQXDH to start, the Double Ratchet after, in the shape of Signal's
 * PreKeySignalMessage and SignalMessage. This is the one object the chat client uses.
 *
 * Until the initiator has read a reply, every envelope it sends carries the PQXDH initial message,
 * so the responder can start the session from whichever of them arrives first: a lost first
 * message does not break the session.
 *
 * Envelope (version 1): u8 version ‖ u8 type ‖ body, where type 0x01 (prekey) has body = initial
 * message (crypto/pqxdh.ts) ‖ ratchet message, and type 0x02 (message) has body = ratchet message
 * (crypto/ratchet/message.ts).
 *
 * A session is a value: `encrypt` and `decrypt` return a new session and leave the old one as it
 * was, so a message that fails to authenticate changes nothing.
 *
 * @module
 */

import { concat, equalBytes, toHex } from "./bytes.ts";
import { ByteReader, ByteWriter } from "./codec.ts";
import { DecryptError, HandshakeError } from "./errors.ts";
import { IDENTITY_PUBLIC_BYTES, type IdentityKeyPair, IdentityPublic } from "./identity.ts";
import {
  type ConsumedPrekeys,
  decodeInitialMessage,
  encodeInitialMessage,
  INITIAL_MESSAGE_BYTES,
  type InitiateOptions,
  pqxdhInitiate,
  pqxdhRespond,
  type PrekeyLookup,
} from "./pqxdh.ts";
import type { PrekeyBundle } from "./prekeys.ts";
import {
  decodeMessage,
  deserializeRatchet,
  initInitiator,
  initResponder,
  MAX_PLAINTEXT_BYTES,
  type MessageHeader,
  ratchetDecrypt,
  ratchetEncrypt,
  type RatchetOptions,
  type RatchetState,
  ratchetStateSize,
  type ResponderDh,
  startInitiator,
  startResponderDh,
  writeRatchet,
} from "./ratchet/mod.ts";
import { GCM_TAG_BYTES, KEY_BYTES } from "./subtle.ts";

const INSPECT = Symbol.for("Deno.customInspect");

/** Version byte of every envelope. */
export const ENVELOPE_VERSION = 0x01;
/** Version byte of serialised session state. */
export const SESSION_STATE_VERSION = 0x01;

/** The envelope types. */
export const EnvelopeType = Object.freeze({ prekey: 0x01, message: 0x02 });
const MESSAGE_PREFIX = Uint8Array.of(ENVELOPE_VERSION, EnvelopeType.message);

/** Options of a session: test-vector hooks only; never stored with the session. */
export interface SessionOptions extends InitiateOptions, RatchetOptions {}

type SessionState =
  | {
    /** The initiator before any reply: envelopes carry the initial message. */
    readonly phase: "initiating";
    readonly remote: IdentityPublic;
    readonly initialMessage: Uint8Array;
    readonly ratchet: RatchetState;
  }
  | {
    readonly phase: "established";
    readonly remote: IdentityPublic;
    /** EK_A when this side responded, to recognise the initiator's repeated prekey envelopes. */
    readonly baseKey: Uint8Array | null;
    readonly ratchet: RatchetState;
  };

/** A parsed envelope. */
export interface Envelope {
  type: "prekey" | "message";
  /** The encoded initial message (prekey envelopes only). */
  initialMessage: Uint8Array | null;
  ratchetMessage: Uint8Array;
}

/** Parses an envelope's framing; `DecryptError("bad_format")` when it is not one. */
export function parseEnvelope(envelope: Uint8Array): Envelope {
  const fail = (m: string) => new DecryptError("bad_format", `envelope: ${m}`);
  if (!(envelope instanceof Uint8Array)) throw fail("expected Uint8Array");
  const r = new ByteReader(envelope, fail);
  const version = r.u8("version");
  if (version !== ENVELOPE_VERSION) {
    throw fail(`expected version ${ENVELOPE_VERSION}, got ${version}`);
  }
  const type = r.u8("type");
  if (type === EnvelopeType.message) {
    return { type: "message", initialMessage: null, ratchetMessage: r.view(r.remaining, "rest") };
  }
  if (type === EnvelopeType.prekey) {
    const initialMessage = r.bytes(INITIAL_MESSAGE_BYTES, "initial message");
    return { type: "prekey", initialMessage, ratchetMessage: r.view(r.remaining, "rest") };
  }
  throw fail(`unknown type ${type}`);
}

/**
 * The base key (the initiator's EK_A) of a prekey envelope and the signed prekey it used, or null
 * for any other envelope: what a responder remembers so a replayed first message never starts a
 * session twice, even one that used no one-time prekey.
 */
export function envelopeInitiation(
  envelope: Uint8Array,
): { baseKey: Uint8Array; signedPrekeyId: number } | null {
  const parsed = parseEnvelope(envelope);
  if (parsed.type !== "prekey") return null;
  const initial = decodeInitialMessage(parsed.initialMessage!);
  return { baseKey: initial.ephemeralKey, signedPrekeyId: initial.signedPrekeyId };
}

/**
 * The ratchet header an envelope carries in the clear (its sender's ratchet key and counter):
 * two envelopes with the same header were encrypted under the same message key.
 */
export function envelopeHeader(envelope: Uint8Array): MessageHeader {
  return decodeMessage(parseEnvelope(envelope).ratchetMessage, MAX_PLAINTEXT_BYTES + GCM_TAG_BYTES)
    .header;
}

/**
 * A session with one contact.
 *
 * @example Alice starts a session from Bob's bundle; Bob answers from his prekeys
 * ```ts
 * import assert from "node:assert/strict";
 * import { IdentityKeyPair } from "./identity.ts";
 * import { bundleOf, KyberPrekey, SignedPrekey } from "./prekeys.ts";
 * import { Session } from "./session.ts";
 *
 * const [alice, bob] = await Promise.all([IdentityKeyPair.generate(), IdentityKeyPair.generate()]);
 * const spk = await SignedPrekey.generate(bob, 1);
 * const kyber = await KyberPrekey.generate(bob, 2, true);
 * const a = await Session.initiate(alice, bundleOf(bob, spk, null, kyber));
 * const sent = await a.encrypt(new TextEncoder().encode("hi bob"));
 * const { session: b, plaintext } = await Session.respond(bob, {
 *   signedPrekey: (id) => Promise.resolve(id === 1 ? spk : null),
 *   oneTimePrekey: () => Promise.resolve(null),
 *   kyberPrekey: (id) => Promise.resolve(id === 2 ? kyber : null),
 * }, sent.envelope);
 * assert.equal(new TextDecoder().decode(plaintext), "hi bob");
 * const reply = await b.encrypt(new TextEncoder().encode("hi alice"));
 * const got = await sent.session.decrypt(reply.envelope);
 * assert.equal(new TextDecoder().decode(got.plaintext), "hi alice");
 * ```
 */
export class Session {
  readonly #state: SessionState;
  readonly #options: SessionOptions;
  /** serialize()'s bytes once made: a session is a value, so they never go stale. */
  #bytes: Uint8Array<ArrayBuffer> | null = null;

  private constructor(state: SessionState, options: SessionOptions) {
    this.#state = state;
    this.#options = options;
  }

  /** Starts a session from a contact's bundle (verifying every signature in it). */
  static async initiate(
    own: IdentityKeyPair,
    bundle: PrekeyBundle,
    options: SessionOptions = {},
  ): Promise<Session> {
    // The first ratchet key pair needs nothing of the bundle, and its DH only the signed prekey:
    // both run beside PQXDH's checks and DHs, and are used only once PQXDH has succeeded (every
    // signature checked) and SK exists.
    let signedPrekey!: (spk: Uint8Array) => void;
    const spk = new Promise<Uint8Array>((resolve) => signedPrekey = resolve);
    const pending = pqxdhInitiate(own, bundle, options, signedPrekey);
    const started = startInitiator(spk, options);
    const x = await pending;
    const ratchet = await initInitiator(
      x.sharedKey.bytesUnsafe(),
      x.associatedData,
      x.remoteSignedPrekey,
      options,
      started,
    );
    return new Session({
      phase: "initiating",
      remote: x.remoteIdentity,
      initialMessage: encodeInitialMessage(x.message),
      ratchet,
    }, options);
  }

  /**
   * Starts a session from a contact's prekey envelope and reads its message. `consumed` names the
   * one-time prekeys to delete now; nothing is consumed when this throws.
   */
  static async respond(
    own: IdentityKeyPair,
    prekeys: PrekeyLookup,
    envelope: Uint8Array,
    options: SessionOptions = {},
  ): Promise<{ session: Session; plaintext: Uint8Array; consumed: ConsumedPrekeys }> {
    const parsed = parseEnvelope(envelope);
    if (parsed.type !== "prekey") {
      throw new HandshakeError("bad_message", "expected a prekey envelope to start a session");
    }
    const initial = decodeInitialMessage(parsed.initialMessage!);
    // The ratchet's first DH (our signed prekey with the sender's ratchet key) needs nothing of
    // PQXDH's result: it runs beside PQXDH, and is used only once SK exists and the message opens.
    let firstDh: ResponderDh | null = null;
    const x = await pqxdhRespond(own, prekeys, initial, (spk) => {
      try {
        firstDh = startResponderDh(spk.keyPair, parsed.ratchetMessage);
      } catch { /* a malformed message: ratchetDecrypt reports it */ }
    });
    const start = initResponder(
      x.sharedKey.bytesUnsafe(),
      x.associatedData,
      x.signedPrekey.keyPair,
      firstDh,
    );
    const { state, plaintext } = await ratchetDecrypt(start, parsed.ratchetMessage, options);
    const session = new Session({
      phase: "established",
      remote: x.remoteIdentity,
      baseKey: initial.ephemeralKey,
      ratchet: state,
    }, options);
    return { session, plaintext, consumed: x.consumed };
  }

  /** The contact's verified identity. */
  get remoteIdentity(): IdentityPublic {
    return this.#state.remote;
  }

  /** "initiating" until the initiator reads a reply, then "established". */
  get phase(): "initiating" | "established" {
    return this.#state.phase;
  }

  /** Encrypts one message: the envelope to send and the session after it. */
  async encrypt(plaintext: Uint8Array): Promise<{ envelope: Uint8Array; session: Session }> {
    const s = this.#state;
    // The envelope's framing goes in front of the ratchet message as it is written: no copy.
    const prefix = s.phase === "initiating"
      ? concat(Uint8Array.of(ENVELOPE_VERSION, EnvelopeType.prekey), s.initialMessage)
      : MESSAGE_PREFIX;
    const { state, message } = await ratchetEncrypt(s.ratchet, plaintext, this.#options, prefix);
    return { envelope: message, session: new Session({ ...s, ratchet: state }, this.#options) };
  }

  /**
   * Decrypts one envelope: the plaintext and the session after it. A prekey envelope is accepted
   * only when it repeats the initial message this session was started from; any other one starts
   * a new session (`HandshakeError("bad_message")`: call {@linkcode Session.respond}).
   */
  async decrypt(envelope: Uint8Array): Promise<{ plaintext: Uint8Array; session: Session }> {
    const s = this.#state;
    const parsed = parseEnvelope(envelope);
    if (parsed.type === "prekey") {
      const initial = decodeInitialMessage(parsed.initialMessage!);
      const ours = s.phase === "established" && s.baseKey !== null &&
        equalBytes(s.baseKey, initial.ephemeralKey) &&
        equalBytes(initial.identityKey, s.remote.encode());
      if (!ours) {
        throw new HandshakeError("bad_message", "this prekey envelope starts a new session");
      }
    }
    const { state, plaintext } = await ratchetDecrypt(
      s.ratchet,
      parsed.ratchetMessage,
      this.#options,
    );
    const next: SessionState = s.phase === "initiating"
      ? { phase: "established", remote: s.remote, baseKey: null, ratchet: state }
      : { ...s, ratchet: state };
    return { plaintext, session: new Session(next, this.#options) };
  }

  /**
   * The session as bytes: u8 version ‖ u8 phase ‖ remote identity (129) ‖ phase data ‖ ratchet
   * state. Secret: store it only sealed under the account key. Encoded once per session value
   * (a record rewrites its unchanged previous sessions for free): the same bytes each call, which
   * the caller must not change.
   */
  serialize(): Uint8Array<ArrayBuffer> {
    return this.#bytes ??= this.#encode();
  }

  #encode(): Uint8Array<ArrayBuffer> {
    const s = this.#state;
    // Sized up front: one buffer, written once, handed over without a copy.
    const phaseBytes = s.phase === "initiating"
      ? s.initialMessage.length
      : 1 + (s.baseKey?.length ?? 0);
    const w = s.remote.writeTo(
      new ByteWriter(2 + IDENTITY_PUBLIC_BYTES + phaseBytes + ratchetStateSize(s.ratchet))
        .u8(SESSION_STATE_VERSION).u8(s.phase === "initiating" ? 1 : 2),
    );
    if (s.phase === "initiating") w.bytes(s.initialMessage);
    else {
      w.u8(s.baseKey ? 1 : 0);
      if (s.baseKey) w.bytes(s.baseKey);
    }
    writeRatchet(w, s.ratchet);
    return w.finish();
  }

  /**
   * Restores {@linkcode serialize}'s bytes without importing any key (that happens when a message
   * needs it); `DecryptError("bad_format")` for anything else.
   */
  static deserialize(bytes: Uint8Array, options: SessionOptions = {}): Session {
    const fail = (m: string) => new DecryptError("bad_format", `session state: ${m}`);
    const r = new ByteReader(bytes, fail);
    const version = r.u8("version");
    if (version !== SESSION_STATE_VERSION) {
      throw fail(`expected version ${SESSION_STATE_VERSION}, got ${version}`);
    }
    const phase = r.u8("phase");
    let remote: IdentityPublic;
    try {
      remote = IdentityPublic.restore(r.bytes(IDENTITY_PUBLIC_BYTES, "remote identity"));
    } catch (e) {
      throw fail((e as Error).message);
    }
    if (phase === 1) {
      const initialMessage = r.bytes(INITIAL_MESSAGE_BYTES, "initial message");
      const ratchet = deserializeRatchet(r.rest());
      return new Session({ phase: "initiating", remote, initialMessage, ratchet }, options);
    }
    if (phase !== 2) throw fail(`unknown phase ${phase}`);
    const hasBase = r.u8("base key flag");
    if (hasBase > 1) throw fail(`base key flag ${hasBase}`);
    const baseKey = hasBase ? r.bytes(KEY_BYTES, "base key") : null;
    const ratchet = deserializeRatchet(r.rest());
    return new Session({ phase: "established", remote, baseKey, ratchet }, options);
  }

  [INSPECT](): string {
    const remote = toHex(this.#state.remote.signingKey);
    return `Session { phase: ${this.#state.phase}, remote: ${remote}, keys: [redacted] }`;
  }
  toJSON(): unknown {
    return { phase: this.#state.phase, remote: this.#state.remote.toJSON(), keys: "[redacted]" };
  }
}
