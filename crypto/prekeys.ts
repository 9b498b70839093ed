/**
 * Prekeys: the signed X25519 prekey, one-time X25519 prekeys and signed ML-KEM-1024 prekeys
 * (one-time and last-resort) a user uploads so others can start PQXDH while the user is offline,
 * and the bundle a sender fetches.
 *
 * Each signature covers {@linkcode keySignatureMessage} with the key's kind, its id and (for
 * ML-KEM) the last-resort flag, so the server can neither relabel a key's id nor pass a one-time
 * key off as last-resort, nor a key of one kind for another.
 *
 * Private serialisation: version ‖ tag ‖ fields (see each class); secret, stored only sealed.
 *
 * @module
 */

import { assertBytes, randomBytes, u32be } from "./bytes.ts";
import { ByteReader, ByteWriter } from "./codec.ts";
import { KeyError } from "./errors.ts";
import { type IdentityKeyPair, IdentityPublic } from "./identity.ts";
import { KeyKind } from "./labels.ts";
import {
  KEY_BYTES,
  MLKEM_PUBLIC_BYTES,
  MLKEM_SEED_BYTES,
  MlKemKeyPair,
  SIGNATURE_BYTES,
  X25519KeyPair,
} from "./subtle.ts";

const INSPECT = Symbol.for("Deno.customInspect");

/** Version byte of the private prekey serialisations. */
export const PREKEY_FORMAT_VERSION = 0x01;
/** Largest prekey id (ids are u32 on the wire and in the store). */
export const MAX_PREKEY_ID = 0xffff_ffff;

const Tag = { signed: 0x01, oneTime: 0x02, kyber: 0x03 } as const;

/** A signed X25519 prekey as uploaded and as bundles carry it (sql/store.ts's shape). */
export interface SignedPrekeyPublic {
  id: number;
  publicKey: Uint8Array;
  signature: Uint8Array;
}

/** A one-time X25519 prekey as uploaded and bundled. */
export interface OneTimePrekeyPublic {
  id: number;
  publicKey: Uint8Array;
}

/**
 * What a sender fetches to start a session (the same shape as sql/store.ts's `BundleRecord`).
 * Nothing in it is trusted until {@linkcode verifyBundle} has checked every signature.
 */
export interface PrekeyBundle {
  /** The recipient's encoded public identity (129 bytes). */
  identityKey: Uint8Array;
  signedPrekey: SignedPrekeyPublic;
  /** Null when the recipient has run out of one-time X25519 prekeys. */
  oneTimePrekey: OneTimePrekeyPublic | null;
  /** A one-time ML-KEM-1024 prekey, or the last-resort one. */
  kyberPrekey: SignedPrekeyPublic;
  kyberLastResort: boolean;
}

/** A bundle whose every signature verified. */
export interface VerifiedBundle {
  identity: IdentityPublic;
  signedPrekey: OneTimePrekeyPublic;
  oneTimePrekey: OneTimePrekeyPublic | null;
  kyberPrekey: OneTimePrekeyPublic & { lastResort: boolean };
}

function checkId(id: number, what: string): void {
  if (!Number.isInteger(id) || id < 0 || id > MAX_PREKEY_ID) {
    throw new KeyError(
      "bad_encoding",
      `${what}: expected an id in [0, ${MAX_PREKEY_ID}], got ${id}`,
    );
  }
}

function reader(bytes: Uint8Array, what: string, tag: number): ByteReader {
  const fail = (m: string) => new KeyError("bad_encoding", `${what}: ${m}`);
  if (!(bytes instanceof Uint8Array)) throw fail("expected Uint8Array");
  const r = new ByteReader(bytes, fail);
  const version = r.u8("version");
  const got = r.u8("tag");
  if (version !== PREKEY_FORMAT_VERSION || got !== tag) {
    throw fail(`expected version ${PREKEY_FORMAT_VERSION} tag ${tag}, got ${version} tag ${got}`);
  }
  return r;
}

