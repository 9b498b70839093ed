/**
 * Server key fingerprints, shown at setup, at every run and on first contact, in SSH's style:
 * `SHA256:` and the unpadded base64 of the SHA-256 of the server's static X25519 public key.
 *
 * @module
 */

import { sha256 } from "../crypto/mod.ts";

/** The fingerprint of a server's static public key. */
export async function fingerprint(publicKey: Uint8Array): Promise<string> {
  return "SHA256:" + (await sha256(publicKey)).toBase64({ omitPadding: true });
}

/** True when `text` has the shape of a fingerprint (for checking `--trust` arguments). */
export function isFingerprint(text: string): boolean {
  return /^SHA256:[A-Za-z0-9+/]{43}$/.test(text);
}
