import assert from "node:assert/strict";
import {
  decodeAck,
  decodeDeliver,
  decodeSend,
  decodeSendOk,
  encodeAck,
  encodeDeliver,
  encodeSend,
  encodeSendOk,
  Tag,
} from "./binary.ts";
import { decodeClientMessage, decodeServerMessage, RequestError } from "./codec.ts";
import { ProtocolError } from "./errors.ts";
import { MAX_ACKS_PER_MESSAGE, MAX_BODY_BYTES } from "./limits.ts";

const mid = new Uint8Array(16).fill(7);

Deno.test("encodeSend() and decodeSend() round-trip, and the codec reads it as a send request", () => {
  const body = crypto.getRandomValues(new Uint8Array(200));
  const r = encodeSend({ id: 42, to: "bob", mid, body });
  assert.equal(r[0], Tag.send);
  assert.deepEqual(decodeSend(r, () => {}), { id: 42, to: "bob", mid, body });
  assert.deepEqual(decodeClientMessage(r), {
    kind: "request",
    type: "send",
    id: 42,
    body: { to: "bob", mid, body },
  });
});

Deno.test("decodeSend() bounds the body at MAX_BODY_BYTES and N+1, and keeps the id for the reply", () => {
  const ok = encodeSend({ id: 1, to: "bob", mid, body: new Uint8Array(MAX_BODY_BYTES) });
  assert.equal(decodeSend(ok, () => {}).body.length, MAX_BODY_BYTES);
  const big = new Uint8Array(ok.length + 1);
  big.set(ok);
  try {
    decodeClientMessage(big);
    assert.fail("expected a RequestError");
  } catch (e) {
    assert.ok(e instanceof RequestError);
    assert.equal(e.code, "bad_message");
    assert.equal(e.requestId, 1);
    assert.match(e.message, /send\.body/);
  }
});

Deno.test("decodeSend() refuses truncated records, empty bodies and names that are not UTF-8", () => {
  const r = encodeSend({ id: 9, to: "bob", mid, body: new Uint8Array([1]) });
  for (const cut of [1, 5, 6, 9, r.length - 1]) {
    assert.throws(
      () => decodeSend(r.subarray(0, cut), () => {}),
      (e) => e instanceof ProtocolError && e.code === "bad_message",
    );
  }
  const badName = r.slice();
  badName[6] = 0xff;
  assert.throws(() => decodeSend(badName, () => {}), /not UTF-8/);
  const noName = r.slice();
  noName[5] = 0;
  assert.throws(() => decodeSend(noName, () => {}), /send\.to/);
});

Deno.test("encodeAck() and decodeAck() round-trip large qids and bound the count at N and N+1", () => {
  const qids = [1, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER];
  assert.deepEqual(decodeAck(encodeAck(qids)), qids);
  const max = Array.from({ length: MAX_ACKS_PER_MESSAGE }, (_, i) => i);
  assert.equal(decodeAck(encodeAck(max)).length, MAX_ACKS_PER_MESSAGE);
  assert.throws(() => encodeAck([...max, 1]), RangeError);
  const forged = new Uint8Array(3 + 8 * (MAX_ACKS_PER_MESSAGE + 1));
  forged[0] = Tag.ack;
  new DataView(forged.buffer).setUint16(1, MAX_ACKS_PER_MESSAGE + 1);
  assert.throws(() => decodeAck(forged), /at most/);
  assert.throws(() => decodeAck(encodeAck(qids).subarray(0, 10)), /expected 27 bytes/);
  const huge = encodeAck([1]);
  huge[3] = 0xff; // a qid beyond 2^53
  assert.throws(() => decodeAck(huge), /2\^53/);
});

Deno.test("encodeSendOk() and encodeDeliver() round-trip through decodeServerMessage()", () => {
  assert.deepEqual(decodeSendOk(encodeSendOk(7, 123456789012, 1_700_000_000_000)), {
    re: 7,
    qid: 123456789012,
    ts: 1_700_000_000_000,
  });
  assert.deepEqual(decodeServerMessage(encodeSendOk(7, 1, 2)), {
    kind: "ok",
    re: 7,
    raw: { qid: 1, ts: 2 },
  });
  const d = { qid: 99, from: "alice", mid, ts: 5, body: new Uint8Array([1, 2, 3]) };
  assert.deepEqual(decodeDeliver(encodeDeliver(d)), d);
  assert.deepEqual(decodeServerMessage(encodeDeliver(d)), { kind: "deliver", deliver: d });
  assert.throws(() => decodeDeliver(encodeDeliver(d).subarray(0, 20)), /deliver/);
  assert.throws(() => decodeSendOk(encodeSendOk(1, 1, 1).subarray(0, 20)), /21 bytes/);
});
