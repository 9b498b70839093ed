import assert from "node:assert/strict";
import { ByteReader, ByteWriter } from "./codec.ts";

const fail = (m: string) => new RangeError(m);

Deno.test("ByteWriter.finish() and ByteReader read back every field in order", () => {
  const bytes = new ByteWriter().u8(7).u16(0x1234).u32(0xdeadbeef).u64(2 ** 40 + 5)
    .bytes(Uint8Array.of(1, 2)).blob(Uint8Array.of(9, 9, 9)).finish();
  const r = new ByteReader(bytes, fail);
  assert.equal(r.u8("a"), 7);
  assert.equal(r.u16("b"), 0x1234);
  assert.equal(r.u32("c"), 0xdeadbeef);
  assert.equal(r.u64("d"), 2 ** 40 + 5);
  assert.deepEqual(r.bytes(2, "e"), Uint8Array.of(1, 2));
  assert.deepEqual(r.blob(3, "f"), Uint8Array.of(9, 9, 9));
  r.end("all");
});

Deno.test("ByteReader throws the format's error on a short read, naming the field", () => {
  const r = new ByteReader(Uint8Array.of(1, 2, 3), fail);
  assert.throws(
    () => r.u32("counter"),
    (e: Error) => e instanceof RangeError && /counter/.test(e.message),
  );
});

Deno.test("ByteReader.blob() refuses a length over its maximum at N+1, reads it at N", () => {
  const bytes = new ByteWriter().blob(new Uint8Array(4)).finish();
  assert.equal(new ByteReader(bytes, fail).blob(4, "x").length, 4);
  assert.throws(() => new ByteReader(bytes, fail).blob(3, "x"), /at most 3/);
});

Deno.test("ByteReader.end() refuses trailing bytes", () => {
  const r = new ByteReader(Uint8Array.of(1, 2), fail);
  r.u8("a");
  assert.throws(() => r.end("thing"), /1 unexpected trailing/);
});

Deno.test("ByteReader.u64() refuses values beyond 2^53", () => {
  const r = new ByteReader(new Uint8Array(8).fill(0xff), fail);
  assert.throws(() => r.u64("big"), /beyond 2\^53/);
});

Deno.test("ByteWriter grows past its first buffer without losing what was written", () => {
  const big = new Uint8Array(1000).fill(7);
  const w = new ByteWriter().u8(1).u16(2).u32(3).u64(2 ** 40 + 5).bytes(big).blob(big);
  const r = new ByteReader(w.finish(), (m) => new Error(m));
  assert.equal(r.u8("a"), 1);
  assert.equal(r.u16("b"), 2);
  assert.equal(r.u32("c"), 3);
  assert.equal(r.u64("d"), 2 ** 40 + 5);
  assert.deepEqual(r.bytes(1000, "e"), big);
  assert.equal(r.u32("f"), 1000);
  assert.deepEqual(r.bytes(1000, "g"), big);
  assert.equal(r.remaining, 0);
});

Deno.test("ByteWriter with an exact capacity hands over its one buffer; a spare one is trimmed", () => {
  const exact = new ByteWriter(5).u8(1).u32(2).finish();
  assert.equal(exact.buffer.byteLength, 5);
  const spare = new ByteWriter(64).u8(1).finish();
  assert.equal(spare.length, 1);
  assert.equal(spare.buffer.byteLength, 1);
  assert.throws(() => new ByteWriter(0), RangeError);
});

Deno.test("ByteReader.view() reads without copying and still refuses a short read", () => {
  const input = Uint8Array.of(1, 2, 3, 4);
  const r = new ByteReader(input, fail);
  const v = r.view(3, "head");
  assert.equal(v.buffer, input.buffer);
  assert.deepEqual(v, Uint8Array.of(1, 2, 3));
  assert.throws(() => r.view(2, "tail"), /tail: expected 2 more bytes, got 1/);
});
