import assert from "node:assert/strict";
import {
  insertChunks,
  listPlaceholders,
  MAX_INSERT_ROWS,
  paddedLength,
  padList,
  rowPlaceholders,
} from "./statement_shapes.ts";

Deno.test("insertChunks() covers every row with at most 7 distinct chunk sizes", () => {
  assert.deepEqual(insertChunks(0), []);
  assert.deepEqual(insertChunks(1), [1]);
  assert.deepEqual(insertChunks(100), [64, 32, 4]);
  const sizes = new Set<number>();
  for (let n = 0; n <= 1000; n++) {
    const chunks = insertChunks(n);
    assert.equal(chunks.reduce((a, b) => a + b, 0), n);
    for (const c of chunks) sizes.add(c);
  }
  assert.equal(sizes.size, 7);
});

Deno.test("insertChunks() fills chunks of MAX_INSERT_ROWS and splits MAX_INSERT_ROWS + 1", () => {
  assert.deepEqual(insertChunks(MAX_INSERT_ROWS), [MAX_INSERT_ROWS]);
  assert.deepEqual(insertChunks(MAX_INSERT_ROWS + 1), [MAX_INSERT_ROWS, 1]);
});

Deno.test("padList() pads to a power of two by repeating the last value", () => {
  assert.deepEqual(padList([5]), [5]);
  assert.deepEqual(padList([1, 2, 3]), [1, 2, 3, 3]);
  assert.equal(paddedLength(256), 256);
  assert.equal(paddedLength(257), 512);
  assert.throws(() => padList([]), RangeError);
});

Deno.test("listPlaceholders() and rowPlaceholders() write the placeholders asked for", () => {
  assert.equal(listPlaceholders(3), "?,?,?");
  assert.equal(rowPlaceholders(2, 3), "(?,?,?),(?,?,?)");
});
