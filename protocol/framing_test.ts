import assert from "node:assert/strict";
import {
  type ByteStream,
  frame,
  FrameReader,
  parsePreamble,
  preamble,
  PROTOCOL_VERSION,
} from "./framing.ts";
import { MAX_FRAME_BYTES } from "./limits.ts";
import { ProtocolError } from "./errors.ts";

/** A stream that hands out `data` in pieces of `chunk` bytes. */
function chunked(data: Uint8Array, chunk: number): ByteStream {
  let off = 0;
  return {
    read(p) {
      if (off >= data.length) return Promise.resolve(null);
      const n = Math.min(chunk, p.length, data.length - off);
      p.set(data.subarray(off, off + n));
      off += n;
      return Promise.resolve(n);
    },
    write: (p) => Promise.resolve(p.length),
    close() {},
  };
}

Deno.test("parsePreamble() reads the version and refuses foreign bytes", () => {
  assert.equal(parsePreamble(preamble()), PROTOCOL_VERSION);
  assert.equal(parsePreamble(preamble(7)), 7);
  assert.throws(() => parsePreamble(new TextEncoder().encode("GET / HTTP")), {
    code: "bad_preamble",
  });
  assert.throws(() => parsePreamble(new Uint8Array(3)), { code: "bad_preamble" });
});

Deno.test("FrameReader.next() reassembles frames delivered one byte at a time", async () => {
  const a = new Uint8Array(300).fill(1);
  const b = new Uint8Array(MAX_FRAME_BYTES).fill(2);
  const r = new FrameReader(chunked(new Uint8Array([...frame(a), ...frame(b)]), 1));
  assert.deepEqual((await r.next())?.slice(), a);
  assert.deepEqual((await r.next())?.slice(), b);
  assert.equal(await r.next(), null);
});

Deno.test("frame() accepts MAX_FRAME_BYTES and refuses N+1", () => {
  assert.equal(frame(new Uint8Array(MAX_FRAME_BYTES)).length, MAX_FRAME_BYTES + 2);
  assert.throws(() => frame(new Uint8Array(MAX_FRAME_BYTES + 1)), { code: "frame_too_large" });
});

Deno.test("FrameReader.next() reports a frame truncated by the peer", async () => {
  const f = frame(new Uint8Array(100));
  const r = new FrameReader(chunked(f.subarray(0, 50), 7));
  await assert.rejects(() => r.next(), (e) => e instanceof ProtocolError && e.code === "closed");
  const r2 = new FrameReader(chunked(new Uint8Array([0]), 1));
  await assert.rejects(() => r2.next(), (e) => e instanceof ProtocolError && e.code === "closed");
});

Deno.test("FrameReader.next() refuses an empty frame", async () => {
  const r = new FrameReader(chunked(new Uint8Array([0, 0]), 2));
  await assert.rejects(
    () => r.next(),
    (e) => e instanceof ProtocolError && e.code === "bad_message",
  );
});

Deno.test("FrameReader.readExact() returns exactly n bytes and then frames", async () => {
  const data = new Uint8Array([...preamble(), ...frame(new Uint8Array([9, 9]))]);
  const r = new FrameReader(chunked(data, 3));
  assert.equal(parsePreamble(await r.readExact(preamble().length)), PROTOCOL_VERSION);
  assert.deepEqual((await r.next())?.slice(), new Uint8Array([9, 9]));
});

Deno.test("FrameReader.take() hands out only whole frames, each after the reads it needs", async () => {
  const a = new Uint8Array(1000).fill(3);
  const b = new Uint8Array([4]);
  const r = new FrameReader(chunked(new Uint8Array([...frame(a), ...frame(b)]), 400));
  const got: Uint8Array[] = [];
  let reads = 0;
  for (;;) {
    const f = r.take();
    if (f !== undefined) {
      got.push(f.slice());
      continue;
    }
    if (!(await r.read())) break;
    reads++;
  }
  assert.deepEqual(got, [a, b]);
  // 1,005 bytes in pieces of at most 400: three reads, none wasted on a frame already whole.
  assert.equal(reads, 3);
  assert.equal(r.ended(), null);
  const cut = new FrameReader(chunked(frame(a).subarray(0, 600), 400));
  while (await cut.read()) assert.equal(cut.take(), undefined);
  assert.equal(cut.ended()?.message, "connection closed after 598 of 1000 frame bytes");
});
