import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { envelopeInitiation } from "../crypto/mod.ts";
import { connectChat, eventually, type TestChat } from "./support/chat.ts";
import { startTestServer, type TestServer } from "./support/server.ts";
import { interceptQueue, loginChat, queuedFor, replay, timeLimited } from "./support/sessions.ts";

const PW_A = "correct horse 1";
const PW_B = "battery staple 2";
/** Messages each way after the sessions crossed. */
const CONVERSATION_ROUNDS = 15;

async function signedUp(t: TestServer, username: string, password: string): Promise<TestChat> {
  const c = await connectChat(t);
  await c.client.signup({ fullName: username.toUpperCase(), username, password });
  return c;
}

/** Reconnects an account from its profile folder (closing the given client first). */
async function again(t: TestServer, c: TestChat, username: string, password: string) {
  await c.client.close();
  return await loginChat(t, c.profile.dir, username, password);
}

Deno.test("both sides write first at the same moment, then a long conversation both ways works", async () => {
  await timeLimited(180_000, async () => {
    const t = await startTestServer("sqlite");
    try {
      const a = await signedUp(t, "alice", PW_A);
      let b = await signedUp(t, "bob", PW_B);
      await b.client.close();
      // Alice starts a session while Bob is away; the server holds it back when Bob returns…
      await a.client.send("bob", "alice first");
      const bob = await t.store.userByName("bob");
      const release = interceptQueue(t, (m) => m.recipientId === bob!.id ? null : m);
      b = await loginChat(t, b.profile.dir, "bob", PW_B);
      // …so Bob starts his own session, which reaches Alice first.
      await b.client.send("alice", "bob first");
      await a.waitFor(1);
      release();
      b = await again(t, b, "bob", PW_B);
      await b.waitFor(1);
      assert.deepEqual([a.received[0]!.text, b.received[0]!.text], ["bob first", "alice first"]);

      for (let i = 0; i < CONVERSATION_ROUNDS; i++) {
        if (i % 3 === 0) {
          await Promise.all([a.client.send("bob", `a${i}`), b.client.send("alice", `b${i}`)]);
        } else {
          await a.client.send("bob", `a${i}`);
          await b.waitFor(1 + i + 1);
          await b.client.send("alice", `b${i}`);
        }
        await a.waitFor(1 + i + 1);
        await b.waitFor(1 + i + 1);
      }
      const rest = (c: TestChat) => c.received.slice(1).map((m) => m.text);
      const expect = (p: string) =>
        Array.from({ length: CONVERSATION_ROUNDS }, (_, i) => `${p}${i}`);
      assert.deepEqual(rest(b), expect("a"));
      assert.deepEqual(rest(a), expect("b"));
      assert.deepEqual([...a.problems, ...b.problems], []);
      assert.ok(
        ![...a.notices, ...b.notices].some((n) => /could not be decrypted/.test(n)),
        [...a.notices, ...b.notices].join("\n"),
      );
      await Promise.all([a.client.close(), b.client.close()]);
    } finally {
      await t.stop();
    }
  });
});

Deno.test("a message the server damaged shows in the chat, and the next send starts a new session", async () => {
  await timeLimited(120_000, async () => {
    const t = await startTestServer("sqlite");
    try {
      let a = await signedUp(t, "alice", PW_A);
      let b = await signedUp(t, "bob", PW_B);
      await a.client.send("bob", "hello");
      await b.waitFor(1);
      await b.client.send("alice", "hi");
      await a.waitFor(1);
      await b.client.close();
      const target = await a.client.send("bob", "damaged on the way");
      await a.client.send("bob", "fine");
      await a.client.settle();
      await a.client.close();
      // The server flips the last byte (inside the tag) of the first of those.
      const undo = interceptQueue(t, (m) => {
        if (m.mid.toHex() !== target.mid.toHex()) return m;
        const body = m.body.slice();
        body[body.length - 1]! ^= 1;
        return { ...m, body };
      });
      b = await loginChat(t, b.profile.dir, "bob", PW_B);
      await b.waitFor(1);
      assert.deepEqual(b.received.map((m) => m.text), ["fine"]);
      await eventually(() => b.notices.length > 0, "a line about the damaged message");
      assert.match(b.notices[0]!, /^alice: a message from alice could not be decrypted/);
      undo();

      // Everything Bob sends after it (a receipt, a message) is on one new session: prekey
      // envelopes with one base key. Alice accepts it and says so.
      await b.client.send("alice", "after the damage");
      let toAlice: Uint8Array[] = [];
      await eventually(
        async () => (toAlice = (await queuedFor(t, "alice")).map((q) => q.body)).length >= 2,
        "a receipt and a message queued for Alice",
      );
      const bases = new Set(toAlice.map((body) => envelopeInitiation(body)?.baseKey.toHex()));
      assert.equal(bases.size, 1);
      assert.ok(!bases.has(undefined), "prekey envelopes only");
      a = await loginChat(t, a.profile.dir, "alice", PW_A);
      await a.waitFor(1);
      assert.equal(a.received[0]!.text, "after the damage");
      await eventually(() => a.notices.length > 0, "a line about the new session");
      assert.match(a.notices[0]!, /bob started a new session; their identity is unchanged/);
      await a.client.send("bob", "still talking");
      await b.waitFor(2);
      assert.equal(b.received[1]!.text, "still talking");
      await Promise.all([a.client.close(), b.client.close()]);
    } finally {
      await t.stop();
    }
  });
});

