import assert from "node:assert/strict";
import { ServerError } from "../client/connection.ts";
import {
  MAX_ONE_TIME_BUNDLES_PER_REQUESTER,
  MAX_ONE_TIME_PREKEYS_PER_UPLOAD,
  MAX_ONE_TIME_PREKEYS_STORED,
} from "../protocol/limits.ts";
import { randomBytes } from "../crypto/mod.ts";
import { fakePrekeys, mid, rawClient, signUp, startTestServer } from "./support/server.ts";

const te = new TextEncoder();

Deno.test("a connection gets its request burst, then rate_limited, and the server keeps it open", async () => {
  const t = await startTestServer("sqlite", { requestsPerSecond: 1, requestBurst: 20 });
  try {
    const a = await rawClient(t.port);
    const results = await Promise.allSettled(
      Array.from({ length: 21 }, () => a.conn.request("ping", {})),
    );
    assert.equal(results.filter((r) => r.status === "fulfilled").length, 20);
    const refused = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
    assert.equal(refused.length, 1);
    assert.equal((refused[0]!.reason as ServerError).code, "rate_limited");
    assert.equal(a.conn.isClosed, false);
    a.conn.close();
  } finally {
    await t.stop();
  }
});

Deno.test("sends to a user with maxPendingPerUser messages waiting are refused at N+1", async () => {
  const t = await startTestServer("sqlite", { maxPendingPerUser: 5 });
  try {
    const a = await rawClient(t.port);
    const b = await rawClient(t.port);
    await signUp(a, "alice");
    await signUp(b, "bob");
    b.conn.close();
    for (let i = 0; i < 5; i++) {
      await a.conn.request("send", { to: "bob", mid: mid(), body: te.encode(`m${i}`) });
    }
    await assert.rejects(
      a.conn.request("send", { to: "bob", mid: mid(), body: te.encode("one too many") }),
      (e) => e instanceof ServerError && e.code === "queue_full",
    );
    a.conn.close();
  } finally {
    await t.stop();
  }
});

Deno.test("prekey uploads are bounded per upload (N and N+1) and in total stored", async () => {
  const t = await startTestServer("sqlite");
  try {
    const a = await rawClient(t.port);
    await signUp(a, "alice"); // holds 5 one-time prekeys
    let id = 10_000;
    const keys = (n: number) =>
      Array.from({ length: n }, () => ({ id: id++, publicKey: randomBytes(32) }));
    const counts = await a.conn.request("prekeys_put", {
      oneTimePrekeys: keys(MAX_ONE_TIME_PREKEYS_PER_UPLOAD),
    });
    assert.equal(counts.oneTime, 5 + MAX_ONE_TIME_PREKEYS_PER_UPLOAD);
    // One more than an upload may carry: refused by the schema, and the connection is closed.
    const b = await rawClient(t.port);
    await signUp(b, "bob");
    await assert.rejects(
      b.conn.request("prekeys_put", { oneTimePrekeys: keys(MAX_ONE_TIME_PREKEYS_PER_UPLOAD + 1) }),
      (e) => e instanceof ServerError && e.code === "bad_message",
    );
    // Filling up to the stored limit works; one past it is refused.
    let held = counts.oneTime;
    while (held + MAX_ONE_TIME_PREKEYS_PER_UPLOAD <= MAX_ONE_TIME_PREKEYS_STORED) {
      held = (await a.conn.request("prekeys_put", {
        oneTimePrekeys: keys(MAX_ONE_TIME_PREKEYS_PER_UPLOAD),
      })).oneTime;
    }
    held = (await a.conn.request("prekeys_put", {
      oneTimePrekeys: keys(MAX_ONE_TIME_PREKEYS_STORED - held),
    })).oneTime;
    assert.equal(held, MAX_ONE_TIME_PREKEYS_STORED);
    await assert.rejects(
      a.conn.request("prekeys_put", { oneTimePrekeys: keys(1) }),
      (e) => e instanceof ServerError && e.code === "not_allowed",
    );
    a.conn.close();
  } finally {
    await t.stop();
  }
});

Deno.test("one requester gets MAX_ONE_TIME_BUNDLES_PER_REQUESTER bundles with one-time keys, then none; others still do", async () => {
  const t = await startTestServer("sqlite");
  try {
    const n = MAX_ONE_TIME_BUNDLES_PER_REQUESTER;
    const [a, b, c] = await Promise.all([0, 1, 2].map(() => rawClient(t.port)));
    await signUp(a!, "mallory");
    await signUp(c!, "carol");
    await b!.conn.request("signup", {
      username: "bob",
      fullName: "Bob",
      authKey: randomBytes(32),
      salt: randomBytes(16),
      kdf: { memoryKiB: 65536, passes: 3, parallelism: 4 },
      identity: randomBytes(129),
      prekeys: fakePrekeys(n + 5, n + 5),
    });
    for (let i = 1; i <= n; i++) {
      const got = await a!.conn.request("bundle", { username: "bob" });
      assert.ok(got.oneTimePrekey, `bundle ${i} of ${n} has a one-time key`);
      assert.equal(got.kyberLastResort, false);
    }
    const past = await a!.conn.request("bundle", { username: "bob" });
    assert.equal(past.oneTimePrekey, null, "bundle N+1 has no one-time X25519 key");
    assert.equal(past.kyberLastResort, true, "bundle N+1 carries the last-resort ML-KEM key");
    const bob = (await t.store.userByName("bob"))!;
    assert.deepEqual(await t.store.prekeyCounts(bob.id), { oneTime: 5, kyber: 5 });
    const other = await c!.conn.request("bundle", { username: "bob" });
    assert.ok(other.oneTimePrekey, "another requester still gets a one-time key");
    for (const x of [a, b, c]) x!.conn.close();
  } finally {
    await t.stop();
  }
});
