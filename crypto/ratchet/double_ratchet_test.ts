import assert from "node:assert/strict";
import { fromUtf8, randomBytes, toHex, utf8 } from "../bytes.ts";
import { DecryptError, HandshakeError } from "../errors.ts";
import { X25519KeyPair } from "../subtle.ts";
import {
  type ActiveState,
  initInitiator,
  initResponder,
  MAX_PLAINTEXT_BYTES,
  MAX_SKIP,
  ratchetDecrypt,
  ratchetEncrypt,
  type RatchetState,
} from "./double_ratchet.ts";
import { HEADER_BYTES, HEADER_BYTES_V2, type RatchetVersion } from "./message.ts";
import { deserializeRatchet, serializeRatchet } from "./serialize.ts";
import { MAX_SKIPPED_KEYS, SKIPPED_KEY_MAX_STEPS } from "./skipped_keys.ts";

const decryptError = (code: string) => (e: unknown) => e instanceof DecryptError && e.code === code;

async function pair(
  version?: RatchetVersion,
): Promise<{ alice: ActiveState; bob: RatchetState; ad: Uint8Array }> {
  const sk = randomBytes(32), ad = randomBytes(130);
  const spk = await X25519KeyPair.generate();
  const alice = await initInitiator(sk, ad, spk.publicKey, { versionForVectorsOnly: version });
  return { alice, bob: initResponder(sk, ad, spk), ad };
}

/** Encrypts `n` messages "<tag> i" in a row; returns the messages and the sender's state. */
async function burst(state: RatchetState, tag: string, n: number) {
  const messages: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const r = await ratchetEncrypt(state, utf8(`${tag} ${i}`));
    messages.push(r.message);
    state = r.state;
  }
  return { state, messages };
}

async function read(state: RatchetState, message: Uint8Array, expected: string) {
  const r = await ratchetDecrypt(state, message);
  assert.equal(fromUtf8(r.plaintext), expected);
  return r.state;
}

Deno.test("ratchetEncrypt() and ratchetDecrypt() carry a long conversation both ways", async () => {
  const { alice, bob } = await pair();
  let a: RatchetState = alice, b: RatchetState = bob;
  let sent = 0;
  // Bursts of varying length, alternating senders: hundreds of messages, a DH step per turn.
  for (let turn = 0; turn < 24; turn++) {
    const n = 1 + (turn * 7) % 23;
    const fromAlice = turn % 2 === 0;
    const out = await burst(fromAlice ? a : b, `turn ${turn}`, n);
    let receiver: RatchetState = fromAlice ? b : a;
    for (let i = 0; i < n; i++) {
      receiver = await read(receiver, out.messages[i]!, `turn ${turn} ${i}`);
    }
    if (fromAlice) [a, b] = [out.state, receiver];
    else [b, a] = [out.state, receiver];
    sent += n;
  }
  assert.ok(sent >= 250, `sent ${sent}`);
  assert.equal(b.steps, 12);
  assert.equal(a.steps, 12);
  assert.equal(b.skipped.size + a.skipped.size, 0);
});

Deno.test("ratchetDecrypt() reads out-of-order and late messages and keeps dropped ones' keys", async () => {
  const { alice, bob } = await pair();
  const first = await burst(alice, "a", 10);
  const m = first.messages;
  let b: RatchetState = bob;
  for (const i of [3, 0, 1, 7, 2, 9]) b = await read(b, m[i]!, `a ${i}`);
  assert.equal(b.skipped.size, 4); // 4, 5, 6 and 8 were not delivered (yet)
  // Bob replies, Alice answers on a new chain, then an old message from her first chain arrives.
  const reply = await burst(b, "b", 1);
  const a2 = await read(first.state, reply.messages[0]!, "b 0");
  const second = await burst(a2, "c", 1);
  b = await read(reply.state, second.messages[0]!, "c 0");
  b = await read(b, m[5]!, "a 5");
  assert.equal(b.skipped.size, 3);
});

