import assert from "node:assert/strict";
import { ChatError } from "../client/chat.ts";
import { ONE_TIME_BATCH } from "../client/prekeys.ts";
import { Profile } from "../client/profile.ts";
import { envelopeInitiation } from "../crypto/mod.ts";
import { connectChat, eventually, type TestChat } from "./support/chat.ts";
import { startTestServer, type TestServer } from "./support/server.ts";
import { loginChat, queuedFor, repeatedHeaders, timeLimited } from "./support/sessions.ts";

const PW_A = "correct horse 1";
const PW_B = "battery staple 2";

async function signedUp(t: TestServer, username: string, password: string): Promise<TestChat> {
  const c = await connectChat(t);
  await c.client.signup({ fullName: username.toUpperCase(), username, password });
  return c;
}

/** Signs up with backups on; the recovery key comes back as a login's `recoveryKey` answer. */
async function withBackups(
  t: TestServer,
  username: string,
  password: string,
): Promise<{ chat: TestChat; recoveryKey: () => Promise<string> }> {
  const chat = await connectChat(t);
  const { recoveryKey } = await chat.client.signup({
    fullName: username.toUpperCase(),
    username,
    password,
    backup: true,
  });
  return { chat, recoveryKey: () => Promise.resolve(recoveryKey!) };
}

Deno.test("after a restore the first send starts a new session: no key used twice, fresh prekeys", async () => {
  await timeLimited(120_000, async () => {
    const t = await startTestServer("sqlite");
    try {
      const { chat: a, recoveryKey } = await withBackups(t, "alice", PW_A);
      let b = await signedUp(t, "bob", PW_B);
      await a.client.send("bob", "hello");
      await b.waitFor(1);
      await b.client.send("alice", "hi");
      await a.waitFor(1);
      await a.client.settle();
      await a.client.backupNow();
      await b.client.close();
      const aliceId = (await t.store.userByName("alice"))!.id;
      const before = await t.store.takeBundle(aliceId);

      // Alice sends on past the backup, then restores it on another machine and sends again.
      await a.client.send("bob", "after the backup");
      await a.client.send("bob", "after the backup, again");
      await a.client.settle();
      await a.client.close();
      const a2 = await connectChat(t);
      const r = await a2.client.login({
        username: "alice",
        password: PW_A,
        restore: () => Promise.resolve(true),
        recoveryKey,
      });
      assert.equal(r.restored, true);
      // The restore replaced every prekey on the server with a fresh set.
      assert.equal((await t.store.prekeyCounts(aliceId)).oneTime, ONE_TIME_BATCH);
      const after = await t.store.takeBundle(aliceId);
      assert.notEqual(after!.signedPrekey.id, before!.signedPrekey.id);
      assert.notEqual(after!.oneTimePrekey!.id, before!.oneTimePrekey!.id);

      await a2.client.send("bob", "after the restore");
      await a2.client.settle();
      // Three messages (and Alice's receipts): no header twice, the last on a new session.
      const queued = (await queuedFor(t, "bob")).map((q) => q.body);
      assert.ok(queued.length >= 3);
      assert.deepEqual(repeatedHeaders(queued), []);
      assert.ok(envelopeInitiation(queued.at(-1)!), "a new session's prekey envelope");

      // Bob reads all three and hears of the new session; the identity is the same one.
      b = await loginChat(t, b.profile.dir, "bob", PW_B);
      await b.waitFor(3);
      assert.deepEqual(b.received.map((m) => m.text), [
        "after the backup",
        "after the backup, again",
        "after the restore",
      ]);
      await eventually(() => b.notices.length > 0, "a line about the new session");
      assert.match(b.notices[0]!, /alice started a new session; their identity is unchanged/);
      assert.equal((await b.client.contact("alice"))!.pendingIdentity, null);
      await b.client.send("alice", "welcome back");
      await a2.waitFor(1);
      assert.equal(a2.received[0]!.text, "welcome back");
      await Promise.all([a2.client.close(), b.client.close()]);
    } finally {
      await t.stop();
    }
  });
});

Deno.test("a profile refuses a backup older than one it has seen (a server serving a stale one)", async () => {
  await timeLimited(120_000, async () => {
    const t = await startTestServer("sqlite");
    try {
      const { chat: a, recoveryKey } = await withBackups(t, "alice", PW_A);
      const aliceId = (await t.store.userByName("alice"))!.id;
      await a.client.backupNow();
      const old = (await t.store.getBackup(aliceId))!;
      await a.client.backupNow();
      const dir = a.profile.dir;
      const path = a.client.profilePath("alice");
      await a.client.close();
      const newest = (await t.store.getBackup(aliceId))!;
      // The local store is lost; the profile folder (and what it has seen) remains.
      for (const f of [path, `${path}-wal`, `${path}-shm`]) await Deno.remove(f).catch(() => {});

      await t.store.putBackup(aliceId, old);
      const c = await connectChat(t, new Profile(dir));
      await assert.rejects(
        c.client.login({
          username: "alice",
          password: PW_A,
          restore: () => Promise.resolve(true),
          recoveryKey,
        }),
        (e: Error) => e instanceof ChatError && /older than number/.test(e.message),
      );
      await c.client.close();

      await t.store.putBackup(aliceId, newest);
      const d = await connectChat(t, new Profile(dir));
      const r = await d.client.login({
        username: "alice",
        password: PW_A,
        restore: () => Promise.resolve(true),
        recoveryKey,
      });
      assert.equal(r.restored, true);
      await d.client.close();
    } finally {
      await t.stop();
    }
  });
});
