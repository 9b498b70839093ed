import assert from "node:assert/strict";
import { ChatClient } from "../client/chat.ts";
import { MessageState } from "../client/local_store.ts";
import { SEND_FAILED_AFTER_MS } from "../client/messenger.ts";
import { connectChat, eventually, tempProfile } from "./support/chat.ts";
import { startProxy } from "./support/proxy.ts";
import { startTestServer } from "./support/server.ts";

const PW_ALICE = "correct horse 1";
const PW_BOB = "battery staple 2";

Deno.test("ChatClient: a message the server refused for a while shows as failed with why, then goes by itself, once", async () => {
  const t = await startTestServer("sqlite", { maxPendingPerUser: 2 });
  const alice = await connectChat(t);
  const bob = await connectChat(t);
  const failures: string[] = [];
  alice.client.on("failed", (_peer, _mid, reason) => failures.push(reason));
  try {
    await alice.client.signup({ fullName: "Alice", username: "alice", password: PW_ALICE });
    await bob.client.signup({ fullName: "Bob", username: "bob", password: PW_BOB });
    await bob.client.close();
    // One at a time: the server's count of Bob's queue is then exact when the third comes.
    for (const text of ["one", "two"]) {
      const m = await alice.client.send("bob", text);
      await eventually(
        async () =>
          (await alice.client.history("bob", 10)).find((h) => h.mid.toHex() === m.mid.toHex())!
            .state === MessageState.sent,
        `${text} sent`,
      );
    }
    // Bob's queue is full: the server refuses the third, again and again.
    const third = await alice.client.send("bob", "three");
    const stateOf = async () =>
      (await alice.client.history("bob", 10)).find((m) => m.mid.toHex() === third.mid.toHex())!;
    await eventually(
      async () => (await stateOf()).state === MessageState.failed,
      "the third shown as failed",
      SEND_FAILED_AFTER_MS * 3,
    );
    assert.equal((await stateOf()).failure, "bob has too many undelivered messages");
    assert.deepEqual(failures, ["bob has too many undelivered messages"]);
    // Bob comes back and drains his queue; Alice sends nothing, and the third goes anyway.
    const bob2 = await connectChat(t, bob.profile);
    await bob2.client.login({ username: "bob", password: PW_BOB });
    await bob2.waitFor(3, 60_000);
    await eventually(async () => (await stateOf()).state >= MessageState.sent, "sent");
    await bob2.client.settle();
    assert.deepEqual(bob2.received.map((m) => m.text).sort(), ["one", "three", "two"]);
    assert.equal((await stateOf()).failure, undefined);
    await bob2.client.close();
  } finally {
    await alice.client.close();
    await t.stop();
  }
});

Deno.test({
  name:
    "ChatClient: keepalives find a connection that went silent; the message waiting on it goes on the next one, once",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const t = await startTestServer("sqlite");
    const proxy = startProxy(t.port);
    const bob = await connectChat(t);
    const alice = await ChatClient.connect({
      hostname: "127.0.0.1",
      port: proxy.port,
      profile: await tempProfile(),
      trust: t.server.fingerprint,
    });
    const statuses: string[] = [];
    alice.on("connection", (s) => statuses.push(s));
    try {
      await alice.signup({ fullName: "Alice", username: "alice", password: PW_ALICE });
      await bob.client.signup({ fullName: "Bob", username: "bob", password: PW_BOB });
      await alice.send("bob", "before");
      await bob.waitFor(1);
      // The path goes silent without closing: nothing tells Alice but the missing answers.
      proxy.stall();
      const stuck = await alice.send("bob", "through a dead connection");
      await eventually(
        () => statuses.includes("reconnecting"),
        "the dead connection noticed",
        60_000,
      );
      await bob.waitFor(2, 60_000);
      await eventually(
        async () =>
          (await alice.history("bob", 10)).find((m) => m.mid.toHex() === stuck.mid.toHex())!
            .state >= MessageState.sent,
        "sent",
      );
      await alice.settle();
      await bob.client.settle();
      assert.deepEqual(bob.received.map((m) => m.text), ["before", "through a dead connection"]);
    } finally {
      await alice.close();
      await bob.client.close();
      proxy.stop();
      await t.stop();
    }
  },
});