Deno.test("ratchetDecrypt() refuses a replayed message as duplicate", async () => {
  const { alice, bob } = await pair();
  const out = await burst(alice, "a", 3);
  let b = await read(bob, out.messages[0]!, "a 0");
  b = await read(b, out.messages[2]!, "a 2");
  await assert.rejects(ratchetDecrypt(b, out.messages[0]!), decryptError("duplicate"));
  await assert.rejects(ratchetDecrypt(b, out.messages[2]!), decryptError("duplicate"));
  b = await read(b, out.messages[1]!, "a 1"); // from the skipped store, used once
  await assert.rejects(ratchetDecrypt(b, out.messages[1]!), decryptError("duplicate"));
});

Deno.test("ratchetDecrypt() refuses a replay from a replaced chain", async () => {
  const { alice, bob } = await pair();
  const out = await burst(alice, "a", 1);
  const b = await read(bob, out.messages[0]!, "a 0");
  const reply = await burst(b, "b", 1);
  const a = await read(out.state, reply.messages[0]!, "b 0");
  const again = await burst(a, "a2", 1);
  const b2 = await read(reply.state, again.messages[0]!, "a2 0");
  await assert.rejects(
    ratchetDecrypt(b2, out.messages[0]!),
    (e) => e instanceof DecryptError && ["duplicate", "auth_failed"].includes(e.code),
  );
});

Deno.test("ratchetDecrypt() refuses a tampered header, body or AD and changes no state", async () => {
  const { alice, bob, ad } = await pair();
  const first = await burst(alice, "a", 2);
  let b = await read(bob, first.messages[0]!, "a 0");
  // Message 1 runs on Bob's current chain; a reply-and-answer gives a message on a new chain.
  const reply = await burst(b, "b", 1);
  const a = await read(first.state, reply.messages[0]!, "b 0");
  const newChain = (await burst(a, "c", 1)).messages[0]!;
  for (const [message, expected] of [[first.messages[1]!, "a 1"], [newChain, "c 0"]] as const) {
    const before = serializeRatchet(b);
    // Version 2's header: version, ratchet key, PN, N, then the nonce (bytes 41-52), all bound.
    const offsets = [0, 1, 33, 36, 37, 40, HEADER_BYTES, 52, HEADER_BYTES_V2, message.length - 1];
    for (const offset of offsets) {
      const tampered = message.slice();
      tampered[offset]! ^= 0x01;
      await assert.rejects(ratchetDecrypt(b, tampered), DecryptError, `byte ${offset}`);
      assert.deepEqual(serializeRatchet(b), before);
    }
    const otherAd = randomBytes(ad.length);
    await assert.rejects(
      ratchetDecrypt({ ...b, ad: otherAd }, message),
      decryptError("auth_failed"),
    );
    assert.deepEqual(serializeRatchet(b), before);
    if (expected === "a 1") b = await read(b, message, expected);
    else b = await read(reply.state, message, expected);
  }
});

Deno.test("ratchetDecrypt() refuses a low-order ratchet key as bad_format", async () => {
  const { alice, bob } = await pair();
  const m = (await burst(alice, "a", 1)).messages[0]!.slice();
  m.set(Uint8Array.of(1), 1); // u = 1: a point of small order
  m.fill(0, 2, 33);
  await assert.rejects(ratchetDecrypt(bob, m), decryptError("bad_format"));
});

Deno.test("ratchetDecrypt() accepts a gap of MAX_SKIP in a chain and refuses MAX_SKIP+1", async () => {
  const { alice, bob } = await pair();
  const out = await burst(alice, "a", MAX_SKIP + 4);
  const m = out.messages;
  // A new chain: its first message may be MAX_SKIP in, not MAX_SKIP+1.
  await assert.rejects(ratchetDecrypt(bob, m[MAX_SKIP + 1]!), decryptError("too_many_skipped"));
  const fresh = await read(bob, m[MAX_SKIP]!, `a ${MAX_SKIP}`);
  assert.equal(fresh.skipped.size, MAX_SKIP);
  // The current chain: after message 0, message MAX_SKIP+1 skips MAX_SKIP keys, +2 one more.
  const b = await read(bob, m[0]!, "a 0");
  await assert.rejects(ratchetDecrypt(b, m[MAX_SKIP + 2]!), decryptError("too_many_skipped"));
  const b2 = await read(b, m[MAX_SKIP + 1]!, `a ${MAX_SKIP + 1}`);

  // The skipped-key store is full at N = MAX_SKIPPED_KEYS: the oldest key still opens…
  assert.equal(MAX_SKIPPED_KEYS, MAX_SKIP);
  assert.equal(b2.skipped.size, MAX_SKIPPED_KEYS);
  await read(b2, m[1]!, "a 1");
  // …and one more skipped key (N+1) evicts it, while the next oldest still opens.
  const b3 = await read(b2, m[MAX_SKIP + 3]!, `a ${MAX_SKIP + 3}`);
  assert.equal(b3.skipped.size, MAX_SKIPPED_KEYS);
  await assert.rejects(ratchetDecrypt(b3, m[1]!), decryptError("duplicate"));
  await read(b3, m[2]!, "a 2");
});

