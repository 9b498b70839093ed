import assert from "node:assert/strict";
import { randomBytes } from "../bytes.ts";
import { CHAIN_BATCH_KEYS, ChainKey } from "./chain_key.ts";
import { MessageKey } from "./message_key.ts";
import { PREFETCH_KEYS, SymmetricChain } from "./symmetric_chain.ts";

// The keys a plain chain gives: KDF_CK step by step, each key derived, nothing ahead.
async function plainKeys(ck: Uint8Array, n: number): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  let key = new ChainKey(ck, 0);
  for (let i = 0; i < n; i++) {
    const step = await key.next();
    out.push((await step.messageKey.ready()).bytesUnsafe());
    key = step.chainKey;
  }
  return out;
}

const material = async (k: MessageKey) => (await k.ready()).bytesUnsafe();

Deno.test("SymmetricChain.seek() yields the plain chain's keys, with or without prefetch", async () => {
  const ck = randomBytes(32);
  const expected = await plainKeys(ck, 8);
  for (const prefetch of [true, false]) {
    let chain = SymmetricChain.start(new ChainKey(ck, 0));
    for (let i = 0; i < 8; i++) {
      assert.equal(chain.nextIndex, i);
      const { key, passed, rest } = await chain.seek(i, prefetch);
      assert.equal(passed.length, 0);
      assert.equal(key.index, i);
      assert.deepEqual(key.bytesUnsafe(), expected[i]);
      chain = await rest;
      assert.equal(chain.ahead.length, prefetch ? PREFETCH_KEYS : 0);
    }
  }
});

Deno.test("SymmetricChain.seek() past keys returns them as passed, in order", async () => {
  const ck = randomBytes(32);
  const expected = await plainKeys(ck, 7);
  const chain = await SymmetricChain.start(new ChainKey(ck, 0)).prefetched();
  const { key, passed, rest } = await chain.seek(5);
  assert.deepEqual(passed.map((k) => k.index), [0, 1, 2, 3, 4]);
  for (const k of passed) assert.deepEqual(await material(k), expected[k.index]);
  assert.deepEqual(key.bytesUnsafe(), expected[5]);
  assert.equal((await rest).nextIndex, 6);
});

Deno.test("SymmetricChain.seek() refuses an index below nextIndex", async () => {
  const chain = await SymmetricChain.start(new ChainKey(randomBytes(32), 3)).prefetched();
  await assert.rejects(chain.seek(2), RangeError);
});

Deno.test("SymmetricChain.keysBefore() returns exactly the keys in [nextIndex, end)", async () => {
  const ck = randomBytes(32);
  const expected = await plainKeys(ck, 6);
  const chain = await SymmetricChain.start(new ChainKey(ck, 0)).prefetched();
  const keys = await chain.keysBefore(6);
  assert.deepEqual(keys.map((k) => k.index), [0, 1, 2, 3, 4, 5]);
  for (const k of keys) assert.deepEqual(await material(k), expected[k.index]);
  assert.deepEqual((await chain.keysBefore(1)).map((k) => k.index), [0]);
});

Deno.test("SymmetricChain.restore() refuses keys ahead that do not end at the head", async () => {
  const chain = await SymmetricChain.start(new ChainKey(randomBytes(32), 0)).prefetched();
  assert.throws(() => SymmetricChain.restore(chain.head, chain.ahead.slice(0, 1)), RangeError);
  assert.equal(SymmetricChain.restore(chain.head, chain.ahead).nextIndex, 0);
});

Deno.test("a version 2 chain holds CHAIN_BATCH_KEYS keys ahead, never N+1", async () => {
  const start = 10;
  const keys: MessageKey[] = [];
  const head = await new ChainKey(randomBytes(32), start, 2).batch(keys);
  assert.equal(keys.length, CHAIN_BATCH_KEYS);
  const chain = SymmetricChain.restore(head, keys);
  assert.equal(chain.nextIndex, start);
  const extra = MessageKey.fromAesKey(start - 1, randomBytes(32));
  assert.throws(() => SymmetricChain.restore(head, [extra, ...keys]), RangeError);
  // Seeking past the batch derives the next one and passes over the keys between.
  const target = start + CHAIN_BATCH_KEYS + 2;
  const { key, passed, rest } = await chain.seek(target);
  assert.equal(key.index, target);
  assert.deepEqual(
    passed.map((k) => k.index),
    Array.from({ length: target - start }, (_, i) => start + i),
  );
  assert.equal((await rest).nextIndex, target + 1);
});
