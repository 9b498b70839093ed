import assert from "node:assert/strict";
import {
  decodeClientMessage,
  decodeServerMessage,
  encodeDeliver,
  encodeError,
  encodeOk,
  encodeRequest,
  parseResult,
  RequestError,
} from "./codec.ts";
import { ProtocolError } from "./errors.ts";
import { MAX_ACKS_PER_MESSAGE, MAX_BODY_BYTES } from "./limits.ts";
import { MESSAGE_ID_BYTES } from "./messages.ts";

const te = new TextEncoder();

Deno.test("encodeRequest() and decodeClientMessage() round-trip bytes through base64", () => {
  const mid = crypto.getRandomValues(new Uint8Array(MESSAGE_ID_BYTES));
  const body = crypto.getRandomValues(new Uint8Array(200));
  const m = decodeClientMessage(encodeRequest("send", 7, { to: "bob", mid, body }));
  assert.equal(m.kind, "request");
  if (m.kind !== "request") return;
  assert.equal(m.type, "send");
  assert.equal(m.id, 7);
  assert.deepEqual(m.body, { to: "bob", mid, body });
});

Deno.test("decodeClientMessage() refuses what is not JSON, has no type, or an unknown type", () => {
  assert.throws(() => decodeClientMessage(te.encode("\x00\x01garbage")), { code: "bad_message" });
  assert.throws(() => decodeClientMessage(te.encode("[1,2]")), { code: "bad_message" });
  assert.throws(() => decodeClientMessage(te.encode('{"id":1}')), { code: "bad_message" });
  try {
    decodeClientMessage(te.encode('{"t":"nope","id":5}'));
    assert.fail("expected a RequestError");
  } catch (err) {
    assert.ok(err instanceof RequestError);
    assert.equal(err.code, "unknown_type");
    assert.equal(err.requestId, 5);
  }
});

Deno.test("decodeClientMessage() names the field that fails its schema and keeps the request id", () => {
  const bad = te.encode(JSON.stringify({ t: "send", id: 9, to: "bob", mid: "AAAA", body: "AAAA" }));
  try {
    decodeClientMessage(bad);
    assert.fail("expected a RequestError");
  } catch (err) {
    assert.ok(err instanceof RequestError);
    assert.equal(err.requestId, 9);
    assert.equal(err.code, "bad_message");
    assert.match(err.message, /send\.mid: expected 16-16 bytes, got 3/);
  }
});

Deno.test("send body is bounded at MAX_BODY_BYTES and refused at N+1", () => {
  const mid = new Uint8Array(MESSAGE_ID_BYTES);
  const ok = decodeClientMessage(
    encodeRequest("send", 1, { to: "bob", mid, body: new Uint8Array(MAX_BODY_BYTES) }),
  );
  assert.equal(ok.kind, "request");
  assert.throws(
    () =>
      decodeClientMessage(
        encodeRequest("send", 1, { to: "bob", mid, body: new Uint8Array(MAX_BODY_BYTES + 1) }),
      ),
    (e) => e instanceof ProtocolError && e.code === "bad_message",
  );
});

Deno.test("ack is bounded at MAX_ACKS_PER_MESSAGE and refused at N+1", () => {
  const qids = Array.from({ length: MAX_ACKS_PER_MESSAGE }, (_, i) => i);
  const m = decodeClientMessage(te.encode(JSON.stringify({ t: "ack", qids })));
  assert.equal(m.kind, "ack");
  assert.throws(
    () => decodeClientMessage(te.encode(JSON.stringify({ t: "ack", qids: [...qids, 1] }))),
    {
      code: "bad_message",
    },
  );
});

Deno.test("decodeServerMessage() reads ok, error, deliver and bye", () => {
  const ok = decodeServerMessage(encodeOk(3, { qid: 10, ts: 20 }));
  assert.equal(ok.kind, "ok");
  if (ok.kind === "ok") assert.deepEqual(parseResult("send", ok.raw), { qid: 10, ts: 20 });
  assert.deepEqual(decodeServerMessage(encodeError(4, "no_such_user", "no user bob")), {
    kind: "error",
    re: 4,
    code: "no_such_user",
    message: "no user bob",
  });
  const d = {
    qid: 1,
    from: "alice",
    mid: new Uint8Array(16).fill(1),
    ts: 5,
    body: new Uint8Array([1, 2, 3]),
  };
  assert.deepEqual(decodeServerMessage(encodeDeliver(d)), { kind: "deliver", deliver: d });
  assert.throws(() => parseResult("send", { qid: "x" }), { code: "bad_message" });
});
