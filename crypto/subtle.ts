/**
 * The one place that calls `crypto.subtle`. Every exported function checks its inputs and names
 * what it expected; every key object prints as `[redacted]`.
 *
 * Quirks of Web Crypto in Deno 2.9 that this file absorbs:
 * - Every call is asynchronous and costs a roughly fixed toll (tens of microseconds) whatever the
 *   size, so callers batch work into fewer calls; imported keys can be reused to save the import.
 * - X25519 `importKey("raw")` accepts an all-zero public key; a low-order peer key surfaces only
 *   as an `OperationError` from `deriveBits`. {@linkcode x25519} turns both into a `KeyError` and
 *   also refuses an all-zero shared secret, as Noise and Signal require.
 * - Raw private keys are not importable for X25519/Ed25519: they go through a fixed PKCS#8 prefix.
 * - ML-KEM private keys are exported and imported as their 64-byte seed ("raw-seed"), public keys
 *   as "raw-public"; encapsulation is randomised inside Web Crypto and cannot be seeded.
 * - Argon2id keys are imported with the "raw-secret" format.
 *
 * @module
 */

import { assertBytes, concat, copyBytes, equalBytes, isAllZero, toHex } from "./bytes.ts";
import { DecryptError, KeyError } from "./errors.ts";

const subtle = crypto.subtle;
const INSPECT = Symbol.for("Deno.customInspect");

/** Bytes of an X25519 or Ed25519 key, and of a shared secret. */
export const KEY_BYTES = 32;
/** Bytes of an Ed25519 signature. */
export const SIGNATURE_BYTES = 64;
/** Bytes of an AES-GCM nonce. */
export const GCM_NONCE_BYTES = 12;
/** Bytes of an AES-GCM tag. */
export const GCM_TAG_BYTES = 16;
/** Bytes of an ML-KEM-1024 encapsulation (public) key. */
export const MLKEM_PUBLIC_BYTES = 1568;
/** Bytes of an ML-KEM-1024 ciphertext. */
export const MLKEM_CIPHERTEXT_BYTES = 1568;
/** Bytes of an ML-KEM private key seed (d ‖ z). */
export const MLKEM_SEED_BYTES = 64;

// X25519 private keys derive bits (DH outputs as bytes) and keys (DH outputs as HKDF keys).
const X25519_USAGES: KeyUsage[] = ["deriveBits", "deriveKey"];

// RFC 8410 PKCS#8 wrappers around a raw 32-byte private key.
const X25519_PKCS8_PREFIX = Uint8Array.fromHex("302e020100300506032b656e04220420");
const ED25519_PKCS8_PREFIX = Uint8Array.fromHex("302e020100300506032b657004220420");

// Web Crypto's TypeScript types lag behind Deno: ML-KEM and Argon2id are typed loosely here.
// deno-lint-ignore no-explicit-any
const anySubtle = subtle as any;

function redacted(kind: string, publicKey?: Uint8Array): string {
  return publicKey
    ? `${kind} { publicKey: ${toHex(publicKey)}, privateKey: [redacted] }`
    : `${kind} [redacted]`;
}

// ---------------------------------------------------------------------------------------------
// Hashes, MAC, KDF

/** SHA-256 of `data`. */
export async function sha256(data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  assertBytes(data, undefined, "data");
  return new Uint8Array(await subtle.digest("SHA-256", copyIfShared(data)));
}

/** SHA-512 of `data`. */
export async function sha512(data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  assertBytes(data, undefined, "data");
  return new Uint8Array(await subtle.digest("SHA-512", copyIfShared(data)));
}

/** An imported HMAC-SHA256 key, reusable across many MACs to save the import. */
export class HmacKey {
  private constructor(readonly cryptoKey: CryptoKey) {}

  /** Imports `key` (any length; an empty key is allowed, as RFC 2104 permits). */
  static async import(key: Uint8Array): Promise<HmacKey> {
    assertBytes(key, undefined, "key");
    // Web Crypto refuses a zero-length HMAC key; HMAC pads the key with zeros to the block size,
    // so a single zero byte is the same key.
    const raw = key.length === 0 ? new Uint8Array(1) : copyIfShared(key);
    const k = await subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
      "verify",
    ]);
    return new HmacKey(k);
  }

  /** HMAC-SHA256 of `data`. */
  async sign(data: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    assertBytes(data, undefined, "data");
    return new Uint8Array(await subtle.sign("HMAC", this.cryptoKey, copyIfShared(data)));
  }

  [INSPECT](): string {
    return redacted("HmacKey");
  }
  toJSON(): string {
    return "[redacted]";
  }
}

