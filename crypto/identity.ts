/**
 * A user's long-term identity: an Ed25519 signing key and an X25519 Diffie-Hellman key whose
 * public half the Ed25519 key signs. Web Crypto has no XEdDSA, so one curve key cannot both sign
 * and agree as in Signal; the signature binds the two into one identity.
 *
 * Public encoding (129 bytes): version 0x01 ‖ Ed25519 public (32) ‖ X25519 public (32) ‖
 * Ed25519 signature (64) over {@linkcode keySignatureMessage}(identityDh, X25519 public).
 *
 * @module
 */

import { assertBytes, concat, equalBytes, randomBytes, toHex, utf8 } from "./bytes.ts";
import { ByteReader, ByteWriter } from "./codec.ts";
import { KeyError } from "./errors.ts";
import { KEY_SIGNATURE_CONTEXT, KeyKind } from "./labels.ts";
import {
  Ed25519KeyPair,
  ed25519Verify,
  KEY_BYTES,
  SIGNATURE_BYTES,
  X25519KeyPair,
} from "./subtle.ts";

const INSPECT = Symbol.for("Deno.customInspect");
const SIGNATURE_CONTEXT = utf8(KEY_SIGNATURE_CONTEXT);

/** The version byte that starts every identity encoding. */
export const IDENTITY_VERSION = 0x01;
/** Bytes of the public identity encoding. */
export const IDENTITY_PUBLIC_BYTES = 1 + KEY_BYTES + KEY_BYTES + SIGNATURE_BYTES;
/**
 * Bytes of the identity's key bytes: version ‖ Ed25519 public ‖ X25519 public, the encoding
 * without its signature. PQXDH's Encode(IK) and the safety number use these: the keys are what
 * a user verifies, and a signature is proof about them, not part of them.
 */
export const IDENTITY_KEY_BYTES = 1 + KEY_BYTES + KEY_BYTES;
/** Bytes of a serialised private identity: version ‖ Ed25519 seed ‖ X25519 private key. */
export const IDENTITY_PRIVATE_BYTES = 1 + KEY_BYTES + KEY_BYTES;

/**
 * The message an identity signs to vouch for a key: context label ‖ 0x00 ‖ kind ‖ fields. Every
 * kind has fixed-length fields, so the concatenation is unambiguous, and the kind tag keeps a
 * signature on one kind of key from passing for another.
 */
export function keySignatureMessage(kind: number, ...fields: Uint8Array[]): Uint8Array {
  return concat(SIGNATURE_CONTEXT, Uint8Array.of(0x00, kind), ...fields);
}

function encodingError(message: string): KeyError {
  return new KeyError("bad_encoding", `identity: ${message}`);
}

/** A verified public identity: what a contact's safety number and every PQXDH bind to. */
export class IdentityPublic {
  private constructor(
    /** Ed25519 public key (32 bytes). */
    readonly signingKey: Uint8Array,
    /** X25519 public key (32 bytes), the DH part of IK in PQXDH. */
    readonly dhKey: Uint8Array,
    /** Ed25519 signature over the DH key. */
    readonly signature: Uint8Array,
  ) {}

  /**
   * Decodes and verifies a public identity. Throws `KeyError("bad_encoding")` for a wrong length
   * or version and `KeyError("bad_signature")` when the Ed25519 key did not sign the X25519 key.
   */
  static async decode(bytes: Uint8Array): Promise<IdentityPublic> {
    const identity = IdentityPublic.restore(bytes);
    const ok = await ed25519Verify(
      identity.signingKey,
      keySignatureMessage(KeyKind.identityDh, identity.dhKey),
      identity.signature,
    );
    if (!ok) {
      throw new KeyError(
        "bad_signature",
        "identity: the Ed25519 signature over the X25519 key does not verify",
      );
    }
    return identity;
  }

  /**
   * Parses an encoding this program verified earlier and stored itself (session state): checks
   * length and version but not the signature. Never use it on bytes from the network.
   */
  static restore(bytes: Uint8Array): IdentityPublic {
    if (!(bytes instanceof Uint8Array)) throw encodingError("expected Uint8Array");
    const r = new ByteReader(bytes, encodingError);
    const version = r.u8("version");
    if (version !== IDENTITY_VERSION) {
      throw encodingError(`expected version ${IDENTITY_VERSION}, got ${version}`);
    }
    if (bytes.length !== IDENTITY_PUBLIC_BYTES) {
      throw encodingError(`expected ${IDENTITY_PUBLIC_BYTES} bytes, got ${bytes.length}`);
    }
    return new IdentityPublic(
      r.bytes(KEY_BYTES, "Ed25519 key"),
      r.bytes(KEY_BYTES, "X25519 key"),
      r.bytes(SIGNATURE_BYTES, "signature"),
    );
  }

  /** @internal Built by {@linkcode IdentityKeyPair}, which just made the signature. */
  static fromParts(
    signingKey: Uint8Array,
    dhKey: Uint8Array,
    signature: Uint8Array,
  ): IdentityPublic {
    return new IdentityPublic(signingKey, dhKey, signature);
  }

  /** The 129-byte public encoding (what the server stores and bundles carry). */
  encode(): Uint8Array<ArrayBuffer> {
    return this.writeTo(new ByteWriter(IDENTITY_PUBLIC_BYTES)).finish();
  }

  /** Appends {@linkcode encode}'s bytes to `w`, with no array of their own (session state). */
  writeTo(w: ByteWriter): ByteWriter {
    return w.u8(IDENTITY_VERSION).bytes(this.signingKey).bytes(this.dhKey).bytes(this.signature);
  }