Deno.test("ratchetDecrypt() bounds the previous chain's gap (PN) by MAX_SKIP too", async () => {
  const { alice, bob } = await pair();
  const out = await burst(alice, "a", MAX_SKIP + 2);
  const b = await read(bob, out.messages[0]!, "a 0");
  const reply = await burst(b, "b", 1);
  // Alice answers after sending MAX_SKIP+2 messages: PN = MAX_SKIP+2, Bob has read 1 of them.
  const a = await read(out.state, reply.messages[0]!, "b 0");
  const next = await burst(a, "c", 1);
  await assert.rejects(
    ratchetDecrypt(reply.state, next.messages[0]!),
    decryptError("too_many_skipped"),
  );
  // Had Bob read one more, the gap would be exactly MAX_SKIP.
  const b1 = await read(b, out.messages[1]!, "a 1");
  const reply1 = await burst(b1, "b", 1);
  const a1 = await read(out.state, reply1.messages[0]!, "b 0");
  const next1 = await burst(a1, "c", 1);
  const done = await read(reply1.state, next1.messages[0]!, "c 0");
  assert.equal(done.skipped.size, MAX_SKIP);
});

Deno.test("skipped keys live SKIPPED_KEY_MAX_STEPS DH steps and expire at N+1", async () => {
  const { alice, bob } = await pair();
  const first = await burst(alice, "a", 2);
  let b = await read(bob, first.messages[1]!, "a 1"); // message 0 skipped at step 1
  let a: RatchetState = first.state;
  const late = first.messages[0]!;
  assert.equal(b.steps, 1);
  for (let step = 2; step <= 1 + SKIPPED_KEY_MAX_STEPS + 1; step++) {
    const reply = await burst(b, "b", 1);
    a = await read(a, reply.messages[0]!, "b 0");
    const next = await burst(a, "a", 1);
    a = next.state;
    b = await read(reply.state, next.messages[0]!, "a 0");
    assert.equal(b.steps, step);
    if (step <= 1 + SKIPPED_KEY_MAX_STEPS) await read(b, late, "a 0");
    else await assert.rejects(ratchetDecrypt(b, late), DecryptError);
  }
});

Deno.test("ratchetEncrypt() takes MAX_PLAINTEXT_BYTES and refuses MAX_PLAINTEXT_BYTES+1", async () => {
  const { alice, bob } = await pair();
  const big = randomBytes(MAX_PLAINTEXT_BYTES);
  const r = await ratchetEncrypt(alice, big);
  assert.deepEqual((await ratchetDecrypt(bob, r.message)).plaintext, big);
  await assert.rejects(ratchetEncrypt(alice, new Uint8Array(MAX_PLAINTEXT_BYTES + 1)), RangeError);
});

Deno.test("ratchetEncrypt() refuses the responder before the first message arrives", async () => {
  const { bob } = await pair();
  await assert.rejects(
    ratchetEncrypt(bob, utf8("too early")),
    (e) => e instanceof HandshakeError && e.code === "wrong_turn",
  );
});

