/**
 * Noise handshake patterns as data (revision 34, §7), so one read/write loop runs them all. Adding
 * a pattern means adding an entry here, never a new code path.
 *
 * @module
 */

/** The handshake patterns pesuchat runs. */
export type NoisePattern = "XX" | "IK" | "NK";

/** A token of a message pattern (§7.1). */
export type NoiseToken = "e" | "s" | "ee" | "es" | "se" | "ss";

/**
 * A handshake pattern: pre-messages, then messages that alternate from the initiator. Pre-messages
 * carry static keys only; no supported pattern has an ephemeral pre-message.
 */
export interface HandshakePattern {
  readonly name: NoisePattern;
  /** Keys the responder knows of the initiator before the handshake ("-> s" pre-message). */
  readonly initiatorPreMessage: readonly "s"[];
  /** Keys the initiator knows of the responder before the handshake ("<- s" pre-message). */
  readonly responderPreMessage: readonly "s"[];
  /** Message patterns; message `i` is sent by the initiator when `i` is even. */
  readonly messages: readonly (readonly NoiseToken[])[];
}

/** Every supported pattern, keyed by name; frozen all the way down, as the loop trusts it. */
export const NOISE_PATTERNS: Readonly<Record<NoisePattern, HandshakePattern>> = deepFreeze({
  // XX: both static keys travel encrypted; neither side needs to know the other in advance.
  XX: {
    name: "XX",
    initiatorPreMessage: [],
    responderPreMessage: [],
    messages: [["e"], ["e", "ee", "s", "es"], ["s", "se"]],
  },
  // IK: the initiator knows the responder's static key and sends its own in the first message.
  IK: {
    name: "IK",
    initiatorPreMessage: [],
    responderPreMessage: ["s"],
    messages: [["e", "es", "s", "ss"], ["e", "ee", "se"]],
  },
  // NK: the initiator knows the responder's static key and stays anonymous.
  NK: {
    name: "NK",
    initiatorPreMessage: [],
    responderPreMessage: ["s"],
    messages: [["e", "es"], ["e", "ee"]],
  },
});

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** The DH functions, ciphers and hash every pesuchat handshake uses. */
export const NOISE_SUITE = "25519_AESGCM_SHA256";

/** The full protocol name, e.g. `Noise_XX_25519_AESGCM_SHA256`, which seeds the handshake hash. */
export function noiseProtocolName(pattern: NoisePattern): string {
  return `Noise_${pattern}_${NOISE_SUITE}`;
}

/** Whether the initiator (`true`) or the responder (`false`) needs a static key pair. */
export function needsStaticKey(pattern: HandshakePattern, initiator: boolean): boolean {
  const own = initiator ? pattern.initiatorPreMessage : pattern.responderPreMessage;
  if (own.includes("s")) return true;
  return pattern.messages.some((tokens, i) => (i % 2 === 0) === initiator && tokens.includes("s"));
}

/** Whether the given side must know the peer's static key before the handshake. */
export function needsRemoteStaticKey(pattern: HandshakePattern, initiator: boolean): boolean {
  const theirs = initiator ? pattern.responderPreMessage : pattern.initiatorPreMessage;
  return theirs.includes("s");
}
