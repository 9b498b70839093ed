import assert from "node:assert/strict";
import { randomBytes } from "../bytes.ts";
import { MessageKey } from "./message_key.ts";
import { MAX_SKIPPED_KEYS, SKIPPED_KEY_MAX_STEPS, SkippedKeys } from "./skipped_keys.ts";

const ratchet = randomBytes(32);
const keys = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => MessageKey.fromSeed(from + i, randomBytes(32)));

Deno.test("SkippedKeys.add() keeps MAX_SKIPPED_KEYS keys and evicts the oldest at N+1", () => {
  const full = SkippedKeys.empty.add(ratchet, keys(0, MAX_SKIPPED_KEYS), 0);
  assert.equal(full.size, MAX_SKIPPED_KEYS);
  assert.ok(full.find(ratchet, 0));
  const over = full.add(ratchet, keys(MAX_SKIPPED_KEYS, 1), 0);
  assert.equal(over.size, MAX_SKIPPED_KEYS);
  assert.equal(over.find(ratchet, 0), null);
  assert.ok(over.find(ratchet, 1));
  assert.ok(over.find(ratchet, MAX_SKIPPED_KEYS));
});

Deno.test("SkippedKeys.expire() keeps a key SKIPPED_KEY_MAX_STEPS steps and drops it at N+1", () => {
  const store = SkippedKeys.empty.add(ratchet, keys(0, 1), 3);
  assert.ok(store.expire(3 + SKIPPED_KEY_MAX_STEPS).find(ratchet, 0));
  assert.equal(store.expire(3 + SKIPPED_KEY_MAX_STEPS + 1).size, 0);
});

Deno.test("SkippedKeys.find() matches ratchet key and index; remove() drops only that key", () => {
  const other = randomBytes(32);
  const store = SkippedKeys.empty.add(ratchet, keys(0, 2), 0).add(other, keys(0, 1), 0);
  assert.equal(store.find(ratchet, 1)?.index, 1);
  assert.equal(store.find(randomBytes(32), 1), null);
  const less = store.remove(ratchet, 0);
  assert.equal(less.size, 2);
  assert.equal(less.find(ratchet, 0), null);
  assert.ok(less.find(other, 0));
  assert.equal(store.size, 3, "the original store is unchanged");
});

Deno.test("SkippedKeys prints its size, never its keys", () => {
  const store = SkippedKeys.empty.add(ratchet, keys(0, 2), 0);
  assert.equal(Deno.inspect(store), "SkippedKeys { size: 2, keys: [redacted] }");
});
