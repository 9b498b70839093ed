/**
 * The handshake as an explicit state and pure transitions: {@linkcode writeStep} and
 * {@linkcode readStep} take a state and return the next one without touching the old, so the
 * caller commits only after a whole message succeeded (flynn/noise `state.go`, one loop for every
 * pattern in `patterns.ts`).
 *
 * @module
 */

import { concat } from "../bytes.ts";
import { DecryptError, HandshakeError, KeyError } from "../errors.ts";
import { KEY_BYTES, X25519KeyPair } from "../subtle.ts";
import { NOISE_MAX_MESSAGE, NOISE_TAG_BYTES } from "./cipher_state.ts";
import type { HandshakePattern, NoiseToken } from "./patterns.ts";
import type { SymmetricState } from "./symmetric_state.ts";

/** What stays fixed for a whole handshake: pattern, role and own keys. */
export interface HandshakeConfig {
  readonly pattern: HandshakePattern;
  readonly initiator: boolean;
  /** Own static key pair `s`, when the pattern uses one. */
  readonly s: X25519KeyPair | null;
  /** The ephemeral to send instead of a fresh one; only test vectors set it. */
  readonly fixedEphemeral: X25519KeyPair | null;
}

/** The handshake state between messages. Each transition returns a new value. */
export type HandshakePhase =
  | {
    readonly kind: "in_progress";
    /** Index of the next message in `pattern.messages`. */
    readonly step: number;
    readonly symmetric: SymmetricState;
    readonly e: X25519KeyPair | null;
    readonly re: Uint8Array | null;
    readonly rs: Uint8Array | null;
  }
  | {
    readonly kind: "finished";
    readonly symmetric: SymmetricState;
    readonly rs: Uint8Array | null;
  }
  | {
    /** split() has handed out the transport keys; only the hash and peer key remain. */
    readonly kind: "split";
    readonly h: Uint8Array;
    readonly rs: Uint8Array | null;
  };

/** The in-progress variant of {@linkcode HandshakePhase}. */
export type InProgress = Extract<HandshakePhase, { kind: "in_progress" }>;

/** Whether message `step` is written by this side. */
export function isWriterOf(config: HandshakeConfig, step: number): boolean {
  return (step % 2 === 0) === config.initiator;
}

/**
 * WriteMessage(payload) of §5.3: the next state and the message to send. Throws a RangeError when
 * the message would exceed {@linkcode NOISE_MAX_MESSAGE}; `phase` is never modified.
 */
export async function writeStep(
  config: HandshakeConfig,
  phase: InProgress,
  payload: Uint8Array,
): Promise<{ phase: HandshakePhase; message: Uint8Array }> {
  if (payload.length > NOISE_MAX_MESSAGE) {
    throw new RangeError(
      `payload: expected at most ${NOISE_MAX_MESSAGE} bytes, got ${payload.length}`,
    );
  }
  let { symmetric, e } = phase;
  const { re, rs } = phase;
  const parts: Uint8Array[] = [];
  for (const token of config.pattern.messages[phase.step]!) {
    if (token === "e") {
      e = config.fixedEphemeral ?? await X25519KeyPair.generate();
      parts.push(e.publicKey);
      symmetric = await symmetric.mixHash(e.publicKey);
    } else if (token === "s") {
      const [next, ciphertext] = await symmetric.encryptAndHash(config.s!.publicKey);
      symmetric = next;
      parts.push(ciphertext);
    } else {
      symmetric = await mixDh(symmetric, config, token, dhOperands(config, token, e, re, rs));
    }
  }
  const [next, ciphertext] = await symmetric.encryptAndHash(payload);
  parts.push(ciphertext);
  const message = concat(...parts);
  if (message.length > NOISE_MAX_MESSAGE) {
    throw new RangeError(
      `payload: the handshake message would be ${message.length} bytes, at most ${NOISE_MAX_MESSAGE} allowed`,
    );
  }
  return { phase: advance(config, phase.step, next, e, re, rs), message };
}

/**
 * ReadMessage(message) of §5.3: the next state and the payload. Throws `HandshakeError`
 * ("bad_message", "decrypt_failed", "bad_public_key"); `phase` is never modified.
 *
 * Every public key learned from the peer goes through an X25519 DH before the message is accepted:
 * either one the pattern does in this very message, or a probe when it does none (the first XX
 * message), so a low-order key ends the handshake where it arrives rather than one message later.
 */
