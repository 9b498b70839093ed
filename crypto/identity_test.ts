import assert from "node:assert/strict";
import { toHex } from "./bytes.ts";
import { KeyError } from "./errors.ts";
import {
  IDENTITY_KEY_BYTES,
  IDENTITY_PUBLIC_BYTES,
  IdentityKeyPair,
  IdentityPublic,
  keySignatureMessage,
} from "./identity.ts";
import { KeyKind } from "./labels.ts";

const code = (c: string) => (e: unknown) => e instanceof KeyError && e.code === c;

Deno.test("IdentityPublic.decode() accepts a generated identity's 129-byte encoding", async () => {
  const id = await IdentityKeyPair.generate();
  const bytes = id.publicIdentity.encode();
  assert.equal(bytes.length, IDENTITY_PUBLIC_BYTES);
  const decoded = await IdentityPublic.decode(bytes);
  assert.ok(decoded.equals(id.publicIdentity));
  assert.deepEqual(decoded.encode(), bytes);
  assert.equal(decoded.keyBytes().length, IDENTITY_KEY_BYTES);
  assert.deepEqual(decoded.keyBytes(), bytes.subarray(0, IDENTITY_KEY_BYTES));
});

Deno.test("IdentityPublic.decode() refuses a wrong length or version as bad_encoding", async () => {
  const bytes = (await IdentityKeyPair.generate()).publicIdentity.encode();
  await assert.rejects(IdentityPublic.decode(bytes.subarray(0, 128)), code("bad_encoding"));
  await assert.rejects(
    IdentityPublic.decode(Uint8Array.of(...bytes, 0)),
    code("bad_encoding"),
  );
  const v2 = bytes.slice();
  v2[0] = 2;
  await assert.rejects(IdentityPublic.decode(v2), /expected version 1, got 2/);
});

Deno.test("IdentityPublic.decode() refuses a changed signature or X25519 key as bad_signature", async () => {
  const [a, b] = await Promise.all([IdentityKeyPair.generate(), IdentityKeyPair.generate()]);
  const sig = a.publicIdentity.encode();
  sig[IDENTITY_PUBLIC_BYTES - 1]! ^= 1;
  await assert.rejects(IdentityPublic.decode(sig), code("bad_signature"));
  // a's signing key and signature with b's X25519 key: the signature does not cover it.
  const swapped = a.publicIdentity.encode();
  swapped.set(b.publicIdentity.dhKey, 33);
  await assert.rejects(IdentityPublic.decode(swapped), code("bad_signature"));
});

Deno.test("IdentityKeyPair.serialize() round-trips to the same identity", async () => {
  const id = await IdentityKeyPair.generate();
  const restored = await IdentityKeyPair.deserialize(id.serialize());
  assert.deepEqual(restored.publicIdentity.encode(), id.publicIdentity.encode());
  const peer = await IdentityKeyPair.generate();
  assert.deepEqual(
    await restored.dh(peer.publicIdentity.dhKey),
    await id.dh(peer.publicIdentity.dhKey),
  );
});

Deno.test("IdentityKeyPair.deserialize() refuses other bytes as bad_encoding", async () => {
  const bytes = (await IdentityKeyPair.generate()).serialize();
  await assert.rejects(IdentityKeyPair.deserialize(bytes.subarray(1)), code("bad_encoding"));
  const v9 = bytes.slice();
  v9[0] = 9;
  await assert.rejects(IdentityKeyPair.deserialize(v9), code("bad_encoding"));
  await assert.rejects(IdentityKeyPair.deserialize(Uint8Array.of(...bytes, 1)), /trailing/);
});

Deno.test("IdentityKeyPair.fromSecrets() is deterministic", async () => {
  const seed = new Uint8Array(32).fill(1), dh = new Uint8Array(32).fill(2);
  const [a, b] = await Promise.all([
    IdentityKeyPair.fromSecrets(seed, dh),
    IdentityKeyPair.fromSecrets(seed, dh),
  ]);
  assert.deepEqual(a.publicIdentity.encode(), b.publicIdentity.encode());
});

Deno.test("keySignatureMessage() tags the kind: a signature on one kind fails as another", async () => {
  const id = await IdentityKeyPair.generate();
  const key = new Uint8Array(32).fill(7);
  const sig = await id.signKey(KeyKind.signedPrekey, key);
  const pub = id.publicIdentity;
  assert.ok(await pub.verifyKeySignature(KeyKind.signedPrekey, [key], sig));
  assert.equal(await pub.verifyKeySignature(KeyKind.identityDh, [key], sig), false);
  assert.equal(await pub.verifyKeySignature(KeyKind.kyberPrekey, [key], sig), false);
  assert.notDeepEqual(
    keySignatureMessage(KeyKind.signedPrekey, key),
    keySignatureMessage(KeyKind.identityDh, key),
  );
});

Deno.test("IdentityKeyPair prints and serialises to JSON without its private keys", async () => {
  const id = await IdentityKeyPair.generate();
  const secret = toHex(id.serialize().subarray(1, 33));
  const shown = Deno.inspect(id) + JSON.stringify(id);
  assert.match(shown, /\[redacted\]/);
  assert.ok(!shown.includes(secret));
  assert.ok(!shown.includes(toHex(id.serialize().subarray(33))));
});
