import assert from "node:assert/strict";
import { concat, fromHex, toHex, u32be, utf8 } from "./bytes.ts";
import { HandshakeError, KeyError } from "./errors.ts";
import { IDENTITY_VERSION, IdentityKeyPair, keySignatureMessage } from "./identity.ts";
import { KeyKind, PQXDH_INFO } from "./labels.ts";
import {
  decodeInitialMessage,
  encodeInitialMessage,
  INITIAL_MESSAGE_BYTES,
  type InitialMessage,
  pqxdhInitiate,
  pqxdhRespond,
  type PrekeyLookup,
} from "./pqxdh.ts";
import {
  bundleOf,
  KyberPrekey,
  OneTimePrekey,
  type PrekeyBundle,
  SignedPrekey,
  verifyBundle,
} from "./prekeys.ts";
import {
  Ed25519KeyPair,
  hkdfSha256,
  mlkemEncapsulate,
  MlKemKeyPair,
  X25519KeyPair,
} from "./subtle.ts";

const keyError = (c: string) => (e: unknown) => e instanceof KeyError && e.code === c;
const badMessage = (e: unknown) => e instanceof HandshakeError && e.code === "bad_message";

// Points of small order on Curve25519 (u = 1 has order 4; the second has order 8).
const LOW_ORDER = [
  fromHex("0100000000000000000000000000000000000000000000000000000000000000"),
  fromHex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
];

const [alice, bob] = await Promise.all([IdentityKeyPair.generate(), IdentityKeyPair.generate()]);
const [spk, opk, kyber, lastResort] = await Promise.all([
  SignedPrekey.generate(bob, 1),
  OneTimePrekey.generate(2),
  KyberPrekey.generate(bob, 3, false),
  KyberPrekey.generate(bob, 4, true),
]);

function lookupOf(...keys: (SignedPrekey | OneTimePrekey | KyberPrekey)[]): PrekeyLookup {
  const byId = (id: number) => keys.filter((k) => k.id === id);
  return {
    signedPrekey: (id) => Promise.resolve(byId(id).find((k) => k instanceof SignedPrekey) ?? null),
    oneTimePrekey: (id) =>
      Promise.resolve(byId(id).find((k) => k instanceof OneTimePrekey) ?? null),
    kyberPrekey: (id) => Promise.resolve(byId(id).find((k) => k instanceof KyberPrekey) ?? null),
  };
}
const bobKeys = lookupOf(spk, opk, kyber, lastResort);

/** A bundle whose keys are all validly signed by a fresh Ed25519 key, any of them low-order. */
async function forgedBundle(
  low: { identity?: Uint8Array; spk?: Uint8Array; opk?: Uint8Array } = {},
): Promise<PrekeyBundle> {
  const ed = await Ed25519KeyPair.generate();
  const fresh = async () => (await X25519KeyPair.generate()).publicKey;
  const idDh = low.identity ?? await fresh();
  const spkPub = low.spk ?? await fresh();
  const pq = await MlKemKeyPair.generate();
  const sign = (kind: number, ...f: Uint8Array[]) => ed.sign(keySignatureMessage(kind, ...f));
  return {
    identityKey: concat(
      Uint8Array.of(IDENTITY_VERSION),
      ed.publicKey,
      idDh,
      await sign(KeyKind.identityDh, idDh),
    ),
    signedPrekey: {
      id: 1,
      publicKey: spkPub,
      signature: await sign(KeyKind.signedPrekey, u32be(1), spkPub),
    },
    oneTimePrekey: { id: 2, publicKey: low.opk ?? await fresh() },
    kyberPrekey: {
      id: 3,
      publicKey: pq.publicKey,
      signature: await sign(KeyKind.kyberPrekey, u32be(3), Uint8Array.of(0), pq.publicKey),
    },
    kyberLastResort: false,
  };
}

