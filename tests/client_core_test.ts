import assert from "node:assert/strict";
import { ChatError } from "../client/chat.ts";
import { MessageState } from "../client/local_store.ts";
import { connectChat, eventually, type TestChat } from "./support/chat.ts";
import { rawClient, signUp, startTestServer, type TestServer } from "./support/server.ts";
import { ONE_TIME_BATCH, ONE_TIME_LOW } from "../client/prekeys.ts";
import { MAX_ONE_TIME_BUNDLES_PER_REQUESTER } from "../protocol/limits.ts";

const PW_A = "correct horse 1";
const PW_B = "battery staple 2";

/** Alice and Bob, signed up on `t` from profiles of their own. */
async function aliceAndBob(t: TestServer): Promise<{ a: TestChat; b: TestChat }> {
  const a = await connectChat(t);
  const b = await connectChat(t);
  await a.client.signup({ fullName: "Alice", username: "alice", password: PW_A });
  await b.client.signup({ fullName: "Bob", username: "bob", password: PW_B });
  return { a, b };
}

Deno.test("ChatClient: two users sign up, chat both ways, and see delivery and read receipts", async () => {
  const t = await startTestServer("sqlite");
  try {
    const a = await connectChat(t);
    const b = await connectChat(t);
    await a.client.signup({ fullName: "Alice A", username: "alice", password: PW_A });
    await b.client.signup({
      fullName: "Bob B",
      email: "bob@example.org",
      username: "bob",
      password: PW_B,
    });
    assert.deepEqual(await a.client.lookup("BOB"), { username: "bob", fullName: "Bob B" });
    const m1 = await a.client.send("bob", "hello bob");
    await b.waitFor(1);
    assert.equal(b.received[0]!.text, "hello bob");
    assert.equal(b.received[0]!.peer, "alice");
    await b.client.send("alice", "hello alice");
    await a.waitFor(1);
    assert.equal(a.received[0]!.text, "hello alice");
    // Alice's first message was delivered; once Bob reads it, it is read.
    await eventually(
      async () =>
        (await a.client.history("bob")).find((m) => m.text === "hello bob")?.state ===
          MessageState.delivered,
      "delivered",
    );
    await b.client.markRead("alice");
    await eventually(
      async () =>
        (await a.client.history("bob")).find((m) => m.text === "hello bob")?.state ===
          MessageState.read,
      "read",
    );
    assert.deepEqual((await a.client.history("bob")).map((m) => [m.outgoing, m.text]), [[
      true,
      "hello bob",
    ], [false, "hello alice"]]);
    assert.equal(m1.state, MessageState.pending);
    const list = await b.client.conversations();
    assert.equal(list.length, 1);
    assert.equal(list[0]!.peer, "alice");
    assert.equal(list[0]!.unread, 0);
    const na = await a.client.safetyNumber("bob");
    const nb = await b.client.safetyNumber("alice");
    assert.equal(na, nb);
    assert.match(na, /^(\d{5} ){11}\d{5}$/);
    assert.deepEqual(a.problems, []);
    assert.deepEqual(b.problems, []);
    await a.client.close();
    await b.client.close();
  } finally {
    await t.stop();
  }
});

Deno.test("ChatClient: messages to an offline user wait on the server and arrive in order, once", async () => {
  const t = await startTestServer("sqlite");
  try {
    const { a, b } = await aliceAndBob(t);
    const bobProfile = b.profile;
    await b.client.logout();
    await b.client.close();
    for (let i = 0; i < 200; i++) await a.client.send("bob", `offline ${i}`);
    await a.client.settle();
    const b2 = await connectChat(t, bobProfile);
    const r = await b2.client.login({ username: "bob", password: PW_B });
    assert.deepEqual(r, { restored: false, newIdentity: false });
    await b2.waitFor(200);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      b2.received.map((m) => m.text),
      Array.from({ length: 200 }, (_, i) => `offline ${i}`),
    );
    const list = await b2.client.conversations();
    assert.equal(list[0]!.unread, 200);
    await a.client.close();
    await b2.client.close();
  } finally {
    await t.stop();
  }
});

Deno.test("ChatClient: a wrong password is refused, and a weak one at sign-up", async () => {
  const t = await startTestServer("sqlite");
  try {
    const a = await connectChat(t);
    await assert.rejects(
      a.client.signup({ fullName: "A", username: "alice", password: "short" }),
      (e) => e instanceof ChatError && e.code === "weak_password",
    );
    await a.client.signup({ fullName: "A", username: "alice", password: PW_A });
    await a.client.logout();
    await assert.rejects(
      a.client.login({ username: "alice", password: "not the password" }),
      (e) => e instanceof ChatError && e.code === "wrong_password",
    );
    await a.client.login({ username: "alice", password: PW_A });
    await a.client.close();
  } finally {
    await t.stop();
  }
});

