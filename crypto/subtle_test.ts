import assert from "node:assert/strict";
import { toHex } from "./bytes.ts";
import { DecryptError, KeyError } from "./errors.ts";
import {
  AesGcmKey,
  argon2id,
  Ed25519KeyPair,
  ed25519Verify,
  hkdfSha256,
  HmacKey,
  mlkemEncapsulate,
  MlKemKeyPair,
  VERIFIED_SIGNATURE_CACHE_ENTRIES,
  verifiedSignatureCacheSize,
  x25519,
  X25519_PUBLIC_CACHE_ENTRIES,
  X25519KeyPair,
  x25519PublicCacheSize,
} from "./subtle.ts";

const SECRET = Uint8Array.from({ length: 32 }, (_, i) => 0xa0 + (i % 16));

/** Both ways a key object can reach a log line. */
function shown(value: unknown): string[] {
  return [Deno.inspect(value), Deno.inspect({ nested: value }), JSON.stringify(value)];
}

Deno.test("every key class prints and serialises its secret as [redacted]", async () => {
  const x = await X25519KeyPair.fromPrivate(SECRET);
  const ed = await Ed25519KeyPair.fromSeed(SECRET);
  const seed = new Uint8Array(64).fill(0x5a);
  const kem = await MlKemKeyPair.fromSeed(seed);
  const keys: [string, unknown, string][] = [
    ["HmacKey", await HmacKey.import(SECRET), toHex(SECRET)],
    ["AesGcmKey", await AesGcmKey.import(SECRET), toHex(SECRET)],
    ["X25519KeyPair", x, toHex(SECRET)],
    ["Ed25519KeyPair", ed, toHex(SECRET)],
    ["MlKemKeyPair", kem, toHex(seed)],
  ];
  for (const [name, key, secretHex] of keys) {
    for (const text of shown(key)) {
      assert.match(text, /\[redacted\]/, `${name}: ${text}`);
      assert.ok(!text.includes(secretHex), `${name} leaks its secret: ${text}`);
      assert.ok(!text.includes(secretHex.slice(0, 16)), `${name} leaks part of its secret`);
    }
  }
  // Public halves stay visible: they identify the key in logs.
  assert.match(Deno.inspect(x), new RegExp(toHex(x.publicKey)));
  assert.deepEqual(JSON.parse(JSON.stringify(ed)), {
    publicKey: toHex(ed.publicKey),
    privateKey: "[redacted]",
  });
});

Deno.test("X25519KeyPair and Ed25519KeyPair give their secrets back only through *Unsafe()", async () => {
  const x = await X25519KeyPair.fromPrivate(SECRET);
  const ed = await Ed25519KeyPair.fromSeed(SECRET);
  assert.equal(toHex(x.privateBytesUnsafe()), toHex(SECRET));
  assert.equal(toHex(ed.seedUnsafe()), toHex(SECRET));
  x.privateBytesUnsafe().fill(0);
  assert.equal(toHex(x.privateBytesUnsafe()), toHex(SECRET), "the caller gets a copy");
});

Deno.test("exported functions name the input they expected and the one they got", async () => {
  await assert.rejects(
    AesGcmKey.import(new Uint8Array(15)),
    /key: expected 16, 24 or 32 bytes, got 15/,
  );
  const aes = await AesGcmKey.import(SECRET);
  await assert.rejects(
    aes.seal(new Uint8Array(11), new Uint8Array(0), new Uint8Array(0)),
    /nonce: expected 12 bytes, got 11/,
  );
  await assert.rejects(
    aes.seal(new Uint8Array(12), "text" as unknown as Uint8Array, new Uint8Array(0)),
    /plaintext: expected Uint8Array, got string/,
  );
  await assert.rejects(
    aes.open(new Uint8Array(12), new Uint8Array(15), new Uint8Array(0)),
    (e: unknown) =>
      e instanceof DecryptError && e.code === "bad_format" &&
      /at least 16 bytes, got 15/.test(e.message),
  );
  await assert.rejects(
    X25519KeyPair.fromPrivate(new Uint8Array(31)),
    /privateKey: expected 32 bytes, got 31/,
  );
  await assert.rejects(
    Ed25519KeyPair.fromSeed(new Uint8Array(33)),
    /seed: expected 32 bytes, got 33/,
  );
  await assert.rejects(
    HmacKey.import(null as unknown as Uint8Array),
    /key: expected Uint8Array, got null/,
  );
  await assert.rejects(
    hkdfSha256(SECRET, SECRET, SECRET, 0),
    /length: expected 1\.\.8160 bytes, got 0/,
  );
  await assert.rejects(hkdfSha256(SECRET, SECRET, SECRET, 8161), /got 8161/);
  assert.equal((await hkdfSha256(SECRET, SECRET, SECRET, 8160)).length, 8160);
  await assert.rejects(
    argon2id(SECRET, new Uint8Array(15), { memoryKiB: 8, passes: 1, parallelism: 1 }, 32),
    /salt: expected at least 16 bytes, got 15/,
  );
  await assert.rejects(
    MlKemKeyPair.fromSeed(new Uint8Array(63)),
    /seed: expected 64 bytes, got 63/,
  );
});