Deno.test("pqxdhInitiate() and pqxdhRespond() derive the same SK and AD with a one-time prekey", async () => {
  const x = await pqxdhInitiate(alice, bundleOf(bob, spk, opk, kyber));
  assert.equal(x.message.oneTimePrekeyId, 2);
  const y = await pqxdhRespond(bob, bobKeys, decodeInitialMessage(encodeInitialMessage(x.message)));
  assert.deepEqual(y.sharedKey.bytesUnsafe(), x.sharedKey.bytesUnsafe());
  assert.deepEqual(y.associatedData, x.associatedData);
  assert.deepEqual(
    x.associatedData,
    concat(alice.publicIdentity.keyBytes(), bob.publicIdentity.keyBytes()),
  );
  assert.ok(y.remoteIdentity.equals(alice.publicIdentity));
  assert.ok(x.remoteIdentity.equals(bob.publicIdentity));
  assert.deepEqual(y.consumed, { oneTimePrekeyId: 2, kyberPrekeyId: 3 });
});

Deno.test("pqxdhInitiate() and pqxdhRespond() agree without a one-time prekey (no DH4)", async () => {
  const x = await pqxdhInitiate(alice, bundleOf(bob, spk, null, lastResort));
  assert.equal(x.message.oneTimePrekeyId, null);
  const y = await pqxdhRespond(bob, bobKeys, x.message);
  assert.deepEqual(y.sharedKey.bytesUnsafe(), x.sharedKey.bytesUnsafe());
  // A last-resort ML-KEM key stays; nothing one-time was used.
  assert.deepEqual(y.consumed, { oneTimePrekeyId: null, kyberPrekeyId: null });
});

Deno.test("pqxdhInitiate() computes SK = HKDF(0xFF×32 ‖ DH1 ‖ DH2 ‖ DH3 ‖ DH4 ‖ SS) as specified", async () => {
  const ek = await X25519KeyPair.generate();
  const encapsulation = await mlkemEncapsulate(kyber.keyPair.publicKey);
  const x = await pqxdhInitiate(alice, bundleOf(bob, spk, opk, kyber), {
    ephemeralKeyForVectorsOnly: ek,
    encapsulationForVectorsOnly: encapsulation,
  });
  const ikm = concat(
    new Uint8Array(32).fill(0xff),
    await alice.dh(spk.keyPair.publicKey),
    await ek.dh(bob.publicIdentity.dhKey),
    await ek.dh(spk.keyPair.publicKey),
    await ek.dh(opk.keyPair.publicKey),
    encapsulation.sharedSecret,
  );
  const expected = await hkdfSha256(ikm, new Uint8Array(32), utf8(PQXDH_INFO), 32);
  assert.deepEqual(x.sharedKey.bytesUnsafe(), expected);
  assert.deepEqual(x.message.ephemeralKey, ek.publicKey);
  assert.deepEqual(x.message.kyberCiphertext, encapsulation.ciphertext);
});

Deno.test("pqxdhInitiate() refuses a bad signature on the signed prekey", async () => {
  const b = structuredClone(bundleOf(bob, spk, opk, kyber));
  b.signedPrekey.signature[5]! ^= 0x80;
  await assert.rejects(pqxdhInitiate(alice, b), keyError("bad_signature"));
});

Deno.test("pqxdhInitiate() reports a failed signature before what the DHs started beside it found", async () => {
  // The DHs run beside the checks; a bundle with a low-order key and a broken signature must still
  // be refused for its signature, and the first ratchet DH the caller started must never be used.
  for (const low of [{ spk: LOW_ORDER[0]! }, { opk: LOW_ORDER[0]! }, { identity: LOW_ORDER[0]! }]) {
    const b = await forgedBundle(low);
    b.signedPrekey.signature[0]! ^= 0x01;
    let seen: Uint8Array | null = null;
    await assert.rejects(
      pqxdhInitiate(alice, b, {}, (spk) => seen = spk),
      keyError("bad_signature"),
    );
    assert.deepEqual(
      seen,
      b.signedPrekey.publicKey,
      "handed over at once, as the bundle states it",
    );
  }
  const malformed = structuredClone(bundleOf(bob, spk, opk, kyber)) as unknown as Record<
    string,
    unknown
  >;
  malformed.signedPrekey = null;
  await assert.rejects(
    pqxdhInitiate(alice, malformed as unknown as PrekeyBundle),
    keyError("bad_encoding"),
  );
});

Deno.test("pqxdhInitiate() refuses a bad signature on the ML-KEM prekey", async () => {
  const b = structuredClone(bundleOf(bob, spk, opk, kyber));
  b.kyberPrekey.signature[63]! ^= 0x01;
  await assert.rejects(pqxdhInitiate(alice, b), keyError("bad_signature"));
});