for (const version of [1, 2] as const) {
  Deno.test(`ratchetDecrypt() forgets a used key: forward secrecy within a chain (version ${version})`, async () => {
    const { alice, bob } = await pair(version);
    const out = await burst(alice, "a", 4);
    let b = await read(bob, out.messages[0]!, "a 0");
    b = await read(b, out.messages[1]!, "a 1");
    const active = b as ActiveState;
    assert.equal(active.version, version);
    // The keys that could open message 2: its key, and in version 1 the chain key derived with
    // it (version 2's head derives only keys after the batch, 2 among them already derived).
    const chain = active.receiving!.chain;
    assert.equal(chain.ahead[0]!.index, 2);
    const secrets = [chain.ahead[0]!.bytesUnsafe()];
    if (version === 1) secrets.push(chain.head.bytesUnsafe());
    const after = await read(b, out.messages[2]!, "a 2");
    await assert.rejects(ratchetDecrypt(after, out.messages[2]!), decryptError("duplicate"));
    const bytes = toHex(serializeRatchet(after));
    for (const s of secrets.map(toHex)) {
      assert.ok(!bytes.includes(s), "old key material left in the state");
    }
    // The state before still holds them (it is a value); the new state alone goes to storage.
    assert.ok(toHex(serializeRatchet(b)).includes(toHex(secrets[0]!)));
  });
}

Deno.test("ratchet states print no key material", async () => {
  const { alice } = await pair();
  const shown = Deno.inspect(alice, { depth: 10 }) + JSON.stringify(alice);
  assert.ok(!shown.includes(toHex(alice.rootKey.bytesUnsafe())));
  assert.ok(!shown.includes(toHex(alice.ratchetKey.privateBytesUnsafe())));
  assert.ok(!shown.includes(toHex(alice.sending!.head.bytesUnsafe())));
});

Deno.test("a session keeps its ratchet version and refuses messages of the other", async () => {
  const v1 = await pair(1);
  const v2 = await pair(2);
  assert.equal(v1.alice.version, 1);
  assert.equal(v2.alice.version, 2);
  const m1 = (await burst(v1.alice, "a", 1)).messages[0]!;
  const m2 = (await burst(v2.alice, "a", 1)).messages[0]!;
  assert.deepEqual([m1[0], m2[0]], [1, 2]);
  // An awaiting responder takes the first message's version.
  const b1 = await read(v1.bob, m1, "a 0") as ActiveState;
  const b2 = await read(v2.bob, m2, "a 0") as ActiveState;
  assert.deepEqual([b1.version, b2.version], [1, 2]);
  // An active one refuses the other version before any key work.
  await assert.rejects(ratchetDecrypt(b1, m2), decryptError("bad_format"));
  await assert.rejects(ratchetDecrypt(b2, m1), decryptError("bad_format"));
  // A message relabelled with the other version fails its tag, never opens.
  const relabelled = m2.slice();
  relabelled[0] = 1;
  await assert.rejects(ratchetDecrypt(v2.bob, relabelled), DecryptError);
});

Deno.test("version 2 defers a DH step's sending half: a first message draws no ratchet key", async () => {
  const { alice, bob } = await pair(2);
  let drawn = 0;
  const options = {
    ratchetKeysForVectorsOnly: () => {
      drawn++;
      return X25519KeyPair.generate();
    },
  };
  const first = await ratchetEncrypt(alice, utf8("hi"));
  const b = (await ratchetDecrypt(bob, first.message, options)).state;
  assert.equal(drawn, 0, "a responder that only reads makes no key");
  assert.equal(b.sending, null);
  // Restored from bytes, the pending half is taken at the send, with a key of its own.
  const restored = deserializeRatchet(serializeRatchet(b));
  const reply = await ratchetEncrypt(restored, utf8("hello"), options);
  assert.equal(drawn, 1);
  assert.notEqual(reply.state.sending, null);
  const a = (await ratchetDecrypt(first.state, reply.message)).state;
  // In a conversation the next step's half is started on receipt, and used by the reply.
  const again = await ratchetEncrypt(a, utf8("again"));
  const b2 = (await ratchetDecrypt(reply.state, again.message, options)).state;
  assert.equal(drawn, 2, "started beside the decryption");
  const answer = await ratchetEncrypt(b2, utf8("answer"), options);
  assert.equal(drawn, 2, "the reply used it");
  assert.equal(fromUtf8((await ratchetDecrypt(again.state, answer.message)).plaintext), "answer");
});
