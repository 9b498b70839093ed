import assert from "node:assert/strict";
import { ServerError } from "../client/connection.ts";
import { DATABASE_KINDS } from "./support/databases.ts";
import { aliceAndOfflineBob, mid, rawClient, signUp, startTestServer } from "./support/server.ts";

const te = new TextEncoder();
const td = new TextDecoder();

for (const kind of DATABASE_KINDS) {
  Deno.test(`[${kind}] two clients exchange messages both ways while online; the sender is the session's user`, async () => {
    const t = await startTestServer(kind);
    try {
      const a = await rawClient(t.port);
      const b = await rawClient(t.port);
      await signUp(a, "alice");
      await signUp(b, "bob");
      const r = await a.conn.request("send", { to: "bob", mid: mid(), body: te.encode("hi bob") });
      assert.ok(r.qid > 0);
      await b.waitFor(1);
      assert.equal(b.deliveries[0]!.from, "alice");
      assert.equal(td.decode(b.deliveries[0]!.body), "hi bob");
      await b.conn.request("send", { to: "ALICE", mid: mid(), body: te.encode("hi alice") });
      await a.waitFor(1);
      assert.equal(a.deliveries[0]!.from, "bob");
      assert.equal(td.decode(a.deliveries[0]!.body), "hi alice");
      await assert.rejects(
        a.conn.request("send", { to: "nobody_at_all", mid: mid(), body: te.encode("x") }),
        (e) => e instanceof ServerError && e.code === "no_such_user",
      );
      a.conn.close();
      b.conn.close();
    } finally {
      await t.stop();
    }
  });

  Deno.test(`[${kind}] 1,000 messages queued for an offline user arrive in order, once, and the queue empties`, async () => {
    const t = await startTestServer(kind);
    try {
      const { a, bobKey } = await aliceAndOfflineBob(t.port);
      const n = 1000;
      const sent = await Promise.allSettled(
        Array.from(
          { length: n },
          (_, i) => a.conn.request("send", { to: "bob", mid: mid(), body: te.encode(`m${i}`) }),
        ),
      );
      const refused = sent.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
      assert.equal(refused.length, 0, `refused: ${refused[0]?.reason}\n${t.log.join("\n")}`);
      const bobId = (await t.store.userByName("bob"))!.id;
      assert.equal(await t.store.pendingCount(bobId), n, t.log.join("\n"));
      const b2 = await rawClient(t.port);
      const info = await b2.conn.request("login", { username: "bob", authKey: bobKey });
      assert.equal(info.pending, n, t.log.join("\n"));
      await b2.waitFor(n);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(b2.deliveries.length, n, "no message twice");
      b2.deliveries.forEach((d, i) => assert.equal(td.decode(d.body), `m${i}`));
      const qids = b2.deliveries.map((d) => d.qid);
      assert.deepEqual(qids, [...qids].sort((x, y) => x - y));
      // Acks are applied by the group committer; wait for the queue to drain.
      for (let i = 0; i < 50 && (await t.store.pendingCount(bobId)) > 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(await t.store.pendingCount(bobId), 0);
      a.conn.close();
      b2.conn.close();
    } finally {
      await t.stop();
    }
  });

  Deno.test(`[${kind}] a delivery that is not acknowledged is delivered again on the next login`, async () => {
    const t = await startTestServer(kind);
    try {
      const a = await rawClient(t.port);
      await signUp(a, "alice");
      const b = await rawClient(t.port, undefined, false);
      const bobKey = await signUp(b, "bob");
      const id = mid();
      await a.conn.request("send", { to: "bob", mid: id, body: te.encode("once") });
      await b.waitFor(1);
      b.conn.close();
      const b2 = await rawClient(t.port, undefined, true);
      await b2.conn.request("login", { username: "bob", authKey: bobKey });
      await b2.waitFor(1);
      assert.deepEqual(
        b2.deliveries[0]!.mid,
        id,
        "same message id, so the client can de-duplicate",
      );
      await new Promise((r) => setTimeout(r, 300));
      b2.conn.close();
      const b3 = await rawClient(t.port);
      await b3.conn.request("login", { username: "bob", authKey: bobKey });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(b3.deliveries.length, 0, "acknowledged messages are gone");
      a.conn.close();
      b3.conn.close();
    } finally {
      await t.stop();
    }
  });

  Deno.test(`[${kind}] a retried send with the same message id is queued once`, async () => {
    const t = await startTestServer(kind);
    try {
      const { a, bobKey } = await aliceAndOfflineBob(t.port);
      const id = mid();
      const r1 = await a.conn.request("send", { to: "bob", mid: id, body: te.encode("x") });
      const r2 = await a.conn.request("send", { to: "bob", mid: id, body: te.encode("x") });
      assert.equal(r1.qid, r2.qid);
      const b2 = await rawClient(t.port);
      await b2.conn.request("login", { username: "bob", authKey: bobKey });
      await b2.waitFor(1);
      await new Promise((r) => setTimeout(r, 200));
      assert.equal(b2.deliveries.length, 1);
      a.conn.close();
      b2.conn.close();
    } finally {
      await t.stop();
    }
  });

  Deno.test(`[${kind}] 50 concurrent bundle fetches never hand out a one-time prekey twice`, async () => {
    const t = await startTestServer(kind);
    try {
      const b = await rawClient(t.port);
      await signUp(b, "bob"); // uploads 5 one-time X25519 and 3 one-time ML-KEM prekeys
      const fetchers = await Promise.all(Array.from({ length: 5 }, () => rawClient(t.port)));
      await Promise.all(fetchers.map((f, i) => signUp(f, `fetcher${i}`)));
      const bundles = await Promise.all(
        Array.from(
          { length: 50 },
          (_, i) => fetchers[i % 5]!.conn.request("bundle", { username: "bob" }),
        ),
      );
      const oneTime = bundles.map((x) => x.oneTimePrekey?.id).filter((x) => x !== undefined);
      assert.equal(oneTime.length, 5);
      assert.equal(new Set(oneTime).size, 5);
      const kyberOneTime = bundles.filter((x) => !x.kyberLastResort).map((x) => x.kyberPrekey.id);
      assert.equal(kyberOneTime.length, 3);
      assert.equal(new Set(kyberOneTime).size, 3);
      assert.equal(bundles.filter((x) => x.kyberLastResort).length, 47);
      const counts = await b.conn.request("prekey_count", {});
      assert.deepEqual(counts, { oneTime: 0, kyber: 0 });
      for (const f of fetchers) f.conn.close();
      b.conn.close();
    } finally {
      await t.stop();
    }
  });
}
