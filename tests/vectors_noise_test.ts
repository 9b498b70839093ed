/**
 * Replays the published Noise vectors (cacophony, snow, flynn) through crypto/noise byte for byte,
 * then checks what the vectors cannot: tampered and out-of-turn messages, and low-order keys.
 */

import assert from "node:assert/strict";
import { toHex } from "../crypto/bytes.ts";
import { HandshakeError } from "../crypto/errors.ts";
import { HandshakeState, NOISE_MAX_MESSAGE, NOISE_PATTERNS } from "../crypto/noise/mod.ts";
import type { NoisePattern } from "../crypto/noise/mod.ts";
import { X25519KeyPair } from "../crypto/subtle.ts";
import { loadNoiseVectors, loadWycheproof, type NoiseSource, type NoiseVector } from "./vectors.ts";

const EMPTY = new Uint8Array(0);
const SOURCES: NoiseSource[] = ["cacophony", "snow", "flynn"];
const ALL = SOURCES.flatMap((s) => loadNoiseVectors(s));
const REPLAYED = ALL.filter((v) => v.cipher === "AESGCM" && v.pattern !== null);

/** The two HandshakeStates a vector describes, with its fixed keys. */
async function statesFor(v: NoiseVector): Promise<[HandshakeState, HandshakeState]> {
  const pattern = v.pattern!;
  const respStatic = v.respStatic ? await X25519KeyPair.fromPrivate(v.respStatic) : undefined;
  const knowsResponder = NOISE_PATTERNS[pattern].responderPreMessage.includes("s");
  if (v.initRemoteStatic && respStatic) {
    assert.equal(toHex(v.initRemoteStatic), toHex(respStatic.publicKey), "init_remote_static");
  }
  const init = await HandshakeState.create({
    pattern,
    initiator: true,
    prologue: v.initPrologue,
    staticKey: v.initStatic ? await X25519KeyPair.fromPrivate(v.initStatic) : undefined,
    remoteStaticKey: knowsResponder ? (v.initRemoteStatic ?? respStatic!.publicKey) : undefined,
    ephemeralKey: await X25519KeyPair.fromPrivate(v.initEphemeral),
  });
  const resp = await HandshakeState.create({
    pattern,
    initiator: false,
    prologue: v.respPrologue,
    staticKey: respStatic,
    ephemeralKey: await X25519KeyPair.fromPrivate(v.respEphemeral),
  });
  return [init, resp];
}

async function replay(v: NoiseVector): Promise<void> {
  const [init, resp] = await statesFor(v);
  const handshakeLength = NOISE_PATTERNS[v.pattern!].messages.length;
  assert.ok(v.messages.length > handshakeLength, "the vector has transport messages");
  for (let i = 0; i < handshakeLength; i++) {
    const m = v.messages[i]!;
    const [writer, reader] = m.sender === "initiator" ? [init, resp] : [resp, init];
    assert.ok(writer.isMyTurn && !reader.isMyTurn, `message ${i}: ${m.sender}'s turn`);
    const sent = await writer.writeMessage(m.payload);
    assert.equal(toHex(sent), toHex(m.ciphertext), `handshake message ${i}`);
    assert.equal(toHex(await reader.readMessage(sent)), toHex(m.payload), `payload ${i}`);
  }
  assert.ok(init.isFinished && resp.isFinished);
  assert.equal(toHex(init.handshakeHash), toHex(resp.handshakeHash));
  if (v.handshakeHash) assert.equal(toHex(init.handshakeHash), toHex(v.handshakeHash));
  if (v.initStatic) {
    const initPublic = (await X25519KeyPair.fromPrivate(v.initStatic)).publicKey;
    assert.equal(toHex(resp.remoteStaticKey!), toHex(initPublic));
  }
  const a = await init.split();
  const b = await resp.split();
  for (let i = handshakeLength; i < v.messages.length; i++) {
    const m = v.messages[i]!;
    const [send, receive] = m.sender === "initiator" ? [a.send, b.receive] : [b.send, a.receive];
    const sent = await send.encryptWithAd(EMPTY, m.payload);
    assert.equal(toHex(sent), toHex(m.ciphertext), `transport message ${i} (${m.sender})`);
    assert.equal(toHex(await receive.decryptWithAd(EMPTY, sent)), toHex(m.payload));
  }
}

Deno.test("loadNoiseVectors() reads every vector of the three sources", () => {
  assert.equal(ALL.length, 24);
  // 3 per JSON source and 12 from flynn run AESGCM; the 6 ChaChaPoly vectors are not replayed.
  assert.equal(REPLAYED.length, 18);
  const count = (p: NoisePattern) => REPLAYED.filter((v) => v.pattern === p).length;
  assert.deepEqual([count("XX"), count("IK"), count("NK")], [6, 6, 6]);
  assert.equal(ALL.filter((v) => v.cipher === "ChaChaPoly").length, 6);
});

