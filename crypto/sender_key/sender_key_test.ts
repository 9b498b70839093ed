import assert from "node:assert/strict";
import { ByteWriter } from "../codec.ts";
import { DecryptError } from "../errors.ts";
import { utf8 } from "../bytes.ts";
import { chainStep } from "./chain.ts";
import {
  MAX_SENDER_KEY_SKIP,
  MAX_SENDER_KEY_STATES,
  MAX_SKIPPED_SENDER_KEYS,
  SenderKeyRecord,
  SenderKeyState,
} from "./mod.ts";
import { decodeDistribution, SENDER_KEY_VERSION } from "./format.ts";

const AD = utf8("room 1 / alice");
const text = (b: Uint8Array) => new TextDecoder().decode(b);

async function send(s: SenderKeyState, words: string[]) {
  const out: Uint8Array[] = [];
  for (const w of words) {
    const r = await s.encrypt(utf8(w), AD);
    out.push(r.message);
    s = r.next;
  }
  return { messages: out, state: s };
}

async function rejectsCode(p: Promise<unknown>, code: string) {
  await assert.rejects(p, (e: unknown) => e instanceof DecryptError && e.code === code);
}

/** Alice's state moved `n` iterations on without sending (to reach far iterations cheaply). */
async function advanced(s: SenderKeyState, n: number): Promise<SenderKeyState> {
  const d = decodeDistribution(s.distribution());
  let ck: Uint8Array = d.chainKey;
  for (let i = 0; i < n; i++) ck = (await chainStep(ck)).next;
  const seed = (await SenderKeyState.deserialize(s.serializeUnsafe())).serializeUnsafe().slice(-32);
  return SenderKeyState.deserialize(
    new ByteWriter().u8(SENDER_KEY_VERSION).bytes(s.distributionId).u32(s.chainId)
      .u32(s.iteration + n).bytes(ck).bytes(seed).finish(),
  );
}

Deno.test("SenderKeyState.encrypt() makes one message that every member holding the key reads", async () => {
  const alice = await SenderKeyState.create();
  const bob = SenderKeyRecord.empty.withDistribution(alice.distribution());
  const carol = SenderKeyRecord.empty.withDistribution(alice.distribution());
  const { message } = await alice.encrypt(utf8("hello room"), AD);
  assert.equal(text((await bob.decrypt(message, AD)).plaintext), "hello room");
  assert.equal(text((await carol.decrypt(message, AD)).plaintext), "hello room");
});

Deno.test("SenderKeyRecord.decrypt() reads messages out of order and refuses a replay, unchanged", async () => {
  const alice = await SenderKeyState.create();
  let bob = SenderKeyRecord.empty.withDistribution(alice.distribution());
  const { messages } = await send(alice, ["m0", "m1", "m2", "m3", "m4"]);
  for (const i of [4, 0, 2, 1, 3]) {
    const r = await bob.decrypt(messages[i]!, AD);
    assert.equal(text(r.plaintext), `m${i}`);
    bob = r.next;
  }
  const held = bob.serializeUnsafe();
  for (const m of messages) await rejectsCode(bob.decrypt(m, AD), "duplicate");
  assert.deepEqual(bob.serializeUnsafe(), held);
});

Deno.test("SenderKeyRecord.decrypt() refuses a forged, tampered or re-bound message and stays as it was", async () => {
  const alice = await SenderKeyState.create();
  const bob = SenderKeyRecord.empty.withDistribution(alice.distribution());
  const { message } = await alice.encrypt(utf8("real"), AD);
  // Bob holds Alice's chain key, so he can encrypt on it, but he cannot sign as her.
  const d = decodeDistribution(alice.distribution());
  const forger = await SenderKeyState.deserialize(
    new ByteWriter().u8(SENDER_KEY_VERSION).bytes(d.distributionId).u32(d.chainId).u32(0)
      .bytes(d.chainKey).bytes(crypto.getRandomValues(new Uint8Array(32))).finish(),
  );
  const forged = (await forger.encrypt(utf8("fake"), AD)).message;
  await rejectsCode(bob.decrypt(forged, AD), "auth_failed");
  const tampered = message.slice();
  tampered[45] = tampered[45]! ^ 1;
  await rejectsCode(bob.decrypt(tampered, AD), "auth_failed");
  await rejectsCode(bob.decrypt(message, utf8("room 2 / alice")), "auth_failed");
  await rejectsCode(bob.decrypt(message.slice(0, 30), AD), "bad_format");
  // None of that moved the chain: the real message still reads.
  assert.equal(text((await bob.decrypt(message, AD)).plaintext), "real");
});

Deno.test(`SenderKeyRecord.decrypt() reads a message MAX_SENDER_KEY_SKIP (${MAX_SENDER_KEY_SKIP}) ahead, not one more`, async () => {
  const alice = await SenderKeyState.create();
  const bob = SenderKeyRecord.empty.withDistribution(alice.distribution());
  const atMax = await advanced(alice, MAX_SENDER_KEY_SKIP);
  const ok = await atMax.encrypt(utf8("far"), AD);
  assert.equal(text((await bob.decrypt(ok.message, AD)).plaintext), "far");
  const beyond = await advanced(alice, MAX_SENDER_KEY_SKIP + 1);
  await rejectsCode(
    bob.decrypt((await beyond.encrypt(utf8("too far"), AD)).message, AD),
    "too_many_skipped",
  );
});