Deno.test("x25519() refuses a wrong-length or low-order key with KeyError(bad_public_key)", async () => {
  const own = await X25519KeyPair.fromPrivate(SECRET);
  for (
    const peer of [
      new Uint8Array(31),
      new Uint8Array(33),
      new Uint8Array(32),
      Uint8Array.fromHex("01" + "00".repeat(31)),
    ]
  ) {
    await assert.rejects(
      x25519(own, peer),
      (e: unknown) => e instanceof KeyError && e.code === "bad_public_key",
    );
  }
  await assert.rejects(x25519(own, new Uint8Array(31)), /expected 32 bytes, got 31/);
});

Deno.test("X25519KeyPair.dhHkdfKey() is HKDF over x25519()'s output and refuses the same keys", async () => {
  const own = await X25519KeyPair.fromPrivate(SECRET);
  const peer = await X25519KeyPair.generate();
  const salt = new Uint8Array(32).fill(1), info = Uint8Array.of(2);
  const viaBytes = await hkdfSha256(await x25519(own, peer.publicKey), salt, info, 96);
  const viaKey = await (await own.dhHkdfKey(peer.publicKey)).derive(salt, info, 96);
  assert.deepEqual(viaKey, viaBytes);
  for (
    const bad of [
      new Uint8Array(31),
      new Uint8Array(32),
      Uint8Array.fromHex("01" + "00".repeat(31)),
    ]
  ) {
    await assert.rejects(
      own.dhHkdfKey(bad),
      (e: unknown) => e instanceof KeyError && e.code === "bad_public_key",
    );
  }
});

Deno.test("X25519KeyPair.startFromPrivate() makes fromPrivate()'s key pair, its DHs the same and as strict", async () => {
  const whole = await X25519KeyPair.fromPrivate(SECRET);
  const peer = await X25519KeyPair.generate();
  const start = X25519KeyPair.startFromPrivate(SECRET);
  const salt = new Uint8Array(32).fill(1), info = Uint8Array.of(2);
  const [dh, viaKey, kp] = await Promise.all([
    start.dh(peer.publicKey),
    start.dhHkdfKey(peer.publicKey).then((k) => k.derive(salt, info, 96)),
    start.keyPair,
  ]);
  assert.deepEqual(dh, await x25519(whole, peer.publicKey));
  assert.deepEqual(viaKey, await (await whole.dhHkdfKey(peer.publicKey)).derive(salt, info, 96));
  assert.deepEqual(kp.publicKey, whole.publicKey);
  assert.deepEqual(kp.privateBytesUnsafe(), SECRET);
  for (const bad of [new Uint8Array(32), Uint8Array.fromHex("01" + "00".repeat(31))]) {
    const badKey = (e: unknown) => e instanceof KeyError && e.code === "bad_public_key";
    await assert.rejects(start.dh(bad), badKey);
    await assert.rejects(start.dhHkdfKey(bad), badKey);
  }
});

Deno.test("MlKemKeyPair.generate() makes distinct key pairs that its seed restores and that decapsulate", async () => {
  const [a, b] = await Promise.all([MlKemKeyPair.generate(), MlKemKeyPair.generate()]);
  assert.notDeepEqual(a.seedUnsafe(), b.seedUnsafe());
  assert.notDeepEqual(a.publicKey, b.publicKey);
  const again = await MlKemKeyPair.fromSeed(a.seedUnsafe());
  assert.deepEqual(again.publicKey, a.publicKey);
  const sent = await mlkemEncapsulate(a.publicKey);
  assert.deepEqual(await a.decapsulate(sent.ciphertext), sent.sharedSecret);
  assert.deepEqual(await again.decapsulate(sent.ciphertext), sent.sharedSecret);
  assert.notDeepEqual(await b.decapsulate(sent.ciphertext), sent.sharedSecret);
});