Deno.test("HandshakeState replays every Noise AESGCM vector byte for byte", async (t) => {
  for (const v of REPLAYED) {
    await t.step(`${v.source} #${v.index} ${v.protocolName}`, () => replay(v));
  }
});

// ---------------------------------------------------------------------------------------------
// What the vectors do not cover

const CACOPHONY = Object.fromEntries(
  REPLAYED.filter((v) => v.source === "cacophony").map((v) => [v.pattern!, v]),
) as Record<NoisePattern, NoiseVector>;

/** What a caller can observe of a HandshakeState, to show a failed call changed nothing. */
function observe(h: HandshakeState): unknown {
  return {
    finished: h.isFinished,
    myTurn: h.isMyTurn,
    hash: toHex(h.handshakeHash),
    rs: h.remoteStaticKey ? toHex(h.remoteStaticKey) : null,
    inspect: Deno.inspect(h),
  };
}

async function rejects(
  call: Promise<unknown>,
  code: HandshakeError["code"],
): Promise<void> {
  await assert.rejects(call, (e: unknown) => {
    assert.ok(e instanceof HandshakeError, `expected a HandshakeError, got ${e}`);
    assert.equal(e.code, code, e.message);
    return true;
  });
}

Deno.test("HandshakeState.readMessage() refuses a tampered message and keeps its state", async (t) => {
  for (const pattern of ["XX", "IK", "NK"] as const) {
    const v = CACOPHONY[pattern];
    const handshakeLength = NOISE_PATTERNS[pattern].messages.length;
    for (let target = 0; target < handshakeLength; target++) {
      // The first XX message carries no MAC yet (the spec's known property); the next test covers it.
      if (pattern === "XX" && target === 0) continue;
      await t.step(`${pattern} message ${target}`, async () => {
        const [init, resp] = await statesFor(v);
        for (let i = 0; i < handshakeLength; i++) {
          const m = v.messages[i]!;
          const [writer, reader] = m.sender === "initiator" ? [init, resp] : [resp, init];
          const sent = await writer.writeMessage(m.payload);
          if (i === target) {
            const before = observe(reader);
            for (const at of [0, 31, sent.length >> 1, sent.length - 1]) {
              const bad = sent.slice();
              bad[at]! ^= 0x01;
              await rejects(reader.readMessage(bad), "decrypt_failed");
              assert.deepEqual(observe(reader), before, `state after a flip at byte ${at}`);
            }
            await rejects(reader.readMessage(sent.subarray(0, sent.length - 1)), "decrypt_failed");
            await rejects(reader.readMessage(sent.subarray(0, 31)), "bad_message");
            await rejects(reader.readMessage(new Uint8Array(NOISE_MAX_MESSAGE + 1)), "bad_message");
            assert.deepEqual(observe(reader), before);
          }
          assert.equal(toHex(await reader.readMessage(sent)), toHex(m.payload));
        }
        assert.equal(toHex(init.handshakeHash), toHex(v.handshakeHash!));
      });
    }
  }
});

Deno.test("HandshakeState catches a tampered first XX message at the next message", async () => {
  const v = CACOPHONY.XX;
  const [init, resp] = await statesFor(v);
  const first = await init.writeMessage(v.messages[0]!.payload);
  first[first.length - 1]! ^= 0x01; // a payload byte: unauthenticated in XX message 0
  await resp.readMessage(first);
  const before = observe(init);
  await rejects(
    init.readMessage(await resp.writeMessage(v.messages[1]!.payload)),
    "decrypt_failed",
  );
  assert.deepEqual(observe(init), before);
});

// Every distinct public key for which Wycheproof expects an all-zero X25519 secret.
const LOW_ORDER = [
  ...new Set(
    loadWycheproof("x25519_test.json").cases
      .filter((c) => c.shared.every((b) => b === 0))
      .map((c) => toHex(c.public)),
  ),
].map((h) => Uint8Array.fromHex(h));

/** A key pair that announces `publicKey` but computes DHs with `real`, as a hostile peer could. */
function posingAs(real: X25519KeyPair, publicKey: Uint8Array): X25519KeyPair {
  return Object.create(real, {
    publicKey: { value: publicKey },
    dh: { value: (peer: Uint8Array) => real.dh(peer) },
  });
}

interface LowOrderCase {
  pattern: NoisePattern;
  /** The side whose key is replaced. */
  liar: "initiator" | "responder";
  key: "e" | "s";
}

