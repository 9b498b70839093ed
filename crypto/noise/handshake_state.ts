/**
 * The Noise HandshakeState (revision 34, §5.3) for `Noise_{XX,IK,NK}_25519_AESGCM_SHA256`: whose
 * turn it is, and the one place a handshake transition is committed.
 *
 * @module
 */

import { assertBytes } from "../bytes.ts";
import { HandshakeError } from "../errors.ts";
import { KEY_BYTES, X25519KeyPair } from "../subtle.ts";
import {
  type HandshakeConfig,
  type HandshakePhase,
  isWriterOf,
  readStep,
  writeStep,
} from "./handshake_step.ts";
import {
  needsRemoteStaticKey,
  needsStaticKey,
  NOISE_PATTERNS,
  type NoisePattern,
  noiseProtocolName,
} from "./patterns.ts";
import { SymmetricState } from "./symmetric_state.ts";
import { TransportState } from "./transport_state.ts";

const INSPECT = Symbol.for("Deno.customInspect");

/** How to start a handshake. */
export interface HandshakeOptions {
  /** The handshake pattern; `"XX"` when absent. */
  pattern?: NoisePattern;
  /** Whether this side sends the first message. */
  initiator: boolean;
  /** Bytes both sides must agree on (pesuchat names its protocol version here). */
  prologue: Uint8Array;
  /** This side's static key pair `s`; required where the pattern sends or pre-shares it. */
  staticKey?: X25519KeyPair;
  /** The peer's static public key known in advance (`rs`; IK and NK initiators). */
  remoteStaticKey?: Uint8Array;
  /** Only for test vectors: the ephemeral key pair to send instead of a fresh one. */
  ephemeralKey?: X25519KeyPair;
}

/**
 * A Noise handshake in progress. `writeMessage` and `readMessage` alternate as the pattern says;
 * a call out of turn throws `HandshakeError("wrong_turn")`. A message that fails to read leaves the
 * state exactly as it was. When `isFinished`, `split()` gives the transport keys, once.
 *
 * @example
 * ```ts
 * import { HandshakeState } from "./handshake_state.ts";
 * import { X25519KeyPair } from "../subtle.ts";
 * const prologue = new TextEncoder().encode("example v1");
 * const alice = await HandshakeState.create({
 *   initiator: true, prologue, staticKey: await X25519KeyPair.generate(),
 * });
 * const bob = await HandshakeState.create({
 *   initiator: false, prologue, staticKey: await X25519KeyPair.generate(),
 * });
 * await bob.readMessage(await alice.writeMessage(new Uint8Array(0)));
 * await alice.readMessage(await bob.writeMessage(new Uint8Array(0)));
 * await bob.readMessage(await alice.writeMessage(new Uint8Array(0)));
 * const a = await alice.split();
 * const b = await bob.split();
 * const hello = await a.send.encryptWithAd(new Uint8Array(0), new TextEncoder().encode("hi"));
 * await b.receive.decryptWithAd(new Uint8Array(0), hello);
 * ```
 */
export class HandshakeState {
  readonly #config: HandshakeConfig;
  #phase: HandshakePhase;
  // A transition in flight: a second call must not start from the same state.
  #busy = false;

  private constructor(config: HandshakeConfig, phase: HandshakePhase) {
    this.#config = config;
    this.#phase = phase;
  }

  /**
   * Initialize() of §5.3. Throws a TypeError when a key the pattern needs is missing or one it does
   * not use is given, and `HandshakeError("bad_public_key")` for a low-order `remoteStaticKey`.
   */
  static async create(opts: HandshakeOptions): Promise<HandshakeState> {
    const name = opts.pattern ?? "XX";
    const pattern = NOISE_PATTERNS[name];
    if (pattern === undefined) {
      throw new TypeError(`pattern: expected one of XX, IK, NK, got ${String(name)}`);
    }
    const initiator = opts.initiator;
    if (typeof initiator !== "boolean") {
      throw new TypeError(`initiator: expected a boolean, got ${typeof initiator}`);
    }
    assertBytes(opts.prologue, undefined, "prologue");
    const role = initiator ? "initiator" : "responder";
    const s = opts.staticKey ?? null;
    if (needsStaticKey(pattern, initiator) !== (s !== null)) {
      throw new TypeError(
        `staticKey: the ${name} ${role} ${s === null ? "needs" : "takes no"} static key pair`,
      );
    }
    if (s !== null && !(s instanceof X25519KeyPair)) {
      throw new TypeError("staticKey: expected an X25519KeyPair");
    }
    const rs = opts.remoteStaticKey ?? null;
    if (needsRemoteStaticKey(pattern, initiator) !== (rs !== null)) {
      throw new TypeError(
        `remoteStaticKey: the ${name} ${role} ${
          rs === null ? "needs the peer's static key in advance" : "must not be given one"
        }`,
      );
    }
    const e = opts.ephemeralKey ?? null;
    if (e !== null && !(e instanceof X25519KeyPair)) {
      throw new TypeError("ephemeralKey: expected an X25519KeyPair");
    }
    let remote: Uint8Array | null = null;
    if (rs !== null) {
      assertBytes(rs, KEY_BYTES, "remoteStaticKey");
      remote = rs.slice();
      await refuseLowOrder(remote);
    }

    let symmetric = await SymmetricState.initialize(noiseProtocolName(name));
    symmetric = await symmetric.mixHash(opts.prologue);
    // Pre-messages (§7.1): the initiator's first, then the responder's; only "s" occurs.
    for (const _ of pattern.initiatorPreMessage) {
      symmetric = await symmetric.mixHash(initiator ? s!.publicKey : remote!);
    }
    for (const _ of pattern.responderPreMessage) {
      symmetric = await symmetric.mixHash(initiator ? remote! : s!.publicKey);
    }
    const config: HandshakeConfig = { pattern, initiator, s, fixedEphemeral: e };
    return new HandshakeState(config, {
      kind: "in_progress",
      step: 0,
      symmetric,
      e: null,
      re: null,
      rs: remote,
    });
  }

