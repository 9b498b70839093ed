/**
 * The keystore, `keystore.json` in the server's folder: the server's static private key, the data
 * key that seals profile fields at rest, the pepper behind fake prelogin salts, and the database
 * password. It is sealed with AES-256-GCM under a key derived by Argon2id from the launch
 * password, asked at every run (or read from an environment variable or file).
 *
 * @module
 */

import {
  aesGcmOpen,
  aesGcmSeal,
  argon2id,
  type Argon2Params,
  DecryptError,
  fromBase64,
  fromUtf8,
  hkdfSha256,
  randomBytes,
  toBase64,
  utf8,
  X25519KeyPair,
} from "../crypto/mod.ts";

/** Argon2id cost for the launch password: above the per-user cost, since it runs once per start. */
export const KEYSTORE_KDF: Readonly<Argon2Params> = Object.freeze({
  memoryKiB: 65536,
  passes: 3,
  parallelism: 1,
});
const KEYSTORE_AD = utf8("pesuchat keystore v1");
const KEYSTORE_INFO = utf8("pesuchat keystore key v1");
/** A second value derived from the launch password and stored in the clear: it tells a wrong
 * password (it differs) from a damaged file (it matches, yet the seal does not open). */
const KEYSTORE_CHECK_INFO = utf8("pesuchat keystore check v1");
const CHECK_BYTES = 16;

/** What the keystore holds. */
export interface KeystoreSecrets {
  serverKey: X25519KeyPair;
  /** Seals profile fields (full name, email) in the database. */
  dataKey: Uint8Array;
  /** Keys the HMAC behind fake prelogin salts for unknown usernames. */
  pepper: Uint8Array;
  /** The MySQL password, kept out of server.json. */
  dbPassword?: string;
}

/** Codes of {@linkcode KeystoreError}. */
export type KeystoreErrorCode = "wrong_password" | "needs_password" | "corrupt";

/** The keystore could not be opened. */
export class KeystoreError extends Error {
  override name = "KeystoreError";
  constructor(readonly code: KeystoreErrorCode, message: string) {
    super(message);
  }
}

/** Fresh secrets for a new server. */
export async function newSecrets(dbPassword?: string): Promise<KeystoreSecrets> {
  const s: KeystoreSecrets = {
    serverKey: await X25519KeyPair.generate(),
    dataKey: randomBytes(32),
    pepper: randomBytes(32),
  };
  if (dbPassword !== undefined) s.dbPassword = dbPassword;
  return s;
}

function encodeSecrets(s: KeystoreSecrets): Uint8Array {
  return utf8(JSON.stringify({
    serverKey: toBase64(s.serverKey.privateBytesUnsafe()),
    dataKey: toBase64(s.dataKey),
    pepper: toBase64(s.pepper),
    dbPassword: s.dbPassword,
  }));
}

async function decodeSecrets(bytes: Uint8Array): Promise<KeystoreSecrets> {
  try {
    const raw = JSON.parse(fromUtf8(bytes));
    const s: KeystoreSecrets = {
      serverKey: await X25519KeyPair.fromPrivate(fromBase64(raw.serverKey)),
      dataKey: fromBase64(raw.dataKey),
      pepper: fromBase64(raw.pepper),
    };
    if (s.dataKey.length !== 32 || s.pepper.length !== 32) throw new Error("key length");
    if (typeof raw.dbPassword === "string") s.dbPassword = raw.dbPassword;
    return s;
  } catch {
    throw new KeystoreError("corrupt", "the keystore is damaged: its contents do not parse");
  }
}

async function passwordKeys(
  password: string,
  salt: Uint8Array,
  params: Argon2Params,
): Promise<{ key: Uint8Array; check: Uint8Array }> {
  const stretched = await argon2id(utf8(password.normalize("NFKC")), salt, params, 32);
  const [key, check] = await Promise.all([
    hkdfSha256(stretched, new Uint8Array(0), KEYSTORE_INFO, 32),
    hkdfSha256(stretched, new Uint8Array(0), KEYSTORE_CHECK_INFO, CHECK_BYTES),
  ]);
  return { key, check };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The keystore file's text, sealed under `password`, or unsealed when `password` is null. */
export async function sealKeystore(
  secrets: KeystoreSecrets,
  password: string | null,
): Promise<string> {
  const plain = encodeSecrets(secrets);
  if (password === null) {
    return JSON.stringify({ version: 1, protected: false, secrets: toBase64(plain) }) + "\n";
  }
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const { key, check } = await passwordKeys(password, salt, KEYSTORE_KDF);
  const sealed = await aesGcmSeal(key, nonce, plain, KEYSTORE_AD);
  return JSON.stringify({
    version: 1,
    protected: true,
    kdf: { alg: "argon2id", ...KEYSTORE_KDF, salt: toBase64(salt) },
    check: toBase64(check),
    nonce: toBase64(nonce),
    sealed: toBase64(sealed),
  }) + "\n";
}

/** True when the keystore text needs a password to open. */
export function keystoreNeedsPassword(text: string): boolean {
  try {
    return JSON.parse(text).protected !== false;
  } catch {
    return true;
  }
}

/**
 * Opens the keystore text. Throws `KeystoreError("wrong_password")` when the password does not
 * open it, `"needs_password"` when none was given for a protected keystore.
 */
export async function openKeystore(
  text: string,
  password: string | null,
): Promise<KeystoreSecrets> {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new KeystoreError("corrupt", "the keystore is damaged: it is not valid JSON");
  }
  if (raw.version !== 1) {
    throw new KeystoreError(
      "corrupt",
      `unsupported keystore version ${JSON.stringify(raw.version)}`,
    );
  }
  if (raw.protected === false) return decodeSecrets(fromBase64(String(raw.secrets)));
  if (password === null) {
    throw new KeystoreError("needs_password", "the keystore is sealed with a launch password");
  }
  const kdf = raw.kdf as Record<string, unknown> | undefined;
  if (!kdf || kdf.alg !== "argon2id") {
    throw new KeystoreError("corrupt", "the keystore names an unknown key derivation");
  }
  let plain: Uint8Array;
  let passwordRight = false;
  try {
    const params = {
      memoryKiB: Number(kdf.memoryKiB),
      passes: Number(kdf.passes),
      parallelism: Number(kdf.parallelism),
    };
    const { key, check } = await passwordKeys(password, fromBase64(String(kdf.salt)), params);
    if (typeof raw.check === "string") {
      if (!sameBytes(check, fromBase64(raw.check))) {
        throw new KeystoreError("wrong_password", "the launch password does not open the keystore");
      }
      passwordRight = true;
    }
    plain = await aesGcmOpen(
      key,
      fromBase64(String(raw.nonce)),
      fromBase64(String(raw.sealed)),
      KEYSTORE_AD,
    );
  } catch (e) {
    if (e instanceof KeystoreError) throw e;
    if (e instanceof DecryptError && e.code === "auth_failed") {
      if (passwordRight) {
        throw new KeystoreError("corrupt", "the keystore is damaged: the password is right");
      }
      throw new KeystoreError("wrong_password", "the launch password does not open the keystore");
    }
    throw new KeystoreError("corrupt", `the keystore is damaged: ${(e as Error).message}`);
  }
  return decodeSecrets(plain);
}
