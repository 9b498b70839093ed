/**
 * Keys from a password, without the server ever seeing it (Bitwarden's model):
 *
 * ```
 * stretched = Argon2id(NFKC(password) as UTF-8, salt (16 random bytes), KdfParams)  32 bytes
 * authKey   = HKDF(stretched, info = PASSWORD_AUTH_INFO)    sent to the server at login
 * masterKey = HKDF(stretched, info = PASSWORD_MASTER_INFO)  AES-256-GCM, never leaves the client
 * ```
 *
 * A random account key, wrapped under the master key, encrypts the local store, so a password
 * change re-wraps that one key and re-encrypts nothing else.
 *
 * KDF parameters arrive from the server at login, so they are bounded both ways: a hostile server
 * must not make a client spend gigabytes of memory, nor lower the cost so the auth key it
 * receives becomes cheap to brute-force back to the password ({@linkcode KDF_FLOOR}).
 *
 * Nothing derived from the password protects data the server holds: the account key wrapped
 * under the master key stays in the local profile, and server-held backups are sealed under a
 * random recovery key (recovery.ts).
 *
 * Sealed blob (version 1): u8 version ‖ nonce (12) ‖ AES-256-GCM ciphertext ‖ tag, with AD =
 * version ‖ the caller's AD. Nonces are random: under one key, 2^32 blobs keep the chance of a
 * repeat below 2^-32, far beyond what a local store or its backups write.
 *
 * @module
 */

import { assertBytes, concat, randomBytes, utf8 } from "./bytes.ts";
import { ByteReader } from "./codec.ts";
import { DecryptError } from "./errors.ts";
import { ACCOUNT_KEY_WRAP_AD, PASSWORD_AUTH_INFO, PASSWORD_MASTER_INFO } from "./labels.ts";
import {
  AesGcmKey,
  argon2id,
  type Argon2Params,
  GCM_NONCE_BYTES,
  GCM_TAG_BYTES,
  hkdfSha256,
  KEY_BYTES,
} from "./subtle.ts";

const INSPECT = Symbol.for("Deno.customInspect");
const AUTH_INFO = utf8(PASSWORD_AUTH_INFO);
const MASTER_INFO = utf8(PASSWORD_MASTER_INFO);
const WRAP_AD = utf8(ACCOUNT_KEY_WRAP_AD);

/** Argon2id cost parameters (the same shape as sql/store.ts's `KdfParams`). */
export type KdfParams = Argon2Params;

/**
 * RFC 9106's second recommended option: 64 MiB, 3 passes, 4 lanes. New accounts and every
 * password change use it; it is stored per account, so it can be raised again later.
 */
export const DEFAULT_KDF_PARAMS: Readonly<KdfParams> = Object.freeze({
  memoryKiB: 65536,
  passes: 3,
  parallelism: 4,
});

/**
 * The least cost a client accepts from a server for an account it does not know: the default's
 * memory and passes. A server that answers with less is refused, so it cannot make a new
 * machine hand over an auth key that is cheap to brute-force back to the password.
 */
export const KDF_FLOOR: Readonly<Pick<KdfParams, "memoryKiB" | "passes">> = Object.freeze({
  memoryKiB: 65536,
  passes: 3,
});

/**
 * OWASP's figure (19,456 KiB, 2 passes, 1 lane), what accounts were made with before the
 * default was raised. Accepted only where the profile on this machine recorded it for the
 * account; the next password change upgrades the account.
 */
export const LEGACY_KDF_PARAMS: Readonly<KdfParams> = Object.freeze({
  memoryKiB: 19456,
  passes: 2,
  parallelism: 1,
});

/** Bytes of the Argon2id salt. */
export const KDF_SALT_BYTES = 16;
/** Least memory accepted at all: the legacy figure (see {@linkcode KDF_FLOOR} for the rest). */
export const KDF_MIN_MEMORY_KIB = 19456;
/** Most memory accepted (256 MiB, four times the default), so a server cannot make a client
 * allocate gigabytes. */
export const KDF_MAX_MEMORY_KIB = 262144;
/** Fewest passes accepted at all. */
export const KDF_MIN_PASSES = 2;
/** Most passes accepted (with the memory bound, a few seconds on a slow machine). */
export const KDF_MAX_PASSES = 10;
/** Most lanes accepted. */
export const KDF_MAX_PARALLELISM = 4;

/** True when `p` costs at least {@linkcode KDF_FLOOR} (memory and passes). */
export function meetsKdfFloor(p: KdfParams): boolean {
  return p.memoryKiB >= KDF_FLOOR.memoryKiB && p.passes >= KDF_FLOOR.passes;
}