export async function readStep(
  config: HandshakeConfig,
  phase: InProgress,
  message: Uint8Array,
): Promise<{ phase: HandshakePhase; payload: Uint8Array }> {
  if (message.length > NOISE_MAX_MESSAGE) {
    throw new HandshakeError(
      "bad_message",
      `expected a handshake message of at most ${NOISE_MAX_MESSAGE} bytes, got ${message.length}`,
    );
  }
  let { symmetric, re, rs } = phase;
  const { e } = phase;
  const unchecked = new Set<Uint8Array>();
  let offset = 0;
  const take = (length: number, what: string): Uint8Array => {
    if (message.length - offset < length) {
      throw new HandshakeError(
        "bad_message",
        `expected at least ${
          offset + length
        } bytes for ${what} in handshake message ${phase.step}, got ${message.length}`,
      );
    }
    // A copy: the caller may reuse its buffer, and these bytes outlive the call.
    const bytes = message.slice(offset, offset + length);
    offset += length;
    return bytes;
  };
  for (const token of config.pattern.messages[phase.step]!) {
    if (token === "e") {
      re = take(KEY_BYTES, "the ephemeral key");
      unchecked.add(re);
      symmetric = await symmetric.mixHash(re);
    } else if (token === "s") {
      const sealed = take(KEY_BYTES + (symmetric.hasKey ? NOISE_TAG_BYTES : 0), "the static key");
      const [next, plain] = await decrypting(symmetric.decryptAndHash(sealed), "static key");
      symmetric = next;
      rs = plain;
      unchecked.add(rs);
    } else {
      const operands = dhOperands(config, token, e, re, rs);
      symmetric = await mixDh(symmetric, config, token, operands);
      if (operands[1] !== null) unchecked.delete(operands[1]);
    }
  }
  for (const key of unchecked) await probe(config, e, key);
  const rest = message.subarray(offset);
  if (symmetric.hasKey && rest.length < NOISE_TAG_BYTES) {
    throw new HandshakeError(
      "bad_message",
      `expected at least ${
        offset + NOISE_TAG_BYTES
      } bytes in handshake message ${phase.step}, got ${message.length}`,
    );
  }
  const [next, payload] = await decrypting(symmetric.decryptAndHash(rest), "payload");
  return { phase: advance(config, phase.step, next, e, re, rs), payload };
}

function advance(
  config: HandshakeConfig,
  step: number,
  symmetric: SymmetricState,
  e: X25519KeyPair | null,
  re: Uint8Array | null,
  rs: Uint8Array | null,
): HandshakePhase {
  if (step + 1 === config.pattern.messages.length) return { kind: "finished", symmetric, rs };
  return { kind: "in_progress", step: step + 1, symmetric, e, re, rs };
}

/** The own key pair and remote public key a DH token combines (§7.1). */
function dhOperands(
  config: HandshakeConfig,
  token: Exclude<NoiseToken, "e" | "s">,
  e: X25519KeyPair | null,
  re: Uint8Array | null,
  rs: Uint8Array | null,
): [X25519KeyPair | null, Uint8Array | null] {
  const { s, initiator } = config;
  switch (token) {
    case "ee":
      return [e, re];
    case "es":
      return initiator ? [e, rs] : [s, re];
    case "se":
      return initiator ? [s, re] : [e, rs];
    case "ss":
      return [s, rs];
  }
}

/** MixKey(DH(own, remote)); the shared secret is wiped once mixed in. */
async function mixDh(
  symmetric: SymmetricState,
  config: HandshakeConfig,
  token: Exclude<NoiseToken, "e" | "s">,
  [own, remote]: [X25519KeyPair | null, Uint8Array | null],
): Promise<SymmetricState> {
  if (own === null || remote === null) {
    // create() checks that every key the pattern needs is present, so this is a bug here.
    throw new TypeError(`Noise ${config.pattern.name}: token ${token} is missing a key`);
  }
  const shared = await publicKeyChecked(own.dh(remote));
  try {
    return await symmetric.mixKey(shared);
  } finally {
    shared.fill(0);
  }
}

/** A DH whose result is discarded: it only makes x25519() judge a key no DH has used yet. */
async function probe(
  config: HandshakeConfig,
  e: X25519KeyPair | null,
  remote: Uint8Array,
): Promise<void> {
  const own = config.s ?? e ?? await X25519KeyPair.generate();
  (await publicKeyChecked(own.dh(remote))).fill(0);
}

async function publicKeyChecked(result: Promise<Uint8Array>): Promise<Uint8Array> {
  try {
    return await result;
  } catch (error) {
    if (error instanceof KeyError) {
      throw new HandshakeError("bad_public_key", `peer's public key refused: ${error.message}`);
    }
    throw error;
  }
}

async function decrypting<T>(result: Promise<T>, what: string): Promise<T> {
  try {
    return await result;
  } catch (error) {
    if (error instanceof DecryptError) {
      throw new HandshakeError(
        "decrypt_failed",
        `expected an authentic ${what} in the handshake message, but its tag did not verify (${error.code})`,
      );
    }
    throw error;
  }
}
