import assert from "node:assert/strict";
import { toHex } from "../bytes.ts";
import { HandshakeError } from "../errors.ts";
import { X25519KeyPair } from "../subtle.ts";
import { NOISE_MAX_MESSAGE } from "./cipher_state.ts";
import { HandshakeState } from "./handshake_state.ts";

const prologue = new TextEncoder().encode("pesuchat test");
const EMPTY = new Uint8Array(0);

async function xxPair(): Promise<
  { init: HandshakeState; resp: HandshakeState; si: X25519KeyPair; sr: X25519KeyPair }
> {
  const si = await X25519KeyPair.generate();
  const sr = await X25519KeyPair.generate();
  const init = await HandshakeState.create({ initiator: true, prologue, staticKey: si });
  const resp = await HandshakeState.create({ initiator: false, prologue, staticKey: sr });
  return { init, resp, si, sr };
}

Deno.test("HandshakeState runs XX by default and learns both static keys", async () => {
  const { init, resp, si, sr } = await xxPair();
  assert.equal(init.isMyTurn, true);
  assert.equal(resp.isMyTurn, false);
  assert.equal(init.remoteStaticKey, null);
  assert.deepEqual(
    await resp.readMessage(await init.writeMessage(new Uint8Array([1]))),
    new Uint8Array([1]),
  );
  assert.deepEqual(
    await init.readMessage(await resp.writeMessage(new Uint8Array([2]))),
    new Uint8Array([2]),
  );
  assert.equal(toHex(init.remoteStaticKey!), toHex(sr.publicKey));
  assert.equal(init.isFinished, false);
  assert.deepEqual(
    await resp.readMessage(await init.writeMessage(new Uint8Array([3]))),
    new Uint8Array([3]),
  );
  assert.equal(toHex(resp.remoteStaticKey!), toHex(si.publicKey));
  assert.ok(init.isFinished && resp.isFinished && !init.isMyTurn && !resp.isMyTurn);
  assert.equal(toHex(init.handshakeHash), toHex(resp.handshakeHash));

  const a = await init.split();
  const b = await resp.split();
  const ping = await a.send.encryptWithAd(EMPTY, new Uint8Array([4]));
  assert.deepEqual(await b.receive.decryptWithAd(EMPTY, ping), new Uint8Array([4]));
  const pong = await b.send.encryptWithAd(EMPTY, new Uint8Array([5]));
  assert.deepEqual(await a.receive.decryptWithAd(EMPTY, pong), new Uint8Array([5]));
  // Each direction has its own key: a message cannot be reflected back to its sender.
  await assert.rejects(a.receive.decryptWithAd(EMPTY, ping));
  assert.equal(toHex(init.handshakeHash), toHex(resp.handshakeHash), "h survives split()");
});

Deno.test("HandshakeState refuses a different prologue on the first authenticated message", async () => {
  const s = await X25519KeyPair.generate();
  const init = await HandshakeState.create({
    initiator: true,
    prologue,
    staticKey: await X25519KeyPair.generate(),
  });
  const resp = await HandshakeState.create({
    initiator: false,
    prologue: new Uint8Array([9]),
    staticKey: s,
  });
  await resp.readMessage(await init.writeMessage(EMPTY));
  await assert.rejects(
    init.readMessage(await resp.writeMessage(EMPTY)),
    (e: unknown) => e instanceof HandshakeError && e.code === "decrypt_failed",
  );
});

Deno.test("HandshakeState limits a handshake message to 65,535 bytes", async () => {
  // XX message 0 is e (32 bytes) and the payload in the clear.
  const largest = NOISE_MAX_MESSAGE - 32;
  const { init, resp } = await xxPair();
  await assert.rejects(init.writeMessage(new Uint8Array(largest + 1)), /at most 65535/);
  assert.equal(init.isMyTurn, true, "a refused write changes nothing");
  const message = await init.writeMessage(new Uint8Array(largest));
  assert.equal(message.length, NOISE_MAX_MESSAGE);
  const grown = new Uint8Array(NOISE_MAX_MESSAGE + 1);
  grown.set(message);
  await assert.rejects(
    resp.readMessage(grown),
    (e: unknown) => e instanceof HandshakeError && e.code === "bad_message",
  );
  assert.equal((await resp.readMessage(message)).length, largest);
});

Deno.test("HandshakeState.create() says which key a pattern needs or refuses", async () => {
  const s = await X25519KeyPair.generate();
  await assert.rejects(
    HandshakeState.create({ initiator: true, prologue }),
    /staticKey: the XX initiator needs/,
  );
  await assert.rejects(
    HandshakeState.create({ pattern: "IK", initiator: true, prologue, staticKey: s }),
    /remoteStaticKey: the IK initiator needs/,
  );
  await assert.rejects(
    HandshakeState.create({
      pattern: "NK",
      initiator: true,
      prologue,
      staticKey: s,
      remoteStaticKey: s.publicKey,
    }),
    /staticKey: the NK initiator takes no/,
  );
  await assert.rejects(
    HandshakeState.create({
      initiator: false,
      prologue,
      staticKey: s,
      remoteStaticKey: s.publicKey,
    }),
    /remoteStaticKey: the XX responder must not/,
  );
  await assert.rejects(
    HandshakeState.create({
      pattern: "NK",
      initiator: true,
      prologue,
      remoteStaticKey: new Uint8Array(31),
    }),
    /remoteStaticKey: expected 32 bytes, got 31/,
  );
  await assert.rejects(
    HandshakeState.create({ pattern: "KK" as "XX", initiator: true, prologue, staticKey: s }),
    /pattern: expected one of XX, IK, NK, got KK/,
  );
  await assert.rejects(
    HandshakeState.create({
      initiator: true,
      prologue: "x" as unknown as Uint8Array,
      staticKey: s,
    }),
    /prologue: expected Uint8Array, got string/,
  );
});

Deno.test("HandshakeState hands out copies of the keys it reports", async () => {
  const { init, resp, sr } = await xxPair();
  await resp.readMessage(await init.writeMessage(EMPTY));
  await init.readMessage(await resp.writeMessage(EMPTY));
  init.remoteStaticKey!.fill(0);
  init.handshakeHash.fill(0);
  assert.equal(toHex(init.remoteStaticKey!), toHex(sr.publicKey));
  assert.notEqual(toHex(init.handshakeHash), "00".repeat(32));
});

Deno.test("HandshakeState and TransportState print and serialise without keys", async () => {
  const { init, resp, si } = await xxPair();
  const secret = toHex(si.privateBytesUnsafe());
  await resp.readMessage(await init.writeMessage(EMPTY));
  await init.readMessage(await resp.writeMessage(EMPTY));
  await resp.readMessage(await init.writeMessage(EMPTY));
  assert.equal(
    Deno.inspect(init),
    "HandshakeState { pattern: XX, role: initiator, phase: finished, keys: [redacted] }",
  );
  const t = await init.split();
  for (
    const shown of [Deno.inspect(init), JSON.stringify(init), Deno.inspect(t), JSON.stringify(t)]
  ) {
    assert.match(shown, /\[redacted\]/);
    assert.ok(!shown.includes(secret));
    assert.ok(!shown.includes(toHex(init.handshakeHash)));
  }
  assert.equal(
    Deno.inspect(t),
    "TransportState { send: nonce 0, receive: nonce 0, keys: [redacted] }",
  );
});
