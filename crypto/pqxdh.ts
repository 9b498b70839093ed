/**
 * PQXDH key agreement (signal.org/docs/specifications/pqxdh) with curve X25519, hash SHA-256 and
 * PQKEM ML-KEM-1024.
 *
 * The initiator (Alice) verifies every signature in the bundle first and aborts on any failure;
 * then DH1 = DH(IK_A, SPK_B), DH2 = DH(EK_A, IK_B), DH3 = DH(EK_A, SPK_B), DH4 = DH(EK_A, OPK_B)
 * when a one-time prekey exists, (CT, SS) = ML-KEM-Encaps(PQPK_B), and
 * SK = HKDF(salt = 32 zero bytes, ikm = 0xFF×32 ‖ DH1 ‖ DH2 ‖ DH3 [‖ DH4] ‖ SS, info = PQXDH_INFO).
 * AD = Encode(IK_A) ‖ Encode(IK_B), where Encode is the identity's 65 key bytes (both its keys).
 * IK's DH part is the identity's X25519 key. Every DH refuses a low-order key with
 * `KeyError("bad_public_key")`.
 *
 * Initial message (1,742 bytes): IK_A (129) ‖ EK_A (32) ‖ u32 signed prekey id ‖ u8 has one-time
 * prekey ‖ u32 one-time prekey id (0 when absent) ‖ u32 ML-KEM prekey id ‖ CT (1,568).
 *
 * @module
 */

import { concat, randomBytes, utf8 } from "./bytes.ts";
import { ByteReader, ByteWriter } from "./codec.ts";
import { HandshakeError } from "./errors.ts";
import { IDENTITY_PUBLIC_BYTES, type IdentityKeyPair, IdentityPublic } from "./identity.ts";
import { PQXDH_INFO } from "./labels.ts";
import type { KyberPrekey, OneTimePrekey, PrekeyBundle, SignedPrekey } from "./prekeys.ts";
import { verifyBundle } from "./prekeys.ts";
import {
  type Encapsulation,
  hkdfSha256,
  KEY_BYTES,
  MLKEM_CIPHERTEXT_BYTES,
  mlkemEncapsulate,
  X25519KeyPair,
  type X25519KeyPairStart,
} from "./subtle.ts";

const INSPECT = Symbol.for("Deno.customInspect");
const INFO = utf8(PQXDH_INFO);
// The specification's F (32 0xFF bytes): a prefix that keeps this HKDF input apart from any
// other use of the same keys; kept byte for byte so SK matches the specification.
const F = new Uint8Array(KEY_BYTES).fill(0xff);
const ZERO_SALT = new Uint8Array(KEY_BYTES);

/** Bytes of an encoded initial message. */
export const INITIAL_MESSAGE_BYTES = IDENTITY_PUBLIC_BYTES + KEY_BYTES + 4 + 1 + 4 + 4 +
  MLKEM_CIPHERTEXT_BYTES;

/** What the initiator sends so the responder can compute the same SK. */
export interface InitialMessage {
  /** IK_A, encoded (129 bytes). */
  identityKey: Uint8Array;
  /** EK_A. */
  ephemeralKey: Uint8Array;
  signedPrekeyId: number;
  /** Null when the bundle had no one-time prekey (no DH4). */
  oneTimePrekeyId: number | null;
  kyberPrekeyId: number;
  /** CT: the ML-KEM-1024 ciphertext to PQPK_B. */
  kyberCiphertext: Uint8Array;
}

/** Encodes an initial message. */
export function encodeInitialMessage(m: InitialMessage): Uint8Array<ArrayBuffer> {
  return new ByteWriter().bytes(m.identityKey).bytes(m.ephemeralKey).u32(m.signedPrekeyId)
    .u8(m.oneTimePrekeyId === null ? 0 : 1).u32(m.oneTimePrekeyId ?? 0).u32(m.kyberPrekeyId)
    .bytes(m.kyberCiphertext).finish();
}