Deno.test("X25519KeyPair.startRandom() makes a fresh key pair whose early DHs are its own", async () => {
  const peer = await X25519KeyPair.generate();
  const salt = new Uint8Array(32).fill(1), info = Uint8Array.of(2);
  const a = X25519KeyPair.startRandom(), b = X25519KeyPair.startRandom();
  const [dh, viaKey, kp, other] = await Promise.all([
    a.dh(peer.publicKey),
    a.dhHkdfKey(peer.publicKey).then((k) => k.derive(salt, info, 96)),
    a.keyPair,
    b.keyPair,
  ]);
  // The key pair is the one its private bytes make, and the DHs started before it was known
  // are that key pair's, seen from either side.
  const whole = await X25519KeyPair.fromPrivate(kp.privateBytesUnsafe());
  assert.deepEqual(kp.publicKey, whole.publicKey);
  assert.deepEqual(dh, await peer.dh(kp.publicKey));
  assert.deepEqual(viaKey, await (await whole.dhHkdfKey(peer.publicKey)).derive(salt, info, 96));
  assert.notDeepEqual(kp.privateBytesUnsafe(), other.privateBytesUnsafe());
  for (const bad of [new Uint8Array(32), Uint8Array.fromHex("01" + "00".repeat(31))]) {
    const badKey = (e: unknown) => e instanceof KeyError && e.code === "bad_public_key";
    await assert.rejects(X25519KeyPair.startRandom().dh(bad), badKey);
    await assert.rejects(X25519KeyPair.startRandom().dhHkdfKey(bad), badKey);
  }
});

Deno.test("the imported X25519 public key cache holds X25519_PUBLIC_CACHE_ENTRIES keys, never N+1", async () => {
  const own = await X25519KeyPair.fromPrivate(SECRET);
  const peers = await Promise.all(
    Array.from({ length: X25519_PUBLIC_CACHE_ENTRIES + 1 }, () => X25519KeyPair.generate()),
  );
  for (const [i, peer] of peers.entries()) {
    await x25519(own, peer.publicKey);
    assert.ok(x25519PublicCacheSize() <= X25519_PUBLIC_CACHE_ENTRIES, `after ${i + 1} keys`);
  }
  assert.equal(x25519PublicCacheSize(), X25519_PUBLIC_CACHE_ENTRIES);
  // A cached key gives the same output as a fresh import would.
  const again = await x25519(own, peers.at(-1)!.publicKey);
  assert.deepEqual(again, await peers.at(-1)!.dh(own.publicKey));
});

Deno.test("ed25519Verify() remembers a passed check for that exact message only, N entries at most", async () => {
  const ed = await Ed25519KeyPair.fromSeed(SECRET);
  const msg = Uint8Array.of(1, 2, 3);
  const sig = await ed.sign(msg);
  assert.equal(await ed25519Verify(ed.publicKey, msg, sig), true);
  assert.equal(await ed25519Verify(ed.publicKey, msg, sig), true, "from the cache");
  assert.equal(await ed25519Verify(ed.publicKey, Uint8Array.of(1, 2, 4), sig), false);
  assert.equal(await ed25519Verify(ed.publicKey, Uint8Array.of(1, 2), sig), false);
  const tampered = sig.slice();
  tampered[0]! ^= 1;
  assert.equal(await ed25519Verify(ed.publicKey, msg, tampered), false);
  for (let i = 0; i <= VERIFIED_SIGNATURE_CACHE_ENTRIES; i++) {
    const m = Uint8Array.of(i, 0xee);
    assert.equal(await ed25519Verify(ed.publicKey, m, await ed.sign(m)), true);
    assert.ok(verifiedSignatureCacheSize() <= VERIFIED_SIGNATURE_CACHE_ENTRIES, `after ${i + 1}`);
  }
  assert.equal(verifiedSignatureCacheSize(), VERIFIED_SIGNATURE_CACHE_ENTRIES);
});

Deno.test("ed25519Verify() returns false, never throws, for malformed keys and signatures", async () => {
  const ed = await Ed25519KeyPair.fromSeed(SECRET);
  const msg = new Uint8Array([1]);
  const sig = await ed.sign(msg);
  assert.equal(await ed25519Verify(ed.publicKey, msg, sig), true);
  assert.equal(await ed25519Verify(ed.publicKey.subarray(0, 31), msg, sig), false);
  assert.equal(await ed25519Verify(ed.publicKey, msg, sig.subarray(0, 63)), false);
  assert.equal(await ed25519Verify(new Uint8Array(32).fill(0xff), msg, sig), false);
  assert.equal(await ed25519Verify("key" as unknown as Uint8Array, msg, sig), false);
});