function signedPrekeyFields(id: number, publicKey: Uint8Array): Uint8Array[] {
  return [u32be(id), publicKey];
}

function kyberFields(id: number, lastResort: boolean, publicKey: Uint8Array): Uint8Array[] {
  return [u32be(id), Uint8Array.of(lastResort ? 1 : 0), publicKey];
}

/** A signed X25519 prekey with its private key. */
export class SignedPrekey {
  private constructor(
    readonly id: number,
    readonly keyPair: X25519KeyPair,
    readonly signature: Uint8Array,
    /** When it was made (ms since the epoch), so the client knows when to rotate it. */
    readonly createdAt: number,
  ) {}

  /** A fresh signed prekey. */
  static async generate(
    identity: IdentityKeyPair,
    id: number,
    createdAt: number = Date.now(),
  ): Promise<SignedPrekey> {
    return SignedPrekey.create(
      identity,
      id,
      await X25519KeyPair.fromPrivate(randomBytes(KEY_BYTES)),
      createdAt,
    );
  }

  /** Signs a given key pair as prekey `id` (deterministic vectors use this). */
  static async create(
    identity: IdentityKeyPair,
    id: number,
    keyPair: X25519KeyPair,
    createdAt: number,
  ): Promise<SignedPrekey> {
    checkId(id, "signed prekey");
    const signature = await identity.signKey(
      KeyKind.signedPrekey,
      ...signedPrekeyFields(id, keyPair.publicKey),
    );
    return new SignedPrekey(id, keyPair, signature, createdAt);
  }

  /** The public record to upload. */
  record(): SignedPrekeyPublic {
    return { id: this.id, publicKey: this.keyPair.publicKey, signature: this.signature };
  }

  /** version ‖ tag ‖ id u32 ‖ createdAt u64 ‖ private key ‖ signature. Secret. */
  serialize(): Uint8Array<ArrayBuffer> {
    return new ByteWriter().u8(PREKEY_FORMAT_VERSION).u8(Tag.signed).u32(this.id)
      .u64(this.createdAt).bytes(this.keyPair.privateBytesUnsafe()).bytes(this.signature).finish();
  }

  /** Restores {@linkcode serialize}'s bytes; `KeyError("bad_encoding")` for anything else. */
  static async deserialize(bytes: Uint8Array): Promise<SignedPrekey> {
    const r = reader(bytes, "signed prekey", Tag.signed);
    const id = r.u32("id");
    const createdAt = r.u64("createdAt");
    const priv = r.bytes(KEY_BYTES, "private key");
    const signature = r.bytes(SIGNATURE_BYTES, "signature");
    r.end("signed prekey");
    return new SignedPrekey(id, await X25519KeyPair.fromPrivate(priv), signature, createdAt);
  }

  [INSPECT](): string {
    return `SignedPrekey { id: ${this.id}, privateKey: [redacted] }`;
  }
  toJSON(): unknown {
    return { id: this.id, privateKey: "[redacted]" };
  }
}

/** A one-time X25519 prekey with its private key. */
export class OneTimePrekey {
  private constructor(readonly id: number, readonly keyPair: X25519KeyPair) {}

  /** A fresh one-time prekey. */
  static async generate(id: number): Promise<OneTimePrekey> {
    return OneTimePrekey.create(id, await X25519KeyPair.fromPrivate(randomBytes(KEY_BYTES)));
  }

  /** Wraps a given key pair as prekey `id` (deterministic vectors use this). */
  static create(id: number, keyPair: X25519KeyPair): OneTimePrekey {
    checkId(id, "one-time prekey");
    return new OneTimePrekey(id, keyPair);
  }

  /** The public record to upload. */
  record(): OneTimePrekeyPublic {
    return { id: this.id, publicKey: this.keyPair.publicKey };
  }