  /** Whether every handshake message has been written or read. */
  get isFinished(): boolean {
    return this.#phase.kind !== "in_progress";
  }

  /** True when `writeMessage` is the next call, false when `readMessage` is (or when finished). */
  get isMyTurn(): boolean {
    const phase = this.#phase;
    return phase.kind === "in_progress" && isWriterOf(this.#config, phase.step);
  }

  /** The peer's static public key, once known (null in NK for the responder). */
  get remoteStaticKey(): Uint8Array | null {
    return this.#phase.rs?.slice() ?? null;
  }

  /** The handshake hash `h`: final once finished; a channel binding both sides share. */
  get handshakeHash(): Uint8Array {
    const phase = this.#phase;
    return phase.kind === "split" ? phase.h.slice() : phase.symmetric.handshakeHash;
  }

  /** Writes the next handshake message carrying `payload` (encrypted once the pattern allows). */
  async writeMessage(payload: Uint8Array): Promise<Uint8Array> {
    assertBytes(payload, undefined, "payload");
    const phase = this.#enter(true);
    try {
      const next = await writeStep(this.#config, phase, payload);
      this.#phase = next.phase;
      return next.message;
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Reads the peer's next handshake message and returns its payload. Throws `HandshakeError`
   * ("bad_message", "decrypt_failed", "bad_public_key", "wrong_turn", "finished") and then leaves
   * this state exactly as it was.
   */
  async readMessage(message: Uint8Array): Promise<Uint8Array> {
    assertBytes(message, undefined, "message");
    const phase = this.#enter(false);
    try {
      const next = await readStep(this.#config, phase, message);
      // Committed only here, after every key and tag in the message checked out.
      this.#phase = next.phase;
      return next.payload;
    } finally {
      this.#busy = false;
    }
  }

  /**
   * Split() of §5.2: the transport keys with this side's roles applied. Allowed once, after the
   * last message: a second pair of CipherStates with the same keys would reuse nonces.
   */
  async split(): Promise<TransportState> {
    const phase = this.#phase;
    if (phase.kind === "split") {
      throw new HandshakeError("finished", "split() was already called for this handshake");
    }
    if (phase.kind !== "finished" || this.#busy) {
      throw new HandshakeError("wrong_turn", "expected a finished handshake before split()");
    }
    this.#busy = true;
    try {
      const [c1, c2] = await phase.symmetric.split();
      this.#phase = { kind: "split", h: phase.symmetric.handshakeHash, rs: phase.rs };
      return this.#config.initiator ? new TransportState(c1, c2) : new TransportState(c2, c1);
    } finally {
      this.#busy = false;
    }
  }

  #enter(writing: boolean): Extract<HandshakePhase, { kind: "in_progress" }> {
    const phase = this.#phase;
    if (phase.kind !== "in_progress") {
      throw new HandshakeError(
        "finished",
        `expected a handshake in progress for ${
          writing ? "writeMessage" : "readMessage"
        }, but it is finished`,
      );
    }
    if (this.#busy) {
      throw new HandshakeError("wrong_turn", "another handshake message is still being processed");
    }
    if (isWriterOf(this.#config, phase.step) !== writing) {
      throw new HandshakeError(
        "wrong_turn",
        `expected ${
          writing ? "readMessage" : "writeMessage"
        } for handshake message ${phase.step}, got ${writing ? "writeMessage" : "readMessage"}`,
      );
    }
    this.#busy = true;
    return phase;
  }

  [INSPECT](): string {
    const { pattern, initiator } = this.#config;
    const phase = this.#phase;
    const step = phase.kind === "in_progress" ? `, step: ${phase.step}` : "";
    return `HandshakeState { pattern: ${pattern.name}, role: ${
      initiator ? "initiator" : "responder"
    }, phase: ${phase.kind}${step}, keys: [redacted] }`;
  }
  toJSON(): unknown {
    const phase = this.#phase;
    return {
      pattern: this.#config.pattern.name,
      initiator: this.#config.initiator,
      phase: phase.kind,
      step: phase.kind === "in_progress" ? phase.step : null,
      keys: "[redacted]",
    };
  }
}

/** A DH with a throwaway key, so a low-order `rs` known in advance is refused at once. */
async function refuseLowOrder(remote: Uint8Array): Promise<void> {
  const probe = await X25519KeyPair.generate();
  try {
    (await probe.dh(remote)).fill(0);
  } catch (error) {
    throw new HandshakeError(
      "bad_public_key",
      `remoteStaticKey refused: ${(error as Error).message}`,
    );
  }
}
