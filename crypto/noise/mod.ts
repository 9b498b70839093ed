/**
 * Noise Protocol Framework (revision 34) for `Noise_{XX,IK,NK}_25519_AESGCM_SHA256`, on Web Crypto.
 * pesuchat's transport runs XX; IK and NK share the same loop because patterns are data.
 *
 * @example
 * ```ts
 * import { HandshakeState } from "./mod.ts";
 * import { X25519KeyPair } from "../subtle.ts";
 * const prologue = new TextEncoder().encode("example v1");
 * const server = await X25519KeyPair.generate();
 * const client = await HandshakeState.create({
 *   pattern: "NK", initiator: true, prologue, remoteStaticKey: server.publicKey,
 * });
 * const host = await HandshakeState.create({
 *   pattern: "NK", initiator: false, prologue, staticKey: server,
 * });
 * await host.readMessage(await client.writeMessage(new Uint8Array(0)));
 * await client.readMessage(await host.writeMessage(new Uint8Array(0)));
 * if (!client.isFinished || !host.isFinished) throw new Error("handshake incomplete");
 * ```
 *
 * @module
 */

export {
  CipherState,
  NOISE_MAX_MESSAGE,
  NOISE_MAX_PLAINTEXT,
  NOISE_NONCE_RESERVED,
  NOISE_TAG_BYTES,
} from "./cipher_state.ts";
export { type HandshakeOptions, HandshakeState } from "./handshake_state.ts";
export {
  type HandshakePattern,
  NOISE_PATTERNS,
  type NoisePattern,
  noiseProtocolName,
  type NoiseToken,
} from "./patterns.ts";
export { TransportState } from "./transport_state.ts";