const LOW_ORDER_CASES: LowOrderCase[] = [
  { pattern: "XX", liar: "initiator", key: "e" },
  { pattern: "XX", liar: "responder", key: "e" },
  { pattern: "XX", liar: "responder", key: "s" },
  { pattern: "XX", liar: "initiator", key: "s" },
  { pattern: "IK", liar: "initiator", key: "e" },
  { pattern: "IK", liar: "initiator", key: "s" },
  { pattern: "IK", liar: "responder", key: "e" },
  { pattern: "NK", liar: "initiator", key: "e" },
  { pattern: "NK", liar: "responder", key: "e" },
];

/** Runs a handshake where one side sends `point` as its e or s; returns the honest side's error. */
async function lowOrderHandshake(c: LowOrderCase, point: Uint8Array): Promise<void> {
  const prologue = new Uint8Array([1]);
  const keys = {
    initiator: { e: await X25519KeyPair.generate(), s: await X25519KeyPair.generate() },
    responder: { e: await X25519KeyPair.generate(), s: await X25519KeyPair.generate() },
  };
  keys[c.liar][c.key] = posingAs(keys[c.liar][c.key], point);
  const pattern = NOISE_PATTERNS[c.pattern];
  const init = await HandshakeState.create({
    pattern: c.pattern,
    initiator: true,
    prologue,
    staticKey: c.pattern === "NK" ? undefined : keys.initiator.s,
    remoteStaticKey: c.pattern === "XX" ? undefined : keys.responder.s.publicKey,
    ephemeralKey: keys.initiator.e,
  });
  const resp = await HandshakeState.create({
    pattern: c.pattern,
    initiator: false,
    prologue,
    staticKey: keys.responder.s,
    ephemeralKey: keys.responder.e,
  });
  const honest = c.liar === "initiator" ? resp : init;
  for (let i = 0; i < pattern.messages.length; i++) {
    const [writer, reader] = i % 2 === 0 ? [init, resp] : [resp, init];
    const sent = await writer.writeMessage(EMPTY);
    if (reader === honest && pattern.messages[i]!.includes(c.key)) {
      const before = observe(reader);
      await rejects(reader.readMessage(sent), "bad_public_key");
      assert.deepEqual(observe(reader), before);
      return;
    }
    await reader.readMessage(sent);
  }
  assert.fail("the low-order key was never sent");
}

Deno.test("HandshakeState refuses every low-order key sent as e or s, in every pattern", async (t) => {
  assert.equal(LOW_ORDER.length, 14);
  assert.ok(LOW_ORDER.some((p) => p.every((b) => b === 0)), "the all-zero key is among them");
  for (const c of LOW_ORDER_CASES) {
    await t.step(`${c.pattern}: ${c.liar} sends a low-order ${c.key}`, async () => {
      for (const point of LOW_ORDER) await lowOrderHandshake(c, point);
    });
  }
  await t.step("IK and NK: a low-order responder s known in advance", async () => {
    for (const pattern of ["IK", "NK"] as const) {
      for (const point of LOW_ORDER) {
        await rejects(
          HandshakeState.create({
            pattern,
            initiator: true,
            prologue: EMPTY,
            staticKey: pattern === "IK" ? await X25519KeyPair.generate() : undefined,
            remoteStaticKey: point,
          }),
          "bad_public_key",
        );
      }
    }
  });
});

Deno.test("HandshakeState refuses calls out of turn and after the end", async () => {
  const v = CACOPHONY.XX;
  const [init, resp] = await statesFor(v);
  const initBefore = observe(init);
  await rejects(init.readMessage(v.messages[0]!.ciphertext), "wrong_turn");
  await rejects(resp.writeMessage(EMPTY), "wrong_turn");
  assert.deepEqual(observe(init), initBefore);
  await rejects(init.split(), "wrong_turn");

  // A second call while the first is still running would start from the same state.
  const pending = init.writeMessage(v.messages[0]!.payload);
  await rejects(init.writeMessage(v.messages[0]!.payload), "wrong_turn");
  const first = await pending;
  assert.equal(toHex(first), toHex(v.messages[0]!.ciphertext));

  await resp.readMessage(first);
  await rejects(resp.readMessage(first), "wrong_turn");
  await init.readMessage(await resp.writeMessage(v.messages[1]!.payload));
  await resp.readMessage(await init.writeMessage(v.messages[2]!.payload));
  await rejects(init.writeMessage(EMPTY), "finished");
  await rejects(resp.readMessage(v.messages[2]!.ciphertext), "finished");
  await init.split();
  await rejects(init.split(), "finished");
  assert.equal(toHex(init.handshakeHash), toHex(v.handshakeHash!));
});