Deno.test("pqxdhInitiate() runs on a forged but well-signed bundle (the control case)", async () => {
  await verifyBundle(await forgedBundle());
  await pqxdhInitiate(alice, await forgedBundle());
});

Deno.test("pqxdhInitiate() refuses a low-order identity, signed prekey or one-time prekey", async () => {
  for (const point of LOW_ORDER) {
    for (const low of [{ identity: point }, { spk: point }, { opk: point }]) {
      const bundle = await forgedBundle(low);
      await verifyBundle(bundle); // the signatures are fine: only the key is bad
      await assert.rejects(pqxdhInitiate(alice, bundle), keyError("bad_public_key"));
    }
  }
});

Deno.test("pqxdhRespond() refuses a low-order ephemeral key", async () => {
  const x = await pqxdhInitiate(alice, bundleOf(bob, spk, opk, kyber));
  for (const point of LOW_ORDER) {
    const m: InitialMessage = { ...x.message, ephemeralKey: point };
    await assert.rejects(pqxdhRespond(bob, bobKeys, m), keyError("bad_public_key"));
  }
});

Deno.test("pqxdhRespond() refuses a low-order identity key from the initiator", async () => {
  const x = await pqxdhInitiate(alice, bundleOf(bob, spk, opk, kyber));
  const forged = await forgedBundle({ identity: LOW_ORDER[1] });
  const m: InitialMessage = { ...x.message, identityKey: forged.identityKey };
  await assert.rejects(pqxdhRespond(bob, bobKeys, m), keyError("bad_public_key"));
});

Deno.test("pqxdhRespond() refuses an initiator identity whose signature fails", async () => {
  const x = await pqxdhInitiate(alice, bundleOf(bob, spk, opk, kyber));
  const identityKey = x.message.identityKey.slice();
  identityKey[100]! ^= 1;
  await assert.rejects(
    pqxdhRespond(bob, bobKeys, { ...x.message, identityKey }),
    keyError("bad_signature"),
  );
});

Deno.test("pqxdhRespond() refuses unknown or used prekey ids as bad_message", async () => {
  const x = await pqxdhInitiate(alice, bundleOf(bob, spk, opk, kyber));
  await assert.rejects(pqxdhRespond(bob, lookupOf(spk, kyber), x.message), badMessage);
  await assert.rejects(pqxdhRespond(bob, lookupOf(opk, kyber), x.message), badMessage);
  await assert.rejects(pqxdhRespond(bob, lookupOf(spk, opk), x.message), badMessage);
});

Deno.test("pqxdhRespond() derives a different SK from a changed ciphertext", async () => {
  const x = await pqxdhInitiate(alice, bundleOf(bob, spk, opk, kyber));
  const kyberCiphertext = x.message.kyberCiphertext.slice();
  kyberCiphertext[0]! ^= 1;
  const y = await pqxdhRespond(bob, bobKeys, { ...x.message, kyberCiphertext });
  assert.notDeepEqual(y.sharedKey.bytesUnsafe(), x.sharedKey.bytesUnsafe());
});

Deno.test("decodeInitialMessage() reads back encodeInitialMessage() and refuses other lengths", async () => {
  const x = await pqxdhInitiate(alice, bundleOf(bob, spk, opk, kyber));
  const bytes = encodeInitialMessage(x.message);
  assert.equal(bytes.length, INITIAL_MESSAGE_BYTES);
  assert.deepEqual(decodeInitialMessage(bytes), x.message);
  assert.throws(() => decodeInitialMessage(bytes.subarray(1)), badMessage);
  assert.throws(() => decodeInitialMessage(Uint8Array.of(...bytes, 0)), badMessage);
});

Deno.test("pqxdhInitiate()'s shared key prints as [redacted]", async () => {
  const x = await pqxdhInitiate(alice, bundleOf(bob, spk, opk, kyber));
  const shown = Deno.inspect(x, { depth: 5 }) + JSON.stringify(x);
  assert.ok(!shown.includes(toHex(x.sharedKey.bytesUnsafe())));
  assert.match(shown, /SharedKey \[redacted\]/);
});
