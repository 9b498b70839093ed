/**
 * A server that lies about identities: it hands out a badly signed identity, or a contact's
 * identity changes (a new key, or a server swapping keys). The real chat core over real TCP.
 */

import assert from "node:assert/strict";
import { ChatError } from "../client/chat.ts";
import { connectChat, eventually, type TestChat } from "./support/chat.ts";
import { fakePrekeys, startTestServer, type TestServer } from "./support/server.ts";

const PW_A = "correct horse 1";
const PW_B = "battery staple 2";

async function signedUp(t: TestServer, username: string, password: string): Promise<TestChat> {
  const c = await connectChat(t);
  await c.client.signup({ fullName: username.toUpperCase(), username, password });
  return c;
}

async function userId(t: TestServer, name: string): Promise<number> {
  return (await t.store.userByName(name))!.id;
}

Deno.test({
  name: "lookup: an identity whose signature does not verify is refused and never stored",
  fn: async () => {
    const t = await startTestServer("sqlite");
    const timer = setTimeout(() => t.stop(), 60_000);
    try {
      const a = await signedUp(t, "alice", PW_A);
      const b = await signedUp(t, "bob", PW_B);
      // The lying server: Bob's identity with one bit of its signature flipped.
      const real = (await t.store.userByName("bob"))!.identityKey;
      const forged = real.slice();
      forged[forged.length - 1]! ^= 1;
      await t.store.replaceIdentity(await userId(t, "bob"), forged, fakePrekeys());
      await assert.rejects(
        a.client.lookup("bob"),
        (e) => e instanceof ChatError && e.code === "bad_identity" && /signature/.test(e.message),
      );
      assert.equal(await a.client.contact("bob"), null);
      // Served truthfully again, the same lookup is taken.
      await t.store.replaceIdentity(await userId(t, "bob"), real, fakePrekeys());
      assert.deepEqual(await a.client.lookup("bob"), { username: "bob", fullName: "BOB" });
      assert.deepEqual((await a.client.contact("bob"))!.identity, real);
      await a.client.close();
      await b.client.close();
    } finally {
      clearTimeout(timer);
      await t.stop();
    }
  },
});

Deno.test({
  name:
    "identity change: no receipt or message goes to an unaccepted identity; /reject keeps it so",
  fn: async () => {
    const t = await startTestServer("sqlite");
    const timer = setTimeout(() => t.stop(), 120_000);
    try {
      const a = await signedUp(t, "alice", PW_A);
      const b = await signedUp(t, "bob", PW_B);
      await a.client.send("bob", "before");
      await b.waitFor(1);
      const oldIdentity = (await a.client.contact("bob"))!.identity!;

      // Bob starts over with new keys (or a server swaps them) and writes first, then goes away.
      await b.client.deleteAccount(PW_B);
      await b.client.close();
      const b2 = await signedUp(t, "bob", PW_B);
      const bob2 = await userId(t, "bob");
      await b2.client.send("alice", "new keys");
      await b2.client.close();
      await a.waitFor(1);
      await a.client.settle();
      const c = (await a.client.contact("bob"))!;
      assert.ok(c.pendingIdentity, "the change is held for the user");

      // Reading the message would send a read receipt; the delivery receipt would follow too.
      await a.client.markRead("bob");
      await a.client.settle();
      assert.equal(await t.store.pendingCount(bob2), 0, "nothing queued for the new identity");
      await assert.rejects(
        a.client.send("bob", "secret"),
        (e) => e instanceof ChatError && e.code === "identity_changed",
      );

      // Rejected: the old identity stays, and sending is still refused while the server
      // presents the new one.
      await a.client.rejectIdentity("bob");
      const after = (await a.client.contact("bob"))!;
      assert.equal(after.pendingIdentity, null);
      assert.deepEqual(after.identity, oldIdentity);
      await assert.rejects(
        a.client.send("bob", "secret"),
        (e) => e instanceof ChatError && e.code === "identity_changed",
      );
      await a.client.settle();
      assert.equal(await t.store.pendingCount(bob2), 0, "still nothing for the new identity");

      // Accepted: now a message goes, and it is the first thing Bob's new identity gets.
      await a.client.acceptIdentity("bob");
      await a.client.send("bob", "accepted");
      await eventually(async () => (await t.store.pendingCount(bob2)) >= 1, "a queued message");
      const back = await connectChat(t, b2.profile);
      await back.client.login({ username: "bob", password: PW_B });
      await back.waitFor(1);
      assert.equal(back.received[0]!.text, "accepted");
      assert.deepEqual(back.problems, []);
      await back.client.close();
      await a.client.close();
    } finally {
      clearTimeout(timer);
      await t.stop();
    }
  },
});
