import assert from "node:assert/strict";
import { MessageState } from "../client/local_store.ts";
import { eventually } from "./support/chat.ts";
import { PesuchatProcess } from "./support/process.ts";
import { startTestServer } from "./support/server.ts";
import {
  accountProfile,
  assertSentOnceEach,
  loginChat,
  queuedFor,
  repeatedHeaders,
  timeLimited,
} from "./support/sessions.ts";

const PW_A = "correct horse 1";
const PW_B = "battery staple 2";
/** Rounds of two `pesuchat send` processes started at the same moment. */
const CONCURRENT_ROUNDS = 4;

Deno.test("two processes on one profile never encrypt two messages under one message key", async () => {
  await timeLimited(240_000, async () => {
    const t = await startTestServer("sqlite");
    const server = `127.0.0.1:${t.port}`;
    try {
      const alice = await accountProfile(t, "alice", PW_A);
      const bob = await accountProfile(t, "bob", PW_B);
      const send = async (text: string) => {
        const p = new PesuchatProcess(["send", server, "bob", text, "--profile", alice], {
          env: { PESUCHAT_PASSWORD: PW_A },
        });
        const status = await p.done;
        // A process whose login another one took over leaves its message in the shared outbox
        // and says so; nothing else may go wrong (a busy database, above all).
        if (status.code !== 0) assert.match(p.output, /it is queued in the profile/);
        return status;
      };
      const texts: string[] = [];

      // A long-lived process (as `connect` is) holds the session in memory while a `send`
      // process on the same profile moves it on: its next message must not reuse a key.
      const a = await loginChat(t, alice, "alice", PW_A);
      texts.push("one from the long-lived process");
      await a.client.send("bob", texts.at(-1)!);
      await eventually(
        async () => (await a.client.history("bob")).every((m) => m.state >= MessageState.sent),
        "the first message on the server",
      );
      texts.push("two from a send process");
      assert.equal((await send(texts.at(-1)!)).code, 0);
      // That login took the account over: this message waits in the shared outbox.
      texts.push("three from the long-lived process");
      await a.client.send("bob", texts.at(-1)!);
      await a.client.close();

      // Two processes sending at once, round after round.
      for (let i = 0; i < CONCURRENT_ROUNDS; i++) {
        texts.push(`round ${i} first`, `round ${i} second`);
        await Promise.all([send(texts.at(-2)!), send(texts.at(-1)!)]);
      }
      // One more login flushes whatever a process that was taken over left in the outbox.
      await assertSentOnceEach(
        t,
        { dir: alice, username: "alice", password: PW_A },
        { dir: bob, username: "bob", password: PW_B },
        texts,
      );
    } finally {
      await t.stop();
    }
  });
});

Deno.test("receive and send on one profile at once: no key used twice, every message stored once", async () => {
  await timeLimited(240_000, async () => {
    const t = await startTestServer("sqlite");
    const server = `127.0.0.1:${t.port}`;
    try {
      const alice = await accountProfile(t, "alice", PW_A);
      const bob = await accountProfile(t, "bob", PW_B);
      const env = { env: { PESUCHAT_PASSWORD: PW_A } };
      const run = (args: string[]) => new PesuchatProcess([...args, "--profile", alice], env).done;
      // A session both ways, then Bob writes while Alice is away.
      let b = await loginChat(t, bob, "bob", PW_B);
      const fromBob = Array.from({ length: 12 }, (_, i) => `from bob ${i}`);
      await b.client.send("alice", "hello");
      await b.client.settle();
      assert.equal((await run(["send", server, "bob", "hi"])).code, 0);
      await b.waitFor(1);
      for (const text of fromBob) await b.client.send("alice", text);
      await b.client.settle();
      await b.client.close();

      // Alice's profile receives (storing, and encrypting receipts) while it sends, in three
      // processes that take the account over from each other.
      const texts = ["to bob 0", "to bob 1", "to bob 2"];
      await Promise.all([
        run(["receive", server, "--wait", "1"]),
        run(["receive", server, "--wait", "1"]),
        ...texts.map((text) => run(["send", server, "bob", text])),
      ]);
      const last = await loginChat(t, alice, "alice", PW_A);
      await eventually(
        async () =>
          (await last.client.history("bob", 100)).filter((m) => !m.outgoing).length ===
            fromBob.length + 1 &&
          (await last.client.history("bob", 100)).every((m) => m.state >= MessageState.sent),
        "every message from Bob stored and every message to him sent",
        60_000,
      );
      const incoming = (await last.client.history("bob", 100)).filter((m) => !m.outgoing);
      assert.deepEqual(incoming.map((m) => m.text).sort(), ["hello", ...fromBob].sort());
      await last.client.settle();
      await last.client.close();

      const queued = await queuedFor(t, "bob");
      assert.deepEqual(repeatedHeaders(queued.map((q) => q.body)), [], "no header repeats");
      b = await loginChat(t, bob, "bob", PW_B);
      await b.waitFor(texts.length, 60_000);
      assert.deepEqual(b.received.map((m) => m.text).sort(), texts);
      assert.ok(!b.notices.some((n) => /could not be decrypted/.test(n)), b.notices.join("\n"));
      await b.client.close();
    } finally {
      await t.stop();
    }
  });
});