/** Parses an initial message; `HandshakeError("bad_message")` when it is malformed. */
export function decodeInitialMessage(bytes: Uint8Array): InitialMessage {
  const fail = (m: string) => new HandshakeError("bad_message", `PQXDH initial message: ${m}`);
  if (!(bytes instanceof Uint8Array)) throw fail("expected Uint8Array");
  const r = new ByteReader(bytes, fail);
  const identityKey = r.bytes(IDENTITY_PUBLIC_BYTES, "IK");
  const ephemeralKey = r.bytes(KEY_BYTES, "EK");
  const signedPrekeyId = r.u32("signed prekey id");
  const hasOneTime = r.u8("one-time prekey flag");
  const oneTimeId = r.u32("one-time prekey id");
  if (hasOneTime > 1 || (hasOneTime === 0 && oneTimeId !== 0)) {
    throw fail(`one-time prekey flag ${hasOneTime} with id ${oneTimeId}`);
  }
  const kyberPrekeyId = r.u32("ML-KEM prekey id");
  const kyberCiphertext = r.bytes(MLKEM_CIPHERTEXT_BYTES, "CT");
  r.end("PQXDH initial message");
  return {
    identityKey,
    ephemeralKey,
    signedPrekeyId,
    oneTimePrekeyId: hasOneTime ? oneTimeId : null,
    kyberPrekeyId,
    kyberCiphertext,
  };
}

/** SK. Prints as `[redacted]`. */
export class SharedKey {
  readonly #bytes: Uint8Array;
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }
  /** The 32 bytes. Unsafe: secret (they seed the Double Ratchet). */
  bytesUnsafe(): Uint8Array {
    return this.#bytes;
  }
  [INSPECT](): string {
    return "SharedKey [redacted]";
  }
  toJSON(): string {
    return "[redacted]";
  }
}

/** Options of {@linkcode pqxdhInitiate}. */
export interface InitiateOptions {
  /** For deterministic test vectors only: EK_A instead of a fresh key. */
  ephemeralKeyForVectorsOnly?: X25519KeyPair;
  /**
   * For deterministic test vectors only: (CT, SS) instead of a fresh encapsulation, which Web
   * Crypto randomises internally and cannot be seeded.
   */
  encapsulationForVectorsOnly?: Encapsulation;
}

/** The initiator's result. */
export interface PqxdhInitiation {
  message: InitialMessage;
  sharedKey: SharedKey;
  associatedData: Uint8Array;
  remoteIdentity: IdentityPublic;
  /** SPK_B: the responder's first ratchet key. */
  remoteSignedPrekey: Uint8Array;
}

/** The one-time keys a responder must now delete (a last-resort ML-KEM key is kept). */
export interface ConsumedPrekeys {
  oneTimePrekeyId: number | null;
  kyberPrekeyId: number | null;
}

/** The responder's result. */
export interface PqxdhResponse {
  sharedKey: SharedKey;
  associatedData: Uint8Array;
  remoteIdentity: IdentityPublic;
  /** The signed prekey used: its key pair is the responder's first ratchet key. */
  signedPrekey: SignedPrekey;
  consumed: ConsumedPrekeys;
}

/** Where the responder finds its private prekeys by id; null when it has none by that id. */
export interface PrekeyLookup {
  signedPrekey(id: number): Promise<SignedPrekey | null>;
  oneTimePrekey(id: number): Promise<OneTimePrekey | null>;
  kyberPrekey(id: number): Promise<KyberPrekey | null>;
}

function deriveSharedKey(dhs: Uint8Array[], ss: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return hkdfSha256(concat(F, ...dhs, ss), ZERO_SALT, INFO, KEY_BYTES);
}