/** HMAC-SHA256 of `data` under `key`. */
export async function hmacSha256(
  key: Uint8Array,
  data: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  return (await HmacKey.import(key)).sign(data);
}

/**
 * HKDF-SHA256 (RFC 5869): `length` bytes from `ikm`, `salt` (empty means HashLen zero bytes) and
 * `info`. At most 255 × 32 bytes.
 */
export async function hkdfSha256(
  ikm: Uint8Array,
  salt: Uint8Array,
  info: Uint8Array,
  length: number,
): Promise<Uint8Array<ArrayBuffer>> {
  assertBytes(ikm, undefined, "ikm");
  assertBytes(salt, undefined, "salt");
  assertBytes(info, undefined, "info");
  if (!Number.isInteger(length) || length < 1 || length > 255 * 32) {
    throw new RangeError(`length: expected 1..8160 bytes, got ${length}`);
  }
  return (await HkdfKey.import(ikm)).derive(salt, info, length);
}

/** HKDF-SHA256 input key material held by Web Crypto, as an import or an X25519 output. */
export class HkdfKey {
  private constructor(readonly cryptoKey: CryptoKey) {}

  /** Imports `ikm` (any length). */
  static async import(ikm: Uint8Array): Promise<HkdfKey> {
    assertBytes(ikm, undefined, "ikm");
    return new HkdfKey(
      await subtle.importKey("raw", copyIfShared(ikm), "HKDF", false, ["deriveBits"]),
    );
  }

  /** @internal Wraps a key Web Crypto derived (see X25519KeyPair.dhHkdfKey). */
  static wrap(key: CryptoKey): HkdfKey {
    return new HkdfKey(key);
  }

  /** `length` bytes (at most 255 × 32) of HKDF-SHA256 with `salt` and `info`. */
  async derive(
    salt: Uint8Array,
    info: Uint8Array,
    length: number,
  ): Promise<Uint8Array<ArrayBuffer>> {
    assertBytes(salt, undefined, "salt");
    assertBytes(info, undefined, "info");
    if (!Number.isInteger(length) || length < 1 || length > 255 * 32) {
      throw new RangeError(`length: expected 1..8160 bytes, got ${length}`);
    }
    const bits = await subtle.deriveBits(
      { name: "HKDF", hash: "SHA-256", salt: copyIfShared(salt), info: copyIfShared(info) },
      this.cryptoKey,
      length * 8,
    );
    return new Uint8Array(bits);
  }

  [INSPECT](): string {
    return redacted("HkdfKey");
  }
  toJSON(): string {
    return "[redacted]";
  }
}

// ---------------------------------------------------------------------------------------------
// AES-256-GCM

/** An imported AES-GCM key (128, 192 or 256 bits), reusable across many seals and opens. */
export class AesGcmKey {
  private constructor(readonly cryptoKey: CryptoKey) {}

  /** Imports a raw AES key of 16, 24 or 32 bytes. */
  static async import(key: Uint8Array): Promise<AesGcmKey> {
    assertBytes(key, undefined, "key");
    if (key.length !== 16 && key.length !== 24 && key.length !== 32) {
      throw new TypeError(`key: expected 16, 24 or 32 bytes, got ${key.length}`);
    }
    const k = await subtle.importKey("raw", copyIfShared(key), "AES-GCM", false, [
      "encrypt",
      "decrypt",
    ]);
    return new AesGcmKey(k);
  }

  /** Encrypts; the result is ciphertext ‖ 16-byte tag. The caller guarantees a unique nonce. */
  async seal(
    nonce: Uint8Array,
    plaintext: Uint8Array,
    ad: Uint8Array,
  ): Promise<Uint8Array<ArrayBuffer>> {
    assertBytes(nonce, GCM_NONCE_BYTES, "nonce");
    assertBytes(plaintext, undefined, "plaintext");
    assertBytes(ad, undefined, "ad");
    const ct = await subtle.encrypt(
      {
        name: "AES-GCM",
        iv: copyIfShared(nonce),
        additionalData: copyIfShared(ad),
        tagLength: 128,
      },
      this.cryptoKey,
      copyIfShared(plaintext),
    );
    return new Uint8Array(ct);
  }