/** Version byte of sealed blobs. */
export const BLOB_VERSION = 0x01;
/** Bytes a sealed blob adds to its plaintext. */
export const BLOB_OVERHEAD = 1 + GCM_NONCE_BYTES + GCM_TAG_BYTES;

/** Codes of {@linkcode PasswordError}. */
export type PasswordErrorCode =
  | "kdf_out_of_bounds" // KDF parameters outside the named bounds
  | "bad_salt"; // a salt of the wrong length

/** Password keys could not be derived from what was given. */
export class PasswordError extends Error {
  override name = "PasswordError";
  constructor(readonly code: PasswordErrorCode, message: string) {
    super(message);
  }
}

/** Throws `PasswordError("kdf_out_of_bounds")` naming the first parameter outside its bounds. */
export function checkKdfParams(params: KdfParams): void {
  const check = (name: string, value: unknown, min: number, max: number) => {
    if (!Number.isInteger(value) || (value as number) < min || (value as number) > max) {
      throw new PasswordError(
        "kdf_out_of_bounds",
        `${name}: expected an integer in [${min}, ${max}], got ${value}`,
      );
    }
  };
  if (typeof params !== "object" || params === null) {
    throw new PasswordError("kdf_out_of_bounds", "expected KDF parameters");
  }
  check("memoryKiB", params.memoryKiB, KDF_MIN_MEMORY_KIB, KDF_MAX_MEMORY_KIB);
  check("passes", params.passes, KDF_MIN_PASSES, KDF_MAX_PASSES);
  check("parallelism", params.parallelism, 1, KDF_MAX_PARALLELISM);
}

/** A fresh random salt for a new account or a password change. */
export function newSalt(): Uint8Array<ArrayBuffer> {
  return randomBytes(KDF_SALT_BYTES);
}

/** An AES-256-GCM key that seals blobs (see {@linkcode sealBlob}). Prints as `[redacted]`. */
export class SealingKey {
  readonly #aes: AesGcmKey;
  protected constructor(aes: AesGcmKey) {
    this.#aes = aes;
  }

  /** Same as {@linkcode sealBlob}(this, plaintext, ad). */
  async seal(plaintext: Uint8Array, ad: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    assertBytes(plaintext, undefined, "plaintext");
    assertBytes(ad, undefined, "ad");
    const header = Uint8Array.of(BLOB_VERSION);
    const nonce = randomBytes(GCM_NONCE_BYTES);
    const sealed = await this.#aes.seal(nonce, plaintext, concat(header, ad));
    return concat(header, nonce, sealed);
  }

  /** Same as {@linkcode openBlob}(this, blob, ad). */
  async open(blob: Uint8Array, ad: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    assertBytes(ad, undefined, "ad");
    const fail = (m: string) => new DecryptError("bad_format", `sealed blob: ${m}`);
    if (!(blob instanceof Uint8Array)) throw fail("expected Uint8Array");
    const r = new ByteReader(blob, fail);
    const version = r.u8("version");
    if (version !== BLOB_VERSION) throw fail(`expected version ${BLOB_VERSION}, got ${version}`);
    const nonce = r.bytes(GCM_NONCE_BYTES, "nonce");
    if (r.remaining < GCM_TAG_BYTES) throw fail("shorter than its tag");
    return await this.#aes.open(nonce, r.rest(), concat(Uint8Array.of(BLOB_VERSION), ad));
  }

  [INSPECT](): string {
    return `${this.constructor.name} [redacted]`;
  }
  toJSON(): string {
    return "[redacted]";
  }
}

/** The key derived from the password that wraps the account key. Never leaves the client. */
export class MasterKey extends SealingKey {
  /** @internal Imports 32 derived bytes. */
  static async fromBytes(bytes: Uint8Array): Promise<MasterKey> {
    return new MasterKey(await AesGcmKey.import(bytes));
  }
}

/** The auth key the client sends to the server, which stores only a salted hash of it. */
export class AuthKey {
  readonly #bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    assertBytes(bytes, KEY_BYTES, "auth key");
    this.#bytes = bytes;
  }
  /** The 32 bytes to send. Unsafe: whoever holds them can log in as the user. */
  bytesUnsafe(): Uint8Array {
    return this.#bytes;
  }
  [INSPECT](): string {
    return "AuthKey [redacted]";
  }
  toJSON(): string {
    return "[redacted]";
  }
}

