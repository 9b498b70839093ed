import assert from "node:assert/strict";
import { MAX_ROOM_RECIPIENTS } from "../protocol/limits.ts";
import { countRows, DATABASE_KINDS } from "./support/databases.ts";
import { mid, rawClient, signUp, startTestServer } from "./support/server.ts";

const te = new TextEncoder();
const TIME_LIMIT_MS = 60_000;

function timeLimit(): { signal: AbortSignal; done(): void } {
  const c = new AbortController();
  const t = setTimeout(() => c.abort(), TIME_LIMIT_MS);
  return { signal: c.signal, done: () => clearTimeout(t) };
}

for (const kind of DATABASE_KINDS) {
  Deno.test({
    name:
      `[${kind}] a room send is stored once, reaches each recipient online and offline, and goes with the last ack`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const limit = timeLimit();
      const t = await startTestServer(kind);
      try {
        const a = await rawClient(t.port);
        // Nobody acknowledges by themselves, so the counts below do not race the acks.
        const b = await rawClient(t.port, undefined, false);
        const c = await rawClient(t.port, undefined, false);
        const d = await rawClient(t.port, undefined, false);
        await signUp(a, "alice");
        await signUp(b, "bob");
        await signUp(c, "carol");
        const daveKey = await signUp(d, "dave");
        d.conn.close();
        const id = mid();
        const body = te.encode("one ciphertext for three");
        const res = await a.conn.request("send_room", {
          to: ["bob", "carol", "dave"],
          mid: id,
          body,
        });
        assert.deepEqual(res.unknown, []);
        await b.waitFor(1);
        await c.waitFor(1);
        for (const got of [b.deliveries[0]!, c.deliveries[0]!]) {
          assert.equal(got.from, "alice");
          assert.deepEqual(got.mid, id);
          assert.deepEqual(got.body, body);
          assert.equal(got.ts, res.ts);
        }
        assert.equal(await countRows(t.db, "room_bodies"), 1);
        assert.equal(await countRows(t.db, "room_refs"), 3);
        // Bob acknowledges; Carol has not yet, Dave is offline.
        b.conn.ack([b.deliveries[0]!.qid]);
        await waitUntil(async () => (await countRows(t.db, "room_refs")) === 2, limit.signal);
        c.conn.ack([c.deliveries[0]!.qid]);
        await waitUntil(async () => (await countRows(t.db, "room_refs")) === 1, limit.signal);
        assert.equal(await countRows(t.db, "room_bodies"), 1);
        const d2 = await rawClient(t.port);
        const info = await d2.conn.request("login", { username: "dave", authKey: daveKey });
        assert.equal(info.pending, 1);
        await d2.waitFor(1);
        assert.deepEqual(d2.deliveries[0]!.body, body);
        await waitUntil(async () => (await countRows(t.db, "room_bodies")) === 0, limit.signal);
        assert.equal(await countRows(t.db, "queue"), 0);
        for (const x of [a, b, c, d2]) x.conn.close();
      } finally {
        limit.done();
        await t.stop();
      }
    },
  });

  Deno.test({
    name:
      `[${kind}] a room send skips and names recipients without an account, and is refused whole when a queue is full`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const limit = timeLimit();
      const t = await startTestServer(kind, { maxPendingPerUser: 2 });
      try {
        const a = await rawClient(t.port);
        const b = await rawClient(t.port, undefined, false);
        await signUp(a, "alice");
        await signUp(b, "bob");
        b.conn.close();
        const res = await a.conn.request("send_room", {
          to: ["bob", "nobody", "bob"],
          mid: mid(),
          body: te.encode("x"),
        });
        assert.deepEqual(res.unknown, ["nobody"]);
        await assert.rejects(
          a.conn.request("send_room", { to: ["nobody"], mid: mid(), body: te.encode("x") }),
          (e: Error & { code?: string }) => e.code === "no_such_user",
        );
        await a.conn.request("send", { to: "bob", mid: mid(), body: te.encode("y") });
        await assert.rejects(
          a.conn.request("send_room", { to: ["alice", "bob"], mid: mid(), body: te.encode("z") }),
          (e: Error & { code?: string }) => e.code === "queue_full",
        );
        // Nothing of the refused send was queued, not even for Alice.
        assert.equal(await countRows(t.db, "room_bodies"), 1);
        assert.equal(await countRows(t.db, "queue"), 2);
        a.conn.close();
      } finally {
        limit.done();
        await t.stop();
      }
    },
  });
}

Deno.test({
  name:
    `a room send names at most MAX_ROOM_RECIPIENTS recipients (${MAX_ROOM_RECIPIENTS}), not one more`,
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const t = await startTestServer("sqlite");
    try {
      const a = await rawClient(t.port);
      await signUp(a, "alice");
      const names = (n: number) => Array.from({ length: n }, (_, i) => `ghost${i}`);
      // N passes the schema and reaches the relay, which finds none of them.
      await assert.rejects(
        a.conn.request("send_room", {
          to: names(MAX_ROOM_RECIPIENTS),
          mid: mid(),
          body: te.encode("x"),
        }),
        (e: Error & { code?: string }) => e.code === "no_such_user",
      );
      await assert.rejects(
        a.conn.request("send_room", {
          to: names(MAX_ROOM_RECIPIENTS + 1),
          mid: mid(),
          body: te.encode("x"),
        }),
        (e: Error & { code?: string }) => e.code !== "no_such_user",
      );
      a.conn.close();
    } finally {
      await t.stop();
    }
  },
});

async function waitUntil(ok: () => Promise<boolean>, signal: AbortSignal): Promise<void> {
  while (!(await ok())) {
    if (signal.aborted) throw new Error("timed out waiting for the database");
    await new Promise((r) => setTimeout(r, 50));
  }
}