  /** version ‖ tag ‖ id u32 ‖ private key. Secret. */
  serialize(): Uint8Array<ArrayBuffer> {
    return new ByteWriter().u8(PREKEY_FORMAT_VERSION).u8(Tag.oneTime).u32(this.id)
      .bytes(this.keyPair.privateBytesUnsafe()).finish();
  }

  /** Restores {@linkcode serialize}'s bytes; `KeyError("bad_encoding")` for anything else. */
  static async deserialize(bytes: Uint8Array): Promise<OneTimePrekey> {
    const r = reader(bytes, "one-time prekey", Tag.oneTime);
    const id = r.u32("id");
    const priv = r.bytes(KEY_BYTES, "private key");
    r.end("one-time prekey");
    return new OneTimePrekey(id, await X25519KeyPair.fromPrivate(priv));
  }

  [INSPECT](): string {
    return `OneTimePrekey { id: ${this.id}, privateKey: [redacted] }`;
  }
  toJSON(): unknown {
    return { id: this.id, privateKey: "[redacted]" };
  }
}

/** A signed ML-KEM-1024 prekey (one-time or last-resort) with its private key. */
export class KyberPrekey {
  private constructor(
    readonly id: number,
    readonly keyPair: MlKemKeyPair,
    readonly signature: Uint8Array,
    /** A last-resort key stays on the server and is handed out when no one-time key is left. */
    readonly lastResort: boolean,
  ) {}

  /** A fresh signed ML-KEM-1024 prekey. */
  static async generate(
    identity: IdentityKeyPair,
    id: number,
    lastResort: boolean,
  ): Promise<KyberPrekey> {
    return KyberPrekey.create(identity, id, await MlKemKeyPair.generate(), lastResort);
  }

  /** Signs a given key pair as ML-KEM prekey `id` (deterministic vectors use this). */
  static async create(
    identity: IdentityKeyPair,
    id: number,
    keyPair: MlKemKeyPair,
    lastResort: boolean,
  ): Promise<KyberPrekey> {
    checkId(id, "ML-KEM prekey");
    const signature = await identity.signKey(
      KeyKind.kyberPrekey,
      ...kyberFields(id, lastResort, keyPair.publicKey),
    );
    return new KyberPrekey(id, keyPair, signature, lastResort);
  }

  /** The public record to upload. */
  record(): SignedPrekeyPublic {
    return { id: this.id, publicKey: this.keyPair.publicKey, signature: this.signature };
  }

  /** version ‖ tag ‖ id u32 ‖ lastResort u8 ‖ seed (64) ‖ signature. Secret. */
  serialize(): Uint8Array<ArrayBuffer> {
    return new ByteWriter().u8(PREKEY_FORMAT_VERSION).u8(Tag.kyber).u32(this.id)
      .u8(this.lastResort ? 1 : 0).bytes(this.keyPair.seedUnsafe()).bytes(this.signature)
      .finish();
  }

  /** Restores {@linkcode serialize}'s bytes; `KeyError("bad_encoding")` for anything else. */
  static async deserialize(bytes: Uint8Array): Promise<KyberPrekey> {
    const r = reader(bytes, "ML-KEM prekey", Tag.kyber);
    const id = r.u32("id");
    const flag = r.u8("lastResort");
    if (flag > 1) throw new KeyError("bad_encoding", `ML-KEM prekey: lastResort flag ${flag}`);
    const seed = r.bytes(MLKEM_SEED_BYTES, "seed");
    const signature = r.bytes(SIGNATURE_BYTES, "signature");
    r.end("ML-KEM prekey");
    return new KyberPrekey(id, await MlKemKeyPair.fromSeed(seed), signature, flag === 1);
  }

  [INSPECT](): string {
    return `KyberPrekey { id: ${this.id}, lastResort: ${this.lastResort}, privateKey: [redacted] }`;
  }
  toJSON(): unknown {
    return { id: this.id, lastResort: this.lastResort, privateKey: "[redacted]" };
  }
}