/**
 * Alice's side: verifies the bundle (`KeyError("bad_signature")` / `("bad_encoding")`), then
 * computes SK, AD and the initial message.
 *
 * The DHs and the encapsulation are started with the bundle's keys beside the signature checks
 * and used only once every check has passed: on a failed check the check's error is thrown and
 * everything computed is dropped, so nothing of Bob's is used unverified, and the checks' time
 * overlaps the DHs' (each runs on a worker thread). `onSignedPrekey` gets SPK_B as the bundle
 * states it, at once, under the same rule: what the caller starts with it (the session's first
 * ratchet DH) must be used only after this function has succeeded.
 */
export async function pqxdhInitiate(
  own: IdentityKeyPair,
  bundle: PrekeyBundle,
  options: InitiateOptions = {},
  onSignedPrekey?: (signedPrekey: Uint8Array) => void,
): Promise<PqxdhInitiation> {
  const checked = verifyBundle(bundle);
  checked.catch(() => {}); // awaited below; this keeps an early failure from going unhandled
  // EK_A's DHs start as soon as its private key is imported, beside the computation of its
  // public key (which only the initial message needs).
  const fixed = options.ephemeralKeyForVectorsOnly;
  const ek: X25519KeyPairStart = fixed
    ? {
      keyPair: Promise.resolve(fixed),
      dh: (p) => fixed.dh(p),
      dhHkdfKey: (p) => fixed.dhHkdfKey(p),
    }
    : X25519KeyPair.startFromPrivate(randomBytes(KEY_BYTES));
  // A bundle too malformed to read starts nothing here; verifyBundle says what is wrong.
  let early: Promise<Agreement> | null = null;
  try {
    const claimed = claimedKeys(bundle);
    onSignedPrekey?.(claimed.signedPrekey);
    early = agree(own, ek, claimed, options);
    early.catch(() => {}); // awaited after the checks; this keeps a failure from going unhandled
  } catch { /* reported by verifyBundle */ }
  const [verified, ephemeral] = await Promise.all([checked, ek.keyPair]);
  const spk = verified.signedPrekey.publicKey;
  const opk = verified.oneTimePrekey;
  const [encapsulation, ...dhs] = await (early ?? agree(own, ek, {
    signedPrekey: spk,
    identityDh: verified.identity.dhKey,
    oneTimePrekey: opk?.publicKey ?? null,
    kyberPrekey: verified.kyberPrekey.publicKey,
  }, options));
  const sk = await deriveSharedKey(dhs, encapsulation.sharedSecret);
  return {
    message: {
      identityKey: own.publicIdentity.encode(),
      ephemeralKey: ephemeral.publicKey,
      signedPrekeyId: verified.signedPrekey.id,
      oneTimePrekeyId: opk?.id ?? null,
      kyberPrekeyId: verified.kyberPrekey.id,
      kyberCiphertext: encapsulation.ciphertext,
    },
    sharedKey: new SharedKey(sk),
    associatedData: concat(own.publicIdentity.keyBytes(), verified.identity.keyBytes()),
    remoteIdentity: verified.identity,
    remoteSignedPrekey: spk,
  };
}

/** Bob's public keys as a bundle states them (the same bytes verifyBundle checks). */
interface ClaimedKeys {
  signedPrekey: Uint8Array;
  identityDh: Uint8Array;
  oneTimePrekey: Uint8Array | null;
  kyberPrekey: Uint8Array;
}

/** The keys of a bundle, unchecked; throws when it is too malformed to read them. */
function claimedKeys(bundle: PrekeyBundle): ClaimedKeys {
  return {
    signedPrekey: bundle.signedPrekey.publicKey,
    identityDh: IdentityPublic.restore(bundle.identityKey).dhKey,
    oneTimePrekey: bundle.oneTimePrekey?.publicKey ?? null,
    kyberPrekey: bundle.kyberPrekey.publicKey,
  };
}

/** (CT, SS) and DH1..DH3 [DH4]: the encapsulation first, then the DHs, all issued together. */
type Agreement = [Encapsulation, ...Uint8Array[]];

