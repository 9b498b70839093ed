// The ratchet's KDFs against their definitions in the Double Ratchet specification, computed here
// directly with the Web Crypto wrapper.
import assert from "node:assert/strict";
import { randomBytes, utf8 } from "../bytes.ts";
import {
  MESSAGE_KEY_INFO,
  RATCHET_CHAIN_INFO_V2,
  RATCHET_ROOT_INFO,
  RATCHET_ROOT_INFO_V2,
} from "../labels.ts";
import { AesGcmKey, hkdfSha256, hmacSha256 } from "../subtle.ts";
import { CHAIN_BATCH_KEYS, ChainKey } from "./chain_key.ts";
import { MessageKey } from "./message_key.ts";
import { RootKey } from "./root_key.ts";

Deno.test("RootKey.advance() is KDF_RK: HKDF(salt = rk, ikm = DH output) split into rk and ck", async () => {
  const rk = randomBytes(32), dh = randomBytes(32);
  const expected = await hkdfSha256(dh, rk, utf8(RATCHET_ROOT_INFO), 64);
  const { rootKey, chainKey } = await new RootKey(rk).advance(dh);
  assert.deepEqual(rootKey.bytesUnsafe(), expected.subarray(0, 32));
  assert.deepEqual(chainKey.bytesUnsafe(), expected.subarray(32));
  assert.equal(chainKey.index, 0);
});

Deno.test("ChainKey.next() is KDF_CK: mk = HMAC(ck, 0x01), ck' = HMAC(ck, 0x02)", async () => {
  const ck = randomBytes(32);
  const { messageKey, chainKey } = await new ChainKey(ck, 4).next();
  assert.equal(messageKey.form, "seed");
  assert.equal(messageKey.index, 4);
  assert.deepEqual(messageKey.bytesUnsafe(), await hmacSha256(ck, Uint8Array.of(1)));
  assert.deepEqual(chainKey.bytesUnsafe(), await hmacSha256(ck, Uint8Array.of(2)));
  assert.equal(chainKey.index, 5);
});

Deno.test("MessageKey.seal() is AES-256-GCM under the key and nonce HKDF derives from mk", async () => {
  const mk = randomBytes(32), pt = utf8("hello"), ad = utf8("ad");
  const material = await hkdfSha256(mk, new Uint8Array(32), utf8(MESSAGE_KEY_INFO), 44);
  const expected = await (await AesGcmKey.import(material.subarray(0, 32))).seal(
    material.subarray(32),
    pt,
    ad,
  );
  const key = MessageKey.fromSeed(0, mk);
  assert.deepEqual(await key.seal(pt, ad), expected);
  const ready = await key.ready();
  assert.equal(ready.form, "material");
  assert.deepEqual(ready.bytesUnsafe(), material);
  assert.deepEqual(await ready.open(expected, ad), pt);
});

Deno.test("RootKey.advanceV2() is one HKDF(salt = rk, ikm = DH output): rk, ck for 1, mk for 0", async () => {
  const rk = randomBytes(32), dh = randomBytes(32);
  const expected = await hkdfSha256(dh, rk, utf8(RATCHET_ROOT_INFO_V2), 96);
  const { rootKey, chainKey, firstKey } = await new RootKey(rk).advanceV2(dh);
  assert.deepEqual(rootKey.bytesUnsafe(), expected.subarray(0, 32));
  assert.deepEqual(chainKey.bytesUnsafe(), expected.subarray(32, 64));
  assert.deepEqual(firstKey.bytesUnsafe(), expected.subarray(64));
  assert.deepEqual([chainKey.index, chainKey.version, firstKey.index, firstKey.form], [
    1,
    2,
    0,
    "key",
  ]);
});

Deno.test("ChainKey.batch() is one HKDF of ck_i: ck_{i+B}, then mk_i .. mk_{i+B-1}", async () => {
  const ck = randomBytes(32);
  const expected = await hkdfSha256(
    ck,
    new Uint8Array(0),
    utf8(RATCHET_CHAIN_INFO_V2),
    32 * (CHAIN_BATCH_KEYS + 1),
  );
  const keys: MessageKey[] = [];
  const next = await new ChainKey(ck, 5, 2).batch(keys);
  assert.deepEqual(next.bytesUnsafe(), expected.subarray(0, 32));
  assert.equal(next.index, 5 + CHAIN_BATCH_KEYS);
  assert.equal(keys.length, CHAIN_BATCH_KEYS);
  keys.forEach((k, i) => {
    assert.equal(k.index, 5 + i);
    assert.deepEqual(k.bytesUnsafe(), expected.subarray(32 * (i + 1), 32 * (i + 2)));
  });
  await assert.rejects(new ChainKey(ck, 0, 1).batch([]), TypeError);
  await assert.rejects(new ChainKey(ck, 0, 2).next(), TypeError);
});

Deno.test("a version 2 MessageKey seals AES-256-GCM under its key and the nonce it is given", async () => {
  const k = randomBytes(32), nonce = randomBytes(12), pt = utf8("hello"), ad = utf8("ad");
  const expected = await (await AesGcmKey.import(k)).seal(nonce, pt, ad);
  const key = MessageKey.fromAesKey(0, k);
  assert.deepEqual(await key.seal(pt, ad, nonce), expected);
  assert.deepEqual(await key.open(expected, ad, nonce), pt);
  await assert.rejects(key.seal(pt, ad), TypeError);
});

Deno.test("ChainKey, RootKey and MessageKey print as [redacted]", () => {
  const shown = [
    new ChainKey(randomBytes(32), 0),
    new RootKey(randomBytes(32)),
    MessageKey.fromSeed(1, randomBytes(32)),
  ].map((k) => Deno.inspect(k) + JSON.stringify(k)).join();
  assert.equal(shown.match(/\[redacted\]/g)?.length, 6);
});
