/**
 * The crypto module's error classes. Each carries a `code` a caller can switch on; the message
 * says what was expected and what came, and never contains key material.
 *
 * @module
 */

/** Codes of {@linkcode HandshakeError}. */
export type HandshakeErrorCode =
  | "bad_message" // wrong length or shape for this handshake step
  | "decrypt_failed" // a handshake payload or static key failed authentication
  | "bad_public_key" // a low-order or otherwise unusable public key
  | "wrong_turn" // write called when it is the peer's turn to send, or the reverse
  | "finished"; // the handshake is already complete

/** A Noise or PQXDH handshake could not proceed. The handshake state is unchanged. */
export class HandshakeError extends Error {
  override name = "HandshakeError";
  constructor(readonly code: HandshakeErrorCode, message: string) {
    super(message);
  }
}

/** Codes of {@linkcode DecryptError}. */
export type DecryptErrorCode =
  | "auth_failed" // the tag did not verify: wrong key, tampered bytes or wrong associated data
  | "bad_format" // the input is not shaped like a ciphertext of this kind
  | "too_many_skipped" // the message is further ahead than MAX_SKIP allows
  | "duplicate" // the message key was already used (a replay)
  | "nonce_exhausted" // the cipher state would reuse a nonce
  | "no_sender_key"; // a room message on a sender chain this member was never given

/** A ciphertext could not be opened. Any session state is unchanged. */
export class DecryptError extends Error {
  override name = "DecryptError";
  constructor(readonly code: DecryptErrorCode, message: string) {
    super(message);
  }
}

/** Codes of {@linkcode KeyError}. */
export type KeyErrorCode =
  | "bad_encoding" // serialised key bytes of the wrong length or type tag
  | "bad_signature" // a signature over a key did not verify
  | "bad_public_key"; // a public key that Web Crypto refused or that is low-order

/** A key could not be decoded or verified. */
export class KeyError extends Error {
  override name = "KeyError";
  constructor(readonly code: KeyErrorCode, message: string) {
    super(message);
  }
}