Deno.test("ChatClient: restore from backup into an empty profile, then continue the conversation", async () => {
  const t = await startTestServer("sqlite");
  try {
    const a = await connectChat(t);
    const b = await connectChat(t);
    await a.client.signup({ fullName: "Alice", username: "alice", password: PW_A });
    const { recoveryKey } = await b.client.signup({
      fullName: "Bob",
      username: "bob",
      password: PW_B,
      backup: true,
    });
    await a.client.send("bob", "before the move");
    await b.waitFor(1);
    await b.client.send("alice", "reply before the move");
    await a.waitFor(1);
    await b.client.close(); // uploads a last backup
    const fresh = await connectChat(t); // an empty profile on "another machine"
    let asked = false;
    const r = await fresh.client.login({
      username: "bob",
      password: PW_B,
      restore: () => {
        asked = true;
        return Promise.resolve(true);
      },
      recoveryKey: () => Promise.resolve(recoveryKey),
    });
    assert.ok(asked);
    assert.deepEqual(r, { restored: true, newIdentity: false });
    assert.deepEqual((await fresh.client.history("alice")).map((m) => m.text), [
      "before the move",
      "reply before the move",
    ]);
    await a.client.send("bob", "after the move");
    await fresh.waitFor(1);
    assert.equal(fresh.received[0]!.text, "after the move");
    await fresh.client.send("alice", "hello from the new machine");
    await a.waitFor(2);
    assert.equal(a.received[1]!.text, "hello from the new machine");
    assert.deepEqual(fresh.problems, []);
    await a.client.close();
    await fresh.client.close();
  } finally {
    await t.stop();
  }
});

Deno.test("ChatClient: a contact who re-registers shows an identity change that must be acknowledged", async () => {
  const t = await startTestServer("sqlite");
  try {
    const { a, b } = await aliceAndBob(t);
    await a.client.send("bob", "hi");
    await b.waitFor(1);
    const before = await a.client.safetyNumber("bob");
    await b.client.deleteAccount(PW_B);
    await b.client.close();
    const b2 = await connectChat(t);
    await b2.client.signup({ fullName: "Bob Again", username: "bob", password: PW_B });
    const changed: string[] = [];
    a.client.on("identityChanged", (p) => changed.push(p));
    await a.client.checkContact("bob");
    assert.deepEqual(changed, ["bob"]);
    await assert.rejects(
      a.client.send("bob", "are you still you?"),
      (e) => e instanceof ChatError && e.code === "identity_changed",
    );
    assert.notEqual(await a.client.safetyNumber("bob"), before);
    await a.client.acceptIdentity("bob");
    await a.client.send("bob", "welcome back");
    await b2.waitFor(1);
    assert.equal(b2.received[0]!.text, "welcome back");
    await a.client.close();
    await b2.client.close();
  } finally {
    await t.stop();
  }
});

Deno.test("ChatClient: one-time prekeys used up by others are replenished at the next connection", async () => {
  const t = await startTestServer("sqlite");
  try {
    const b = await connectChat(t);
    await b.client.signup({ fullName: "Bob", username: "bob", password: PW_B });
    const bobProfile = b.profile;
    await b.client.close();
    // Several others, each within its own bundle limit.
    const fetchers = [];
    for (let i = 0; i < ONE_TIME_BATCH - ONE_TIME_LOW + 1; i++) {
      if (i % MAX_ONE_TIME_BUNDLES_PER_REQUESTER === 0) {
        fetchers.push(await rawClient(t.port));
        await signUp(fetchers.at(-1)!, `fetcher${fetchers.length}`);
      }
      await fetchers.at(-1)!.conn.request("bundle", { username: "bob" });
    }
    const bobId = (await t.store.userByName("bob"))!.id;
    assert.equal((await t.store.prekeyCounts(bobId)).oneTime, ONE_TIME_LOW - 1);
    const b2 = await connectChat(t, bobProfile);
    await b2.client.login({ username: "bob", password: PW_B });
    await eventually(
      async () => (await t.store.prekeyCounts(bobId)).oneTime === ONE_TIME_BATCH,
      "replenished",
    );
    for (const f of fetchers) f.conn.close();
    await b2.client.close();
  } finally {
    await t.stop();
  }
});