Deno.test(`SenderKeyRecord keeps MAX_SKIPPED_SENDER_KEYS (${MAX_SKIPPED_SENDER_KEYS}) skipped keys, the oldest go first`, async () => {
  const alice = await SenderKeyState.create();
  let bob = SenderKeyRecord.empty.withDistribution(alice.distribution());
  const first = await alice.encrypt(utf8("zero"), AD);
  const second = await first.next.encrypt(utf8("one"), AD);
  // Jump to MAX_SKIPPED_SENDER_KEYS: iterations 0 .. MAX-1 are all kept.
  const far = await advanced(alice, MAX_SKIPPED_SENDER_KEYS);
  bob = (await bob.decrypt((await far.encrypt(utf8("far"), AD)).message, AD)).next;
  assert.equal(text((await bob.decrypt(first.message, AD)).plaintext), "zero");
  // One more skipped key evicts the oldest (iteration 0), and only it.
  const farther = await advanced(alice, MAX_SKIPPED_SENDER_KEYS + 2);
  bob = (await bob.decrypt((await farther.encrypt(utf8("farther"), AD)).message, AD)).next;
  await rejectsCode(bob.decrypt(first.message, AD), "duplicate");
  assert.equal(text((await bob.decrypt(second.message, AD)).plaintext), "one");
});

Deno.test("a rotated sender key: the one who left cannot read, the others read both chains", async () => {
  const alice = await SenderKeyState.create();
  let bob = SenderKeyRecord.empty.withDistribution(alice.distribution());
  const carol = SenderKeyRecord.empty.withDistribution(alice.distribution());
  const before = await alice.encrypt(utf8("before"), AD);
  // Carol is removed: Alice rotates and gives the new key to Bob only.
  const rotated = await SenderKeyState.create(alice.distributionId);
  assert.notEqual(rotated.chainId, alice.chainId);
  bob = bob.withDistribution(rotated.distribution());
  const after = await rotated.encrypt(utf8("after"), AD);
  await rejectsCode(carol.decrypt(after.message, AD), "no_sender_key");
  assert.equal(text((await bob.decrypt(after.message, AD)).plaintext), "after");
  assert.equal(text((await bob.decrypt(before.message, AD)).plaintext), "before");
});

Deno.test("a member given the key now reads from now on, nothing sent before", async () => {
  const alice = await SenderKeyState.create();
  const { messages, state } = await send(alice, ["old 1", "old 2"]);
  const dave = SenderKeyRecord.empty.withDistribution(state.distribution());
  for (const m of messages) await rejectsCode(dave.decrypt(m, AD), "duplicate");
  const { message } = await state.encrypt(utf8("new"), AD);
  assert.equal(text((await dave.decrypt(message, AD)).plaintext), "new");
});

Deno.test(`SenderKeyRecord keeps MAX_SENDER_KEY_STATES (${MAX_SENDER_KEY_STATES}) chains per sender, not one more`, async () => {
  const chains: SenderKeyState[] = [await SenderKeyState.create()];
  for (let i = 1; i <= MAX_SENDER_KEY_STATES; i++) {
    chains.push(await SenderKeyState.create(chains[0]!.distributionId));
  }
  let bob = SenderKeyRecord.empty;
  for (const c of chains.slice(0, MAX_SENDER_KEY_STATES)) {
    bob = bob.withDistribution(c.distribution());
  }
  const oldest = (await chains[0]!.encrypt(utf8("oldest"), AD)).message;
  assert.equal(text((await bob.decrypt(oldest, AD)).plaintext), "oldest");
  bob = bob.withDistribution(chains[MAX_SENDER_KEY_STATES]!.distribution());
  assert.equal(bob.chains.length, MAX_SENDER_KEY_STATES);
  await rejectsCode(bob.decrypt(oldest, AD), "no_sender_key");
  // A distribution already held cannot wind its chain back.
  assert.equal(bob.withDistribution(chains[1]!.distribution()), bob);
});

Deno.test("sender key states survive serialisation and print without keys", async () => {
  const alice = await SenderKeyState.create();
  const bob = SenderKeyRecord.empty.withDistribution(alice.distribution());
  const a2 = await SenderKeyState.deserialize(alice.serializeUnsafe());
  const b2 = SenderKeyRecord.deserialize(bob.serializeUnsafe());
  const { message } = await a2.encrypt(utf8("again"), AD);
  const r = await b2.decrypt(message, AD);
  assert.equal(text(r.plaintext), "again");
  const r2 = SenderKeyRecord.deserialize(r.next.serializeUnsafe());
  await rejectsCode(r2.decrypt(message, AD), "duplicate");
  const shown = Deno.inspect([alice, bob]) + JSON.stringify([alice, bob]);
  const d = decodeDistribution(alice.distribution());
  assert.ok(!shown.includes(d.chainKey.toHex()));
  assert.match(shown, /\[redacted\]/);
});