  /** The 65-byte key bytes (version ‖ Ed25519 ‖ X25519): Encode(IK) and the safety number key. */
  keyBytes(): Uint8Array<ArrayBuffer> {
    return concat(Uint8Array.of(IDENTITY_VERSION), this.signingKey, this.dhKey);
  }

  /** True when both identities have the same keys. */
  equals(other: IdentityPublic): boolean {
    return equalBytes(this.signingKey, other.signingKey) && equalBytes(this.dhKey, other.dhKey);
  }

  /** Verifies this identity's signature over a key of the given kind; never throws. */
  verifyKeySignature(
    kind: number,
    fields: Uint8Array[],
    signature: Uint8Array,
  ): Promise<boolean> {
    return ed25519Verify(this.signingKey, keySignatureMessage(kind, ...fields), signature);
  }

  [INSPECT](): string {
    return `IdentityPublic { signingKey: ${toHex(this.signingKey)}, dhKey: ${toHex(this.dhKey)} }`;
  }
  toJSON(): unknown {
    return { signingKey: toHex(this.signingKey), dhKey: toHex(this.dhKey) };
  }
}

/**
 * A user's private identity. Prints as `[redacted]` apart from its public keys.
 *
 * @example Publish the public identity, check one received
 * ```ts
 * import assert from "node:assert/strict";
 * import { IdentityKeyPair, IdentityPublic } from "./identity.ts";
 *
 * const me = await IdentityKeyPair.generate();
 * const bytes = me.publicIdentity.encode(); // 129 bytes, what the server stores
 * const them = await IdentityPublic.decode(bytes); // verifies the signature
 * assert.ok(them.equals(me.publicIdentity));
 * const restored = await IdentityKeyPair.deserialize(me.serialize());
 * assert.deepEqual(restored.publicIdentity.encode(), bytes);
 * ```
 */
export class IdentityKeyPair {
  readonly #signing: Ed25519KeyPair;
  readonly #dh: X25519KeyPair;

  private constructor(
    signing: Ed25519KeyPair,
    dh: X25519KeyPair,
    /** The public identity, signature included. */
    readonly publicIdentity: IdentityPublic,
  ) {
    this.#signing = signing;
    this.#dh = dh;
  }

  /** A fresh random identity. */
  static generate(): Promise<IdentityKeyPair> {
    return IdentityKeyPair.fromSecrets(randomBytes(KEY_BYTES), randomBytes(KEY_BYTES));
  }

  /**
   * The identity with the given Ed25519 seed and X25519 private key (used to restore and to build
   * deterministic test vectors). Ed25519 signatures are deterministic, so the same secrets always
   * give the same 129-byte public encoding.
   */
  static async fromSecrets(
    signingSeed: Uint8Array,
    dhPrivateKey: Uint8Array,
  ): Promise<IdentityKeyPair> {
    assertBytes(signingSeed, KEY_BYTES, "signingSeed");
    assertBytes(dhPrivateKey, KEY_BYTES, "dhPrivateKey");
    const [signing, dh] = await Promise.all([
      Ed25519KeyPair.fromSeed(signingSeed),
      X25519KeyPair.fromPrivate(dhPrivateKey),
    ]);
    const signature = await signing.sign(keySignatureMessage(KeyKind.identityDh, dh.publicKey));
    return new IdentityKeyPair(
      signing,
      dh,
      IdentityPublic.fromParts(signing.publicKey, dh.publicKey, signature),
    );
  }

  /**
   * Restores an identity from {@linkcode serialize}'s bytes; `KeyError("bad_encoding")` for
   * anything else.
   */
  static async deserialize(bytes: Uint8Array): Promise<IdentityKeyPair> {
    const r = new ByteReader(bytes, (m) => new KeyError("bad_encoding", `private identity: ${m}`));
    const version = r.u8("version");
    if (version !== IDENTITY_VERSION) {
      throw new KeyError(
        "bad_encoding",
        `private identity: expected version ${IDENTITY_VERSION}, got ${version}`,
      );
    }
    const seed = r.bytes(KEY_BYTES, "Ed25519 seed");
    const dh = r.bytes(KEY_BYTES, "X25519 private key");
    r.end("private identity");
    return await IdentityKeyPair.fromSecrets(seed, dh);
  }

  /**
   * The private identity as bytes (version ‖ Ed25519 seed ‖ X25519 private key). Secret: store
   * it only sealed under the account key.
   */
  serialize(): Uint8Array<ArrayBuffer> {
    return new ByteWriter().u8(IDENTITY_VERSION).bytes(this.#signing.seedUnsafe())
      .bytes(this.#dh.privateBytesUnsafe()).finish();
  }

  /** Signs a key of the given kind (see {@linkcode keySignatureMessage}). */
  signKey(kind: number, ...fields: Uint8Array[]): Promise<Uint8Array<ArrayBuffer>> {
    return this.#signing.sign(keySignatureMessage(kind, ...fields));
  }

  /** X25519 of the identity's DH key with a peer key; `KeyError("bad_public_key")` if low-order. */
  dh(peerPublicKey: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    return this.#dh.dh(peerPublicKey);
  }

  [INSPECT](): string {
    return `IdentityKeyPair { publicIdentity: ${
      toHex(this.publicIdentity.keyBytes())
    }, privateKey: [redacted] }`;
  }
  toJSON(): unknown {
    return { publicIdentity: this.publicIdentity.toJSON(), privateKey: "[redacted]" };
  }
}