Deno.test("a replayed first message is never shown again nor replaces the live session", async () => {
  await timeLimited(120_000, async () => {
    const t = await startTestServer("sqlite");
    try {
      const a = await signedUp(t, "alice", PW_A);
      let b = await signedUp(t, "bob", PW_B);
      await b.client.close();
      // The server withholds Bob's one-time prekeys: the session uses the signed and last-resort
      // keys only, which a replay can use again.
      const bobId = (await t.store.userByName("bob"))!.id;
      for (let i = 0; i < 1000; i++) {
        const bundle = await t.store.takeBundle(bobId);
        if (!bundle!.oneTimePrekey && bundle!.kyberLastResort) break;
      }
      // Two first messages (one base key): the server passes the first and drops the second.
      await a.client.send("bob", "first");
      await a.client.send("bob", "second");
      await a.client.settle();
      const [captured, second] = await queuedFor(t, "bob");
      await t.store.ack(bobId, [second!.qid]);
      b = await loginChat(t, b.profile.dir, "bob", PW_B);
      await b.waitFor(1);
      await b.client.send("alice", "hi");
      await a.waitFor(1);

      // Replayed while its session is live: refused as a repeat.
      await replay(t, "alice", "bob", captured!.body);
      b = await again(t, b, "bob", PW_B);
      await eventually(() => b.notices.length > 0, "a line about the repeat");
      assert.match(b.notices[0]!, /a repeated message from alice was ignored/);

      // Alice starts over with new keys; Bob accepts them and they talk on a new session.
      await a.client.close();
      const a2 = await connectChat(t);
      await a2.client.login({
        username: "alice",
        password: PW_A,
        restore: () => Promise.resolve(false),
      });
      await a2.client.send("bob", "new keys");
      await b.waitFor(1);
      await b.client.acceptIdentity("alice");
      await b.client.send("alice", "welcome back");
      await a2.waitFor(1);

      // Replayed now, when no session here has its base key any more: still refused, both the
      // one read before and the one never delivered, whose base key started a session here.
      await replay(t, "alice", "bob", captured!.body);
      await replay(t, "alice", "bob", second!.body);
      b = await again(t, b, "bob", PW_B);
      await eventually(() => b.notices.length >= 2, "two lines about repeats");
      for (const n of b.notices) assert.match(n, /a repeated message from alice was ignored/);
      assert.equal((await b.client.contact("alice"))!.pendingIdentity, null);
      await a2.client.send("bob", "still the new session");
      await b.waitFor(1);
      assert.deepEqual(b.received.map((m) => m.text), ["still the new session"]);
      assert.deepEqual(
        (await b.client.history("alice")).filter((m) => /^(first|second)$/.test(m.text)).map((m) =>
          m.text
        ),
        ["first"],
        "shown once, and the dropped one never",
      );
      await b.client.send("alice", "and back");
      await a2.waitFor(2);
      await Promise.all([a2.client.close(), b.client.close()]);
    } finally {
      await t.stop();
    }
  });
});

Deno.test("a store failure after the prekey is used loses nothing: the redelivery decrypts", async () => {
  await timeLimited(120_000, async () => {
    const t = await startTestServer("sqlite");
    try {
      const a = await signedUp(t, "alice", PW_A);
      let b = await signedUp(t, "bob", PW_B);
      await b.client.close();
      await a.client.send("bob", "first, with a one-time prekey");
      await a.client.settle();
      // Bob's disk refuses to store the message, after the session is opened.
      const path = b.client.profilePath("bob");
      const db = new DatabaseSync(path);
      db.exec(
        "CREATE TRIGGER injected_failure BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'disk full'); END",
      );
      b = await loginChat(t, b.profile.dir, "bob", PW_B);
      await eventually(() => b.problems.some((p) => /disk full/.test(p)), "the failure");
      assert.equal(b.received.length, 0);
      db.exec("DROP TRIGGER injected_failure");
      db.close();
      b = await again(t, b, "bob", PW_B);
      await b.waitFor(1);
      assert.equal(b.received[0]!.text, "first, with a one-time prekey");
      assert.deepEqual(b.notices, []);
      await Promise.all([a.client.close(), b.client.close()]);
    } finally {
      await t.stop();
    }
  });
});
