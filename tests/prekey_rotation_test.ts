/**
 * Prekey rotation on a clock the test moves: the signed prekey and the last-resort ML-KEM key are
 * replaced after a week, messages made from the old bundle still open during the grace period,
 * and not after it. Real server, real chat core, messages held back by the server and delivered
 * late (as a slow or hostile server may).
 */

import assert from "node:assert/strict";
import { KYBER_BATCH, SIGNED_PREKEY_KEEP_MS, SIGNED_PREKEY_ROTATE_MS } from "../client/prekeys.ts";
import type { QueuedMessage } from "../sql/store.ts";
import { connectChat, eventually, type TestChat } from "./support/chat.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

const PW_A = "correct horse 1";
const PW_B = "battery staple 2";
const PW_C = "purple monkey 3";
const HOUR = 3600_000;

/** The server takes `recipient`'s queued messages out of the queue, to hand them over later. */
async function holdBack(t: TestServer, recipient: number, n: number): Promise<QueuedMessage[]> {
  await eventually(async () => (await t.store.pendingCount(recipient)) === n, "queued messages");
  const held = await t.store.pending(recipient, 0, n);
  await t.store.ack(recipient, held.map((m) => m.qid));
  return held;
}

async function handOver(t: TestServer, held: QueuedMessage[]): Promise<void> {
  await t.store.enqueue(held.map(({ qid: _, ...m }) => m));
}

async function bundleIds(t: TestServer, user: number): Promise<[number, number]> {
  const b = (await t.store.takeBundle(user, false))!;
  return [b.signedPrekey.id, b.kyberPrekey.id];
}

async function signedUp(t: TestServer, name: string, pw: string): Promise<TestChat> {
  const c = await connectChat(t);
  await c.client.signup({ fullName: name.toUpperCase(), username: name, password: pw });
  return c;
}

Deno.test("prekeys: the signed and last-resort keys rotate weekly; old-bundle messages open in the grace period, not after", async () => {
  let now = Date.now();
  const clock = () => now;
  const t = await startTestServer("sqlite");
  try {
    const bob = await connectChat(t, undefined, clock);
    await bob.client.signup({ fullName: "Bob", username: "bob", password: PW_B });
    await bob.client.close();
    const bobId = (await t.store.userByName("bob"))!.id;
    // Others used up Bob's one-time ML-KEM keys: bundles now carry the last-resort key.
    for (let i = 0; i < KYBER_BATCH; i++) await t.store.takeBundle(bobId);
    const first = await bundleIds(t, bobId);

    // Alice and Carol write from this bundle; the server holds both messages back.
    const alice = await signedUp(t, "alice", PW_A);
    await alice.client.send("bob", "from alice, old bundle");
    const fromAlice = await holdBack(t, bobId, 1);
    const carol = await signedUp(t, "carol", PW_C);
    await carol.client.send("bob", "from carol, old bundle");
    const fromCarol = await holdBack(t, bobId, 1);

    // A week later Bob comes online: both keys are replaced on the server.
    now += SIGNED_PREKEY_ROTATE_MS + HOUR;
    let b = await connectChat(t, bob.profile, clock);
    await b.client.login({ username: "bob", password: PW_B });
    await eventually(async () => {
      const [s, k] = await bundleIds(t, bobId);
      return s !== first[0] && k !== first[1];
    }, "a new signed prekey and a new last-resort key on the server");
    const second = await bundleIds(t, bobId);
    await b.client.close();

    // Within the grace period, Alice's late message still opens.
    await handOver(t, fromAlice);
    b = await connectChat(t, bob.profile, clock);
    await b.client.login({ username: "bob", password: PW_B });
    await b.waitFor(1);
    assert.equal(b.received[0]!.text, "from alice, old bundle");
    assert.deepEqual(b.problems, []);
    await b.client.close();

    // Past the grace period the old keys are gone: Carol's message made from them cannot open.
    now += SIGNED_PREKEY_KEEP_MS;
    b = await connectChat(t, bob.profile, clock);
    await b.client.login({ username: "bob", password: PW_B });
    await eventually(async () => {
      const [s, k] = await bundleIds(t, bobId);
      return s !== second[0] && k !== second[1];
    }, "the next rotation, which also drops the old keys");
    await b.client.close();
    await handOver(t, fromCarol);
    b = await connectChat(t, bob.profile, clock);
    await b.client.login({ username: "bob", password: PW_B });
    await eventually(() => b.notices.length > 0, "a message that could not be decrypted");
    assert.match(b.notices[0]!, /from carol could not be decrypted/);
    assert.equal(b.received.length, 0);
    await b.client.close();
    await alice.client.close();
    await carol.client.close();
  } finally {
    await t.stop();
  }
});
