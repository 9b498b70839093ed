import assert from "node:assert/strict";
import { randomBytes } from "../bytes.ts";
import { DecryptError } from "../errors.ts";
import { decodeMessage, encodeHeader, HEADER_BYTES } from "./message.ts";

const badFormat = (e: unknown) => e instanceof DecryptError && e.code === "bad_format";

Deno.test("decodeMessage() reads back encodeHeader()'s fields and the ciphertext", () => {
  const ratchetKey = randomBytes(32);
  const header = encodeHeader({ ratchetKey, previousCounter: 7, counter: 0xffff_ffff });
  assert.equal(header.length, HEADER_BYTES);
  const body = randomBytes(20);
  const m = decodeMessage(Uint8Array.of(...header, ...body), 100);
  assert.deepEqual(m.header, { ratchetKey, previousCounter: 7, counter: 0xffff_ffff });
  assert.deepEqual(m.headerBytes, header);
  assert.deepEqual(m.ciphertext, body);
});

Deno.test("decodeMessage() refuses a short message, another version or a body over the limit", () => {
  const header = encodeHeader({ ratchetKey: randomBytes(32), previousCounter: 0, counter: 0 });
  assert.throws(() => decodeMessage(header.subarray(0, 40), 100), badFormat);
  assert.throws(
    () => decodeMessage(Uint8Array.of(...header, ...new Uint8Array(15)), 100),
    badFormat,
  );
  const v2 = Uint8Array.of(...header, ...new Uint8Array(16));
  v2[0] = 2;
  assert.throws(() => decodeMessage(v2, 100), badFormat);
  const body = Uint8Array.of(...header, ...new Uint8Array(101));
  assert.throws(() => decodeMessage(body, 100), badFormat);
  assert.equal(decodeMessage(body, 101).ciphertext.length, 101);
});