  /** Decrypts ciphertext ‖ tag; throws `DecryptError("auth_failed")` when it does not verify. */
  async open(
    nonce: Uint8Array,
    sealed: Uint8Array,
    ad: Uint8Array,
  ): Promise<Uint8Array<ArrayBuffer>> {
    assertBytes(nonce, GCM_NONCE_BYTES, "nonce");
    assertBytes(sealed, undefined, "ciphertext");
    assertBytes(ad, undefined, "ad");
    if (sealed.length < GCM_TAG_BYTES) {
      throw new DecryptError(
        "bad_format",
        `expected at least ${GCM_TAG_BYTES} bytes, got ${sealed.length}`,
      );
    }
    try {
      const pt = await subtle.decrypt(
        {
          name: "AES-GCM",
          iv: copyIfShared(nonce),
          additionalData: copyIfShared(ad),
          tagLength: 128,
        },
        this.cryptoKey,
        copyIfShared(sealed),
      );
      return new Uint8Array(pt);
    } catch {
      throw new DecryptError("auth_failed", "AES-GCM tag did not verify");
    }
  }

  [INSPECT](): string {
    return redacted("AesGcmKey");
  }
  toJSON(): string {
    return "[redacted]";
  }
}

/** One-shot AES-GCM seal (imports the key each time; prefer {@linkcode AesGcmKey} in loops). */
export async function aesGcmSeal(
  key: Uint8Array,
  nonce: Uint8Array,
  plaintext: Uint8Array,
  ad: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  return (await AesGcmKey.import(key)).seal(nonce, plaintext, ad);
}

/** One-shot AES-GCM open; throws `DecryptError("auth_failed")` when it does not verify. */
export async function aesGcmOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  sealed: Uint8Array,
  ad: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  return (await AesGcmKey.import(key)).open(nonce, sealed, ad);
}

// ---------------------------------------------------------------------------------------------
// X25519

/** An X25519 key pair. The private half prints as `[redacted]`. */
export class X25519KeyPair {
  readonly #privateKey: CryptoKey;
  readonly #privateBytes: Uint8Array;
  private constructor(
    readonly publicKey: Uint8Array,
    privateKey: CryptoKey,
    privateBytes: Uint8Array,
  ) {
    this.#privateKey = privateKey;
    this.#privateBytes = privateBytes;
  }

  /** A fresh random key pair. */
  static async generate(): Promise<X25519KeyPair> {
    const kp = (await subtle.generateKey({ name: "X25519" }, true, X25519_USAGES)) as CryptoKeyPair;
    const pkcs8 = new Uint8Array(await subtle.exportKey("pkcs8", kp.privateKey));
    const publicKey = new Uint8Array(await subtle.exportKey("raw", kp.publicKey));
    return new X25519KeyPair(publicKey, kp.privateKey, pkcs8.slice(X25519_PKCS8_PREFIX.length));
  }

  /** The key pair whose private key is the 32 bytes given (clamped by X25519 itself). */
  static async fromPrivate(privateKey: Uint8Array): Promise<X25519KeyPair> {
    assertBytes(privateKey, KEY_BYTES, "privateKey");
    const pkcs8 = new Uint8Array(X25519_PKCS8_PREFIX.length + KEY_BYTES);
    pkcs8.set(privateKey, X25519_PKCS8_PREFIX.length);
    return await X25519KeyPair.#fromPkcs8(pkcs8);
  }

  /**
   * A fresh random key pair, as `fromPrivate` over random bytes makes it (one import and the JWK
   * export that computes the public key, less than `generate`'s three calls), the random bytes
   * drawn straight into their place in the PKCS#8 encoding.
   */
  static random(): Promise<X25519KeyPair> {
    const pkcs8 = new Uint8Array(X25519_PKCS8_PREFIX.length + KEY_BYTES);
    crypto.getRandomValues(pkcs8.subarray(X25519_PKCS8_PREFIX.length));
    return X25519KeyPair.#fromPkcs8(pkcs8);
  }