function agree(
  own: IdentityKeyPair,
  ephemeral: X25519KeyPairStart,
  keys: ClaimedKeys,
  options: InitiateOptions,
): Promise<Agreement> {
  const opk = keys.oneTimePrekey;
  return Promise.all([
    options.encapsulationForVectorsOnly ?? mlkemEncapsulate(keys.kyberPrekey),
    own.dh(keys.signedPrekey),
    ephemeral.dh(keys.identityDh),
    ephemeral.dh(keys.signedPrekey),
    ...(opk ? [ephemeral.dh(opk)] : []),
  ]);
}

/**
 * Bob's side: verifies IK_A's signature, looks up the prekeys the message names
 * (`HandshakeError("bad_message")` when one is unknown or already used), and computes the same
 * SK and AD. Reports the one-time keys consumed so the caller deletes them. `onSignedPrekey` is
 * called with the signed prekey found, before the DHs, so the caller can start work of its own
 * with it (the session's first ratchet DH); nothing it starts is used unless this succeeds.
 */
export async function pqxdhRespond(
  own: IdentityKeyPair,
  lookup: PrekeyLookup,
  message: InitialMessage,
  onSignedPrekey?: (signedPrekey: SignedPrekey) => void,
): Promise<PqxdhResponse> {
  const opkId = message.oneTimePrekeyId;
  // IK_A's signature check runs on a worker thread while the lookups and DHs proceed; nothing is
  // derived from the DHs unless it passes (DH1 is computed beside it, and used only after).
  const identityP = IdentityPublic.decode(message.identityKey);
  identityP.catch(() => {}); // awaited below; this keeps an early failure from going unhandled
  // Parsed here without the check, only to start DH1; the identity used is identityP's, and a
  // malformed one is reported through it.
  let claimedDhKey: Uint8Array | null = null;
  try {
    claimedDhKey = IdentityPublic.restore(message.identityKey).dhKey;
  } catch { /* identityP rejects with the reason */ }
  const [spk, opk, kyber] = await Promise.all([
    lookup.signedPrekey(message.signedPrekeyId),
    opkId === null ? null : lookup.oneTimePrekey(opkId),
    lookup.kyberPrekey(message.kyberPrekeyId),
  ]);
  if (!spk) {
    throw new HandshakeError("bad_message", `unknown signed prekey ${message.signedPrekeyId}`);
  }
  if (opkId !== null && !opk) {
    throw new HandshakeError("bad_message", `one-time prekey ${opkId} is unknown or used`);
  }
  if (!kyber) {
    throw new HandshakeError(
      "bad_message",
      `ML-KEM prekey ${message.kyberPrekeyId} is unknown or used`,
    );
  }
  onSignedPrekey?.(spk);
  const ek = message.ephemeralKey;
  const dh1P = claimedDhKey ? spk.keyPair.dh(claimedDhKey) : null;
  dh1P?.catch(() => {}); // awaited after the identity check; this keeps a failure from going unhandled
  const [ss, identity, dh2, dh3, dh4] = await Promise.all([
    kyber.keyPair.decapsulate(message.kyberCiphertext).catch((e: Error) => {
      throw new HandshakeError("bad_message", e.message);
    }),
    identityP,
    own.dh(ek),
    spk.keyPair.dh(ek),
    opk ? opk.keyPair.dh(ek) : null,
  ]);
  const dh1 = await (dh1P ?? spk.keyPair.dh(identity.dhKey));
  const dhs = dh4 ? [dh1, dh2, dh3, dh4] : [dh1, dh2, dh3];
  const sk = await deriveSharedKey(dhs, ss);
  return {
    sharedKey: new SharedKey(sk),
    associatedData: concat(identity.keyBytes(), own.publicIdentity.keyBytes()),
    remoteIdentity: identity,
    signedPrekey: spk,
    consumed: {
      oneTimePrekeyId: opk ? opk.id : null,
      kyberPrekeyId: kyber.lastResort ? null : kyber.id,
    },
  };
}
