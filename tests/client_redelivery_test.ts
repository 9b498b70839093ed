import assert from "node:assert/strict";
import { ChatClient } from "../client/chat.ts";
import { connectChat, eventually, tempProfile } from "./support/chat.ts";
import { startProxy } from "./support/proxy.ts";
import { startTestServer } from "./support/server.ts";

const PW_ALICE = "correct horse 1";
const PW_BOB = "battery staple 2";

Deno.test({
  name:
    "ChatClient: a message delivered twice (ack lost, then after a crash before the ack) is stored once, decrypted once, acknowledged both times",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const t = await startTestServer("sqlite");
    const proxy = startProxy(t.port);
    const alice = await connectChat(t);
    const bobProfile = await tempProfile();
    const bobProblems: string[] = [];
    const connectBob = async (port: number) => {
      const c = await ChatClient.connect({
        hostname: "127.0.0.1",
        port,
        profile: bobProfile,
        trust: t.server.fingerprint,
      });
      c.on("problem", (p) => bobProblems.push(p));
      return c;
    };
    let bob: ChatClient | null = null;
    try {
      await alice.client.signup({ fullName: "Alice", username: "alice", password: PW_ALICE });
      // Always through the proxy: the profile keeps one local store per server address.
      const first = await connectBob(proxy.port);
      await first.signup({ fullName: "Bob", username: "bob", password: PW_BOB });
      await first.close();
      const bobId = (await t.store.userByName("bob"))!.id;
      const copies = async (text: string) =>
        (await bob!.history("alice", 100)).filter((m) => m.text === text).length;
      const storedOnce = (c: ChatClient, text: string) =>
        eventually(async () => (await c.history("alice", 100)).some((m) => m.text === text), text);

      // 1. Bob stores the message and acknowledges it, but the ack never reaches the server;
      //    the connection is cut and he reconnects: the server delivers it again.
      bob = await connectBob(proxy.port);
      await bob.login({ username: "bob", password: PW_BOB });
      await eventually(() => bob!.isOnline, "Bob online");
      proxy.swallowUp = true;
      await alice.client.send("bob", "once, ack lost");
      await storedOnce(bob, "once, ack lost");
      await bob.settle();
      assert.equal(await t.store.pendingCount(bobId), 1, "the server never had the ack");
      proxy.swallowUp = false;
      proxy.cut();
      await eventually(async () => await t.store.pendingCount(bobId) === 0, "the second ack");
      assert.equal(await copies("once, ack lost"), 1);

      // 2. Bob stores the next one and "crashes" before his ack gets out; a new client on the
      //    same profile logs in and is delivered it again.
      proxy.swallowUp = true;
      await alice.client.send("bob", "once, crashed before the ack");
      await storedOnce(bob, "once, crashed before the ack");
      await bob.settle();
      proxy.cut();
      await bob.close();
      proxy.swallowUp = false;
      bob = await connectBob(proxy.port);
      await bob.login({ username: "bob", password: PW_BOB });
      await eventually(
        async () => await t.store.pendingCount(bobId) === 0,
        "the ack after restart",
      );
      await bob.settle();
      assert.equal(await copies("once, crashed before the ack"), 1);
      assert.equal(await copies("once, ack lost"), 1);
      assert.deepEqual(bobProblems, [], "nothing reported (no 'could not be decrypted')");
    } finally {
      proxy.stop();
      await bob?.close().catch(() => {});
      await alice.client.close();
      await t.stop();
    }
  },
});