  /**
   * `pkcs8`: the prefix's room then the private key, in a buffer of its own that the key pair
   * keeps (its private bytes are a view of it; Web Crypto copies what it imports).
   */
  static async #fromPkcs8(pkcs8: Uint8Array<ArrayBuffer>): Promise<X25519KeyPair> {
    pkcs8.set(X25519_PKCS8_PREFIX);
    const k = await subtle.importKey("pkcs8", pkcs8, { name: "X25519" }, true, X25519_USAGES);
    const jwk = await subtle.exportKey("jwk", k);
    const publicKey = Uint8Array.fromBase64(jwk.x!, { alphabet: "base64url" });
    return new X25519KeyPair(publicKey, k, pkcs8.subarray(X25519_PKCS8_PREFIX.length));
  }

  /**
   * The key pair whose private key is the 32 bytes given, with its DHs free to start before the
   * public key is known: the private key's import is quick, while computing the public key (the
   * JWK export) is a scalar multiplication on a worker thread. A DH started here runs beside that
   * one. The same refusals as {@linkcode x25519}.
   */
  static startFromPrivate(privateKey: Uint8Array): X25519KeyPairStart {
    assertBytes(privateKey, KEY_BYTES, "privateKey");
    // One buffer for the import and the key pair's own copy of the private key (a view of it).
    return X25519KeyPair.#start(concat(X25519_PKCS8_PREFIX, privateKey));
  }

  /**
   * A fresh random key pair as {@linkcode startFromPrivate} makes it, its DHs free to start before
   * the public key is known; the random bytes are drawn straight into their place in the PKCS#8
   * encoding, as {@linkcode random} draws them.
   */
  static startRandom(): X25519KeyPairStart {
    const pkcs8 = new Uint8Array(X25519_PKCS8_PREFIX.length + KEY_BYTES);
    crypto.getRandomValues(pkcs8.subarray(X25519_PKCS8_PREFIX.length));
    pkcs8.set(X25519_PKCS8_PREFIX);
    return X25519KeyPair.#start(pkcs8);
  }

  /** `pkcs8`: the prefix then the private key, in a buffer the key pair keeps (see #fromPkcs8). */
  static #start(pkcs8: Uint8Array<ArrayBuffer>): X25519KeyPairStart {
    const secret = pkcs8.subarray(X25519_PKCS8_PREFIX.length);
    const imported: Promise<CryptoKey> = subtle.importKey(
      "pkcs8",
      pkcs8,
      { name: "X25519" },
      true,
      X25519_USAGES,
    );
    const keyPair = imported.then(async (k) => {
      const jwk = await subtle.exportKey("jwk", k);
      return new X25519KeyPair(Uint8Array.fromBase64(jwk.x!, { alphabet: "base64url" }), k, secret);
    });
    keyPair.catch(() => {}); // the caller awaits it; this keeps a failure from going unhandled
    return {
      keyPair,
      dh: (peer) => imported.then((k) => x25519Raw(k, peer)),
      dhHkdfKey: (peer) => imported.then((k) => dhHkdf(k, peer)),
    };
  }

  /**
   * The key pair from private key bytes and the public key computed from them earlier, as
   * persisted state holds both. Unsafe: the public key is taken on trust, not recomputed, which
   * saves the scalar multiplication `fromPrivate` pays; the caller vouches that they belong
   * together (a mismatch only makes later DH outputs disagree with the peer's).
   */
  static async fromStoredUnsafe(
    privateKey: Uint8Array,
    publicKey: Uint8Array,
  ): Promise<X25519KeyPair> {
    assertBytes(privateKey, KEY_BYTES, "privateKey");
    assertBytes(publicKey, KEY_BYTES, "publicKey");
    const k = await subtle.importKey(
      "pkcs8",
      concat(X25519_PKCS8_PREFIX, privateKey),
      { name: "X25519" },
      false,
      X25519_USAGES,
    );
    return new X25519KeyPair(copyBytes(publicKey), k, copyBytes(privateKey));
  }

  /** The 32 private key bytes. Unsafe: the caller must keep them secret (used to persist state). */
  privateBytesUnsafe(): Uint8Array {
    return copyBytes(this.#privateBytes);
  }

  /**
   * @internal The private key bytes themselves, not a copy, for an owner that only reads them
   * (a ratchet key pair writing its state). Unsafe: secret, and must not be changed.
   */
  privateBytesSharedUnsafe(): Uint8Array {
    return this.#privateBytes;
  }

  /** X25519(private, peer); see {@linkcode x25519}. */
  dh(peerPublicKey: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    return x25519Raw(this.#privateKey, peerPublicKey);
  }

  /**
   * X25519(private, peer) straight into an HKDF key, in one call where `dh` and an HKDF import
   * take two. The same refusals as {@linkcode x25519}: Web Crypto itself refuses the all-zero
   * secret a low-order key yields (OperationError, turned into `KeyError("bad_public_key")`),
   * which is the one check `dh` adds on the bytes.
   */
  dhHkdfKey(peerPublicKey: Uint8Array): Promise<HkdfKey> {
    return dhHkdf(this.#privateKey, peerPublicKey);
  }

  [INSPECT](): string {
    return redacted("X25519KeyPair", this.publicKey);
  }
  toJSON(): unknown {
    return { publicKey: toHex(this.publicKey), privateKey: "[redacted]" };
  }
}

/**
 * A key pair being made by {@linkcode X25519KeyPair.startFromPrivate} or
 * {@linkcode X25519KeyPair.startRandom}: DHs can start at once.
 */
export interface X25519KeyPairStart {
  /** The key pair, once its public key is computed. */
  readonly keyPair: Promise<X25519KeyPair>;
  /** As {@linkcode X25519KeyPair.dh}. */
  dh(peerPublicKey: Uint8Array): Promise<Uint8Array<ArrayBuffer>>;
  /** As {@linkcode X25519KeyPair.dhHkdfKey}. */
  dhHkdfKey(peerPublicKey: Uint8Array): Promise<HkdfKey>;
}

async function dhHkdf(privateKey: CryptoKey, peerPublicKey: Uint8Array): Promise<HkdfKey> {
  const pub = await importX25519Public(peerPublicKey);
  try {
    return HkdfKey.wrap(
      await subtle.deriveKey({ name: "X25519", public: pub }, privateKey, "HKDF", false, [
        "deriveBits",
      ]),
    );
  } catch {
    throw new KeyError("bad_public_key", "X25519 public key refused (low-order or invalid point)");
  }
}

/**
 * X25519 Diffie-Hellman. Throws `KeyError("bad_public_key")` for a peer key of the wrong length,
 * one Web Crypto refuses, or one that yields the all-zero secret (a low-order point), so no caller
 * can mix a predictable value into a key.
 */
export function x25519(
  own: X25519KeyPair,
  peerPublicKey: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  return own.dh(peerPublicKey);
}

/** Imported public keys kept for reuse, per algorithm: the most recently used this many. */
export const X25519_PUBLIC_CACHE_ENTRIES = 64;
const publicKeys = { X25519: new Map<string, Promise<CryptoKey>>(), Ed25519: new Map() };

/** How many imported X25519 public keys the cache holds now (for tests of its bound). */
export function x25519PublicCacheSize(): number {
  return publicKeys.X25519.size;
}

/**
 * A public key imported, from the cache when it was imported lately. A session imports the same
 * keys again and again (the peer's ratchet key for both DHs of a step; PQXDH's signed prekey and
 * ephemeral key for several DHs; an identity key for each signature it checks), and each import
 * is a Web Crypto call. Public keys only, so sharing them across sessions reveals nothing; a key
 * Web Crypto refuses is not kept.
 */
function importPublic(name: "X25519" | "Ed25519", bytes: Uint8Array): Promise<CryptoKey> {
  const cache: Map<string, Promise<CryptoKey>> = publicKeys[name];
  const id = toHex(bytes);
  let key = cache.get(id);
  if (key) {
    cache.delete(id); // most recently used last: eviction takes the first
  } else {
    const usages: KeyUsage[] = name === "Ed25519" ? ["verify"] : [];
    key = subtle.importKey("raw", copyIfShared(bytes), { name }, true, usages);
    key.catch(() => {
      if (cache.get(id) === key) cache.delete(id);
    });
  }
  cache.set(id, key);
  if (cache.size > X25519_PUBLIC_CACHE_ENTRIES) cache.delete(cache.keys().next().value!);
  return key;
}

function importX25519Public(peerPublicKey: Uint8Array): Promise<CryptoKey> {
  if (!(peerPublicKey instanceof Uint8Array) || peerPublicKey.length !== KEY_BYTES) {
    throw new KeyError(
      "bad_public_key",
      `X25519 public key: expected ${KEY_BYTES} bytes, got ${
        peerPublicKey instanceof Uint8Array ? peerPublicKey.length : typeof peerPublicKey
      }`,
    );
  }
  return importPublic("X25519", peerPublicKey);
}

async function x25519Raw(
  privateKey: CryptoKey,
  peerPublicKey: Uint8Array,
): Promise<Uint8Array<ArrayBuffer>> {
  const imported = importX25519Public(peerPublicKey);
  let shared: Uint8Array<ArrayBuffer>;
  try {
    const pub = await imported;
    shared = new Uint8Array(
      await subtle.deriveBits({ name: "X25519", public: pub }, privateKey, 256),
    );
  } catch {
    throw new KeyError("bad_public_key", "X25519 public key refused (low-order or invalid point)");
  }
  if (isAllZero(shared)) {
    throw new KeyError(
      "bad_public_key",
      "X25519 shared secret is all zeros (low-order public key)",
    );
  }
  return shared;
}

// ---------------------------------------------------------------------------------------------
// Ed25519

/** An Ed25519 signing key pair. The private half prints as `[redacted]`. */
export class Ed25519KeyPair {
  readonly #privateKey: CryptoKey;
  readonly #seed: Uint8Array;
  private constructor(readonly publicKey: Uint8Array, privateKey: CryptoKey, seed: Uint8Array) {
    this.#privateKey = privateKey;
    this.#seed = seed;
  }

  /** A fresh random key pair. */
  static async generate(): Promise<Ed25519KeyPair> {
    const kp =
      (await subtle.generateKey({ name: "Ed25519" }, true, ["sign", "verify"])) as CryptoKeyPair;
    const pkcs8 = new Uint8Array(await subtle.exportKey("pkcs8", kp.privateKey));
    const publicKey = new Uint8Array(await subtle.exportKey("raw", kp.publicKey));
    return new Ed25519KeyPair(publicKey, kp.privateKey, pkcs8.slice(ED25519_PKCS8_PREFIX.length));
  }

  /** The key pair with the given 32-byte seed (RFC 8032's "secret key"). */
  static async fromSeed(seed: Uint8Array): Promise<Ed25519KeyPair> {
    assertBytes(seed, KEY_BYTES, "seed");
    const k = await subtle.importKey(
      "pkcs8",
      concat(ED25519_PKCS8_PREFIX, seed),
      { name: "Ed25519" },
      true,
      [
        "sign",
      ],
    );
    const jwk = await subtle.exportKey("jwk", k);
    const publicKey = Uint8Array.fromBase64(jwk.x!, { alphabet: "base64url" });
    return new Ed25519KeyPair(publicKey, k, copyBytes(seed));
  }

  /** The 32-byte seed. Unsafe: the caller must keep it secret (used to persist identities). */
  seedUnsafe(): Uint8Array {
    return copyBytes(this.#seed);
  }

  /** An Ed25519 signature of `message`. */
  async sign(message: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    assertBytes(message, undefined, "message");
    return new Uint8Array(await subtle.sign("Ed25519", this.#privateKey, copyIfShared(message)));
  }

  [INSPECT](): string {
    return redacted("Ed25519KeyPair", this.publicKey);
  }
  toJSON(): unknown {
    return { publicKey: toHex(this.publicKey), privateKey: "[redacted]" };
  }
}

/**
 * Verifies an Ed25519 signature. Returns false, never throws, for a malformed key or signature,
 * so an attacker's bytes cannot take a different path from a wrong signature.
 */
export async function ed25519Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): Promise<boolean> {
  assertBytes(message, undefined, "message");
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== KEY_BYTES) return false;
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES) return false;
  const id = toHex(publicKey) + toHex(signature);
  const seen = verifiedSignatures.get(id);
  if (seen && equalBytes(seen, message)) return true;
  let ok: boolean;
  try {
    const k = await importPublic("Ed25519", publicKey);
    ok = await subtle.verify("Ed25519", k, copyIfShared(signature), copyIfShared(message));
  } catch {
    return false;
  }
  if (ok) {
    verifiedSignatures.delete(id);
    verifiedSignatures.set(id, copyBytes(message));
    if (verifiedSignatures.size > VERIFIED_SIGNATURE_CACHE_ENTRIES) {
      verifiedSignatures.delete(verifiedSignatures.keys().next().value!);
    }
  }
  return ok;
}

/**
 * Signatures that verified lately, the most recent this many: an identity's signature over its
 * X25519 key is checked on every bundle and every first message from that contact. A hit needs
 * the same key, signature and message bytes as a check that passed, so it answers exactly as
 * Web Crypto would; failures are never kept.
 */
export const VERIFIED_SIGNATURE_CACHE_ENTRIES = 64;
const verifiedSignatures = new Map<string, Uint8Array>();

/** How many verified signatures the cache holds now (for tests of its bound). */
export function verifiedSignatureCacheSize(): number {
  return verifiedSignatures.size;
}

// ---------------------------------------------------------------------------------------------
// ML-KEM-1024

/** Microtask turns ML-KEM key generation yields before it holds the JS thread. */
const YIELD_TURNS = 4;

/** An ML-KEM-1024 key pair. The private half (its seed) prints as `[redacted]`. */
export class MlKemKeyPair {
  readonly #privateKey: CryptoKey;
  readonly #seed: Uint8Array;
  private constructor(readonly publicKey: Uint8Array, privateKey: CryptoKey, seed: Uint8Array) {
    this.#privateKey = privateKey;
    this.#seed = seed;
  }

  /**
   * A fresh random key pair: a random seed (d ‖ z, as FIPS 203's key generation draws them),
   * imported. Deno's `generateKey` and the two exports that keep its seed and public key cost
   * about a third more CPU than this import, `getPublicKey` and one export.
   */
  static async generate(): Promise<MlKemKeyPair> {
    // Deno expands an ML-KEM seed into its key pair on the JS thread (about 160 µs). Yielding a
    // few microtask turns first lets calls a caller started just before reach their worker
    // threads (an X25519 key pair made beside it issues its export two turns after its import),
    // so they run during the expansion instead of after it.
    for (let i = 0; i < YIELD_TURNS; i++) await null;
    return await MlKemKeyPair.#fromOwnSeed(
      crypto.getRandomValues(new Uint8Array(MLKEM_SEED_BYTES)),
    );
  }

  /** The key pair derived from a 64-byte seed (d ‖ z, FIPS 203). */
  static async fromSeed(seed: Uint8Array): Promise<MlKemKeyPair> {
    assertBytes(seed, MLKEM_SEED_BYTES, "seed");
    return await MlKemKeyPair.#fromOwnSeed(copyBytes(seed));
  }

  /** `seed`: a buffer of its own, which the key pair keeps. */
  static async #fromOwnSeed(seed: Uint8Array<ArrayBuffer>): Promise<MlKemKeyPair> {
    let priv: CryptoKey;
    try {
      priv = await anySubtle.importKey("raw-seed", seed, { name: "ML-KEM-1024" }, true, [
        "decapsulateBits",
      ]);
    } catch (e) {
      throw new KeyError("bad_encoding", `ML-KEM-1024 seed refused: ${(e as Error).message}`);
    }
    const pub = await anySubtle.getPublicKey(priv, ["encapsulateBits"]).catch(() => null);
    let publicKey: Uint8Array;
    if (pub) {
      publicKey = new Uint8Array(await anySubtle.exportKey("raw-public", pub));
    } else {
      const jwk = await anySubtle.exportKey("jwk", priv);
      publicKey = Uint8Array.fromBase64(jwk.pub, { alphabet: "base64url" });
    }
    return new MlKemKeyPair(publicKey, priv, seed);
  }

  /** The 64-byte seed. Unsafe: the caller must keep it secret (used to persist prekeys). */
  seedUnsafe(): Uint8Array {
    return copyBytes(this.#seed);
  }

  /** Recovers the 32-byte shared secret from a ciphertext made for this key. */
  async decapsulate(ciphertext: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    assertBytes(ciphertext, MLKEM_CIPHERTEXT_BYTES, "ciphertext");
    try {
      return new Uint8Array(
        await anySubtle.decapsulateBits(
          { name: "ML-KEM-1024" },
          this.#privateKey,
          copyIfShared(ciphertext),
        ),
      );
    } catch (e) {
      throw new DecryptError(
        "bad_format",
        `ML-KEM-1024 ciphertext refused: ${(e as Error).message}`,
      );
    }
  }

  [INSPECT](): string {
    return `MlKemKeyPair { publicKey: ${
      toHex(this.publicKey.subarray(0, 8))
    }…, privateKey: [redacted] }`;
  }
  toJSON(): unknown {
    return { publicKey: "[ml-kem-1024 public key]", privateKey: "[redacted]" };
  }
}

/** An ML-KEM-1024 encapsulation: the ciphertext to send and the shared secret it carries. */
export interface Encapsulation {
  ciphertext: Uint8Array<ArrayBuffer>;
  sharedSecret: Uint8Array<ArrayBuffer>;
}

/** Encapsulates a fresh shared secret to an ML-KEM-1024 public key. */
export async function mlkemEncapsulate(publicKey: Uint8Array): Promise<Encapsulation> {
  let k: CryptoKey;
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== MLKEM_PUBLIC_BYTES) {
    throw new KeyError(
      "bad_public_key",
      `ML-KEM-1024 public key: expected ${MLKEM_PUBLIC_BYTES} bytes`,
    );
  }
  try {
    k = await anySubtle.importKey(
      "raw-public",
      copyIfShared(publicKey),
      { name: "ML-KEM-1024" },
      true,
      [
        "encapsulateBits",
      ],
    );
  } catch (e) {
    throw new KeyError("bad_public_key", `ML-KEM-1024 public key refused: ${(e as Error).message}`);
  }
  const r = await anySubtle.encapsulateBits({ name: "ML-KEM-1024" }, k);
  return { ciphertext: new Uint8Array(r.ciphertext), sharedSecret: new Uint8Array(r.sharedKey) };
}