/** The bundle the server would hand out for these keys (tests, benchmarks, vectors). */
export function bundleOf(
  identity: IdentityKeyPair,
  signedPrekey: SignedPrekey,
  oneTimePrekey: OneTimePrekey | null,
  kyberPrekey: KyberPrekey,
): PrekeyBundle {
  return {
    identityKey: identity.publicIdentity.encode(),
    signedPrekey: signedPrekey.record(),
    oneTimePrekey: oneTimePrekey?.record() ?? null,
    kyberPrekey: kyberPrekey.record(),
    kyberLastResort: kyberPrekey.lastResort,
  };
}

function checkShape(bundle: PrekeyBundle): void {
  const bad = (m: string) => new KeyError("bad_encoding", `bundle: ${m}`);
  if (typeof bundle !== "object" || bundle === null) throw bad("expected an object");
  const keyed = (
    v: { id: number; publicKey: Uint8Array; signature?: Uint8Array } | null,
    what: string,
    length: number,
    signed: boolean,
  ) => {
    if (typeof v !== "object" || v === null) throw bad(`${what}: expected an object`);
    checkId(v.id, `bundle ${what}`);
    try {
      assertBytes(v.publicKey, length, `${what} public key`);
      if (signed) assertBytes(v.signature, SIGNATURE_BYTES, `${what} signature`);
    } catch (e) {
      throw bad((e as Error).message);
    }
  };
  keyed(bundle.signedPrekey, "signed prekey", KEY_BYTES, true);
  if (bundle.oneTimePrekey !== null) {
    keyed(bundle.oneTimePrekey, "one-time prekey", KEY_BYTES, false);
  }
  keyed(bundle.kyberPrekey, "ML-KEM prekey", MLKEM_PUBLIC_BYTES, true);
  if (typeof bundle.kyberLastResort !== "boolean") throw bad("kyberLastResort: expected boolean");
}

/**
 * Checks every signature in a bundle: the identity's over its X25519 key, and the identity's
 * over the signed prekey and the ML-KEM prekey. Throws `KeyError("bad_encoding")` for a malformed
 * field and `KeyError("bad_signature")` naming the key whose signature failed.
 */
export async function verifyBundle(bundle: PrekeyBundle): Promise<VerifiedBundle> {
  checkShape(bundle);
  const identity = IdentityPublic.restore(bundle.identityKey);
  const spk = bundle.signedPrekey;
  const kyber = bundle.kyberPrekey;
  // The three verifications are independent; running them together costs one round of latency.
  const [identityOk, spkOk, kyberOk] = await Promise.all([
    identity.verifyKeySignature(KeyKind.identityDh, [identity.dhKey], identity.signature),
    identity.verifyKeySignature(
      KeyKind.signedPrekey,
      signedPrekeyFields(spk.id, spk.publicKey),
      spk.signature,
    ),
    identity.verifyKeySignature(
      KeyKind.kyberPrekey,
      kyberFields(kyber.id, bundle.kyberLastResort, kyber.publicKey),
      kyber.signature,
    ),
  ]);
  if (!identityOk) {
    throw new KeyError("bad_signature", "bundle identity: signature over the X25519 key fails");
  }
  if (!spkOk) {
    throw new KeyError("bad_signature", `bundle signed prekey ${spk.id}: signature fails`);
  }
  if (!kyberOk) {
    throw new KeyError("bad_signature", `bundle ML-KEM prekey ${kyber.id}: signature fails`);
  }
  return {
    identity,
    signedPrekey: { id: spk.id, publicKey: spk.publicKey },
    oneTimePrekey: bundle.oneTimePrekey
      ? { id: bundle.oneTimePrekey.id, publicKey: bundle.oneTimePrekey.publicKey }
      : null,
    kyberPrekey: { id: kyber.id, publicKey: kyber.publicKey, lastResort: bundle.kyberLastResort },
  };
}
