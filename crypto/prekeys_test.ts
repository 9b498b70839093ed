import assert from "node:assert/strict";
import { toHex } from "./bytes.ts";
import { KeyError } from "./errors.ts";
import { IdentityKeyPair } from "./identity.ts";
import {
  bundleOf,
  KyberPrekey,
  MAX_PREKEY_ID,
  OneTimePrekey,
  type PrekeyBundle,
  SignedPrekey,
  verifyBundle,
} from "./prekeys.ts";

const code = (c: string, re?: RegExp) => (e: unknown) =>
  e instanceof KeyError && e.code === c && (!re || re.test(e.message));

const bob = await IdentityKeyPair.generate();
const [spk, opk, kyber, lastResort] = await Promise.all([
  SignedPrekey.generate(bob, 5, 1_700_000_000_000),
  OneTimePrekey.generate(6),
  KyberPrekey.generate(bob, 7, false),
  KyberPrekey.generate(bob, 8, true),
]);

function copy(b: PrekeyBundle): PrekeyBundle {
  return structuredClone(b);
}

Deno.test("SignedPrekey.serialize() round-trips id, key, signature and createdAt", async () => {
  const back = await SignedPrekey.deserialize(spk.serialize());
  assert.equal(back.id, 5);
  assert.equal(back.createdAt, 1_700_000_000_000);
  assert.deepEqual(back.record(), spk.record());
});

Deno.test("OneTimePrekey.serialize() round-trips id and key", async () => {
  const back = await OneTimePrekey.deserialize(opk.serialize());
  assert.deepEqual(back.record(), opk.record());
});

Deno.test("KyberPrekey.serialize() round-trips id, key, signature and lastResort", async () => {
  for (const k of [kyber, lastResort]) {
    const back = await KyberPrekey.deserialize(k.serialize());
    assert.deepEqual(back.record(), k.record());
    assert.equal(back.lastResort, k.lastResort);
  }
});

Deno.test("prekey deserialize() refuses another kind's bytes as bad_encoding", async () => {
  await assert.rejects(SignedPrekey.deserialize(opk.serialize()), code("bad_encoding"));
  await assert.rejects(OneTimePrekey.deserialize(kyber.serialize()), code("bad_encoding"));
  await assert.rejects(KyberPrekey.deserialize(spk.serialize()), code("bad_encoding"));
});

Deno.test("SignedPrekey.generate() takes ids up to MAX_PREKEY_ID and refuses MAX_PREKEY_ID+1", async () => {
  assert.equal((await SignedPrekey.generate(bob, MAX_PREKEY_ID)).id, MAX_PREKEY_ID);
  await assert.rejects(SignedPrekey.generate(bob, MAX_PREKEY_ID + 1), code("bad_encoding"));
});

Deno.test("verifyBundle() accepts a bundle with and without a one-time prekey", async () => {
  const v = await verifyBundle(bundleOf(bob, spk, opk, kyber));
  assert.ok(v.identity.equals(bob.publicIdentity));
  assert.equal(v.oneTimePrekey?.id, 6);
  assert.equal(v.kyberPrekey.lastResort, false);
  const w = await verifyBundle(bundleOf(bob, spk, null, lastResort));
  assert.equal(w.oneTimePrekey, null);
  assert.equal(w.kyberPrekey.lastResort, true);
});

Deno.test("verifyBundle() refuses a bad signature on the signed prekey", async () => {
  const b = copy(bundleOf(bob, spk, opk, kyber));
  b.signedPrekey.signature[0]! ^= 1;
  await assert.rejects(verifyBundle(b), code("bad_signature", /signed prekey 5/));
});

Deno.test("verifyBundle() refuses a bad signature on the ML-KEM prekey", async () => {
  const b = copy(bundleOf(bob, spk, opk, kyber));
  b.kyberPrekey.signature[10]! ^= 1;
  await assert.rejects(verifyBundle(b), code("bad_signature", /ML-KEM prekey 7/));
});

Deno.test("verifyBundle() refuses a relabelled id, a flipped last-resort flag or another key", async () => {
  const relabelled = copy(bundleOf(bob, spk, opk, kyber));
  relabelled.signedPrekey.id = 99;
  await assert.rejects(verifyBundle(relabelled), code("bad_signature"));
  const flipped = copy(bundleOf(bob, spk, opk, kyber));
  flipped.kyberLastResort = true;
  await assert.rejects(verifyBundle(flipped), code("bad_signature"));
  const other = await SignedPrekey.generate(bob, 5);
  const swapped = copy(bundleOf(bob, spk, opk, kyber));
  swapped.signedPrekey.publicKey = other.keyPair.publicKey;
  await assert.rejects(verifyBundle(swapped), code("bad_signature"));
});

Deno.test("verifyBundle() refuses prekeys signed by another identity", async () => {
  const mallory = await IdentityKeyPair.generate();
  const b = bundleOf(mallory, spk, opk, kyber);
  await assert.rejects(verifyBundle(b), code("bad_signature"));
});

Deno.test("verifyBundle() refuses malformed fields as bad_encoding", async () => {
  const short = copy(bundleOf(bob, spk, opk, kyber));
  short.kyberPrekey.publicKey = short.kyberPrekey.publicKey.subarray(1);
  await assert.rejects(verifyBundle(short), code("bad_encoding"));
  const badId = copy(bundleOf(bob, spk, opk, kyber));
  badId.oneTimePrekey!.id = -1;
  await assert.rejects(verifyBundle(badId), code("bad_encoding"));
  const badIdentity = copy(bundleOf(bob, spk, opk, kyber));
  badIdentity.identityKey = badIdentity.identityKey.subarray(0, 100);
  await assert.rejects(verifyBundle(badIdentity), code("bad_encoding"));
});

Deno.test("prekeys print and serialise to JSON without their private keys", () => {
  for (const k of [spk, opk, kyber]) {
    const shown = Deno.inspect(k) + JSON.stringify(k);
    assert.match(shown, /\[redacted\]/);
  }
  const secret = toHex(spk.keyPair.privateBytesUnsafe());
  assert.ok(!(Deno.inspect(spk) + JSON.stringify(spk)).includes(secret));
});