/** The two keys a password gives. */
export interface PasswordKeys {
  authKey: AuthKey;
  masterKey: MasterKey;
}

/**
 * Argon2id of the NFKC-normalised password, then HKDF into the auth key and the master key.
 * Throws `PasswordError` for a salt that is not 16 bytes or parameters outside the bounds,
 * before any memory is spent.
 *
 * @example Sign-up: wrap a fresh account key, seal data under it
 * ```ts
 * import assert from "node:assert/strict";
 * import {
 *   AccountKey,
 *   DEFAULT_KDF_PARAMS,
 *   derivePasswordKeys,
 *   newSalt,
 *   openBlob,
 *   sealBlob,
 * } from "./password.ts";
 *
 * const salt = newSalt();
 * const { authKey, masterKey } = await derivePasswordKeys("hunter2", salt, DEFAULT_KDF_PARAMS);
 * assert.equal(authKey.bytesUnsafe().length, 32); // what the server gets
 * const account = await AccountKey.generate();
 * const wrapped = await account.wrap(masterKey); // kept in the local profile
 * const blob = await sealBlob(account, new TextEncoder().encode("chat log"), new Uint8Array());
 * const again = await AccountKey.unwrap(masterKey, wrapped);
 * assert.equal(new TextDecoder().decode(await openBlob(again, blob, new Uint8Array())), "chat log");
 * ```
 */
export async function derivePasswordKeys(
  password: string,
  salt: Uint8Array,
  params: KdfParams,
): Promise<PasswordKeys> {
  if (typeof password !== "string") throw new TypeError("password: expected a string");
  if (!(salt instanceof Uint8Array) || salt.length !== KDF_SALT_BYTES) {
    throw new PasswordError(
      "bad_salt",
      `salt: expected ${KDF_SALT_BYTES} bytes, got ${
        salt instanceof Uint8Array ? salt.length : typeof salt
      }`,
    );
  }
  checkKdfParams(params);
  // NFKC so the same password typed on two keyboards (composed or decomposed accents, full-width
  // digits) gives the same keys.
  const stretched = await argon2id(utf8(password.normalize("NFKC")), salt, params, KEY_BYTES);
  const [auth, master] = await Promise.all([
    hkdfSha256(stretched, new Uint8Array(0), AUTH_INFO, KEY_BYTES),
    hkdfSha256(stretched, new Uint8Array(0), MASTER_INFO, KEY_BYTES),
  ]);
  stretched.fill(0);
  const masterKey = await MasterKey.fromBytes(master);
  master.fill(0);
  return { authKey: new AuthKey(auth), masterKey };
}

/** The random key that encrypts the local store. */
export class AccountKey extends SealingKey {
  readonly #bytes: Uint8Array;
  private constructor(aes: AesGcmKey, bytes: Uint8Array) {
    super(aes);
    this.#bytes = bytes;
  }

  /** A fresh random account key (at sign-up). */
  static generate(): Promise<AccountKey> {
    return AccountKey.#fromBytes(randomBytes(KEY_BYTES));
  }

  static async #fromBytes(bytes: Uint8Array): Promise<AccountKey> {
    return new AccountKey(await AesGcmKey.import(bytes), bytes);
  }

  /** The account key sealed under the master key (kept in the local profile only). */
  wrap(masterKey: MasterKey): Promise<Uint8Array<ArrayBuffer>> {
    return sealBlob(masterKey, this.#bytes, WRAP_AD);
  }

  /** Unwraps {@linkcode wrap}'s output; `DecryptError("auth_failed")` under the wrong key. */
  static async unwrap(masterKey: MasterKey, wrapped: Uint8Array): Promise<AccountKey> {
    const bytes = await openBlob(masterKey, wrapped, WRAP_AD);
    if (bytes.length !== KEY_BYTES) {
      throw new DecryptError("bad_format", `account key: expected ${KEY_BYTES} bytes`);
    }
    return AccountKey.#fromBytes(bytes);
  }
}

/** Seals `plaintext` under `key` with a random nonce; `ad` must be given again to open it. */
export function sealBlob(
  key: SealingKey,
  plaintext: Uint8Array,
  ad: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  return key.seal(plaintext, ad);
}

/**
 * Opens {@linkcode sealBlob}'s output. `DecryptError("bad_format")` for a short blob or another
 * version, `DecryptError("auth_failed")` for the wrong key, a wrong AD or any changed byte.
 */
export function openBlob(
  key: SealingKey,
  blob: Uint8Array,
  ad: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  return key.open(blob, ad);
}
