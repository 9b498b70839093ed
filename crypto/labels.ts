/**
 * Every label, info string and domain-separation constant of pesuchat's end-to-end crypto, in one
 * place, so no two derivations can share a label by accident and a reviewer sees them all at
 * once. Labels name the project, the purpose and a version: changing one changes every key it
 * derives, so a new version gets a new label instead.
 *
 * Strings are exported (they cannot be mutated); each user encodes its own copy once.
 *
 * @module
 */

/** PQXDH's HKDF info: names the curve, the hash and the KEM, as the specification asks. */
export const PQXDH_INFO = "pesuchat_X25519_SHA-256_ML-KEM-1024";

/** KDF_RK's HKDF info: root key and DH output to the next root key and chain key. */
export const RATCHET_ROOT_INFO = "pesuchat ratchet root key v1";

/**
 * Ratchet version 2's KDF_RK info: root key and DH output to the next root key, the chain key
 * for index 1 and the message key for index 0.
 */
export const RATCHET_ROOT_INFO_V2 = "pesuchat ratchet root key v2";

/**
 * Ratchet version 2's KDF_CK info: chain key i to chain key i + B and the message keys i .. i + B
 * - 1, in one HKDF (B = CHAIN_BATCH_KEYS in crypto/ratchet/chain_key.ts).
 */
export const RATCHET_CHAIN_INFO_V2 = "pesuchat ratchet chain key v2";

/** The HKDF info that turns a one-time message key into the AES-256-GCM key and nonce. */
export const MESSAGE_KEY_INFO = "pesuchat ratchet message key v1";

/** KDF_CK's HMAC input for the message key (the Double Ratchet specification's constant 0x01). */
export const CHAIN_MESSAGE_KEY_BYTE = 0x01;

/** KDF_CK's HMAC input for the next chain key (the specification's constant 0x02). */
export const CHAIN_NEXT_KEY_BYTE = 0x02;

/** Prefix of every message an identity signs about a key (see {@linkcode KeyKind}). */
export const KEY_SIGNATURE_CONTEXT = "pesuchat key signature v1";

/**
 * The type tag signed with every key, after {@linkcode KEY_SIGNATURE_CONTEXT}, so a signature on
 * one kind of key can never pass for another kind.
 */
export const KeyKind = Object.freeze({
  /** The identity's own X25519 key, signed by its Ed25519 key. */
  identityDh: 0x01,
  /** A signed X25519 prekey. */
  signedPrekey: 0x02,
  /** A signed ML-KEM-1024 prekey (one-time or last-resort; the flag is signed too). */
  kyberPrekey: 0x03,
});

/** HKDF info for the auth key sent to the server at sign-up and login. */
export const PASSWORD_AUTH_INFO = "pesuchat password auth key v1";

/** HKDF info for the master key that never leaves the client. */
export const PASSWORD_MASTER_INFO = "pesuchat password master key v1";

/** Associated data when the account key is wrapped under the master key. */
export const ACCOUNT_KEY_WRAP_AD = "pesuchat account key wrap v1";

/** HKDF info that turns a recovery key into the key server-held backups are sealed under. */
export const RECOVERY_BACKUP_INFO = "pesuchat recovery backup key v1";

/** Signal's NumericFingerprintGenerator version, hashed first as a big-endian u16. */
export const SAFETY_NUMBER_VERSION = 0;

/** HKDF info prefix for the private keys of the deterministic test vectors (never used live). */
export const VECTOR_KEY_INFO = "pesuchat test vector key v1 ";