// ---------------------------------------------------------------------------------------------
// Argon2id

/** Argon2id cost parameters, stored beside the salt so they can be raised later. */
export interface Argon2Params {
  /** Memory in KiB. */
  memoryKiB: number;
  /** Passes over memory (t). */
  passes: number;
  /** Lanes (p). */
  parallelism: number;
}

/** OWASP's recommended Argon2id parameters: 19,456 KiB, 2 passes, 1 lane. */
export const ARGON2_OWASP: Readonly<Argon2Params> = Object.freeze({
  memoryKiB: 19456,
  passes: 2,
  parallelism: 1,
});

/** Bounds on parameters accepted from storage or the network, so a hostile server cannot ask a
 * client to spend gigabytes or hours. */
export const ARGON2_MAX_MEMORY_KIB = 1 << 20;
export const ARGON2_MAX_PASSES = 16;

/** Argon2id of `password` with `salt` (at least 16 bytes), `length` bytes of output. */
export async function argon2id(
  password: Uint8Array,
  salt: Uint8Array,
  params: Argon2Params,
  length: number,
): Promise<Uint8Array<ArrayBuffer>> {
  assertBytes(password, undefined, "password");
  assertBytes(salt, undefined, "salt");
  if (salt.length < 16) throw new TypeError(`salt: expected at least 16 bytes, got ${salt.length}`);
  const { memoryKiB, passes, parallelism } = params;
  if (
    !Number.isInteger(memoryKiB) || memoryKiB < 8 * parallelism || memoryKiB > ARGON2_MAX_MEMORY_KIB
  ) {
    throw new RangeError(`memoryKiB: expected 8×p..${ARGON2_MAX_MEMORY_KIB}, got ${memoryKiB}`);
  }
  if (!Number.isInteger(passes) || passes < 1 || passes > ARGON2_MAX_PASSES) {
    throw new RangeError(`passes: expected 1..${ARGON2_MAX_PASSES}, got ${passes}`);
  }
  if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > 16) {
    throw new RangeError(`parallelism: expected 1..16, got ${parallelism}`);
  }
  const key = await anySubtle.importKey(
    "raw-secret",
    copyIfShared(password),
    { name: "Argon2id" },
    false,
    [
      "deriveBits",
    ],
  );
  const bits = await anySubtle.deriveBits(
    { name: "Argon2id", nonce: copyIfShared(salt), memory: memoryKiB, passes, parallelism },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
}

// ---------------------------------------------------------------------------------------------

// Web Crypto copies its inputs anyway; this only narrows Uint8Array<ArrayBufferLike> to the
// BufferSource type the declarations want, copying when the buffer is shared.
function copyIfShared(a: Uint8Array): Uint8Array<ArrayBuffer> {
  return a.buffer instanceof ArrayBuffer ? (a as Uint8Array<ArrayBuffer>) : copyBytes(a);
}
