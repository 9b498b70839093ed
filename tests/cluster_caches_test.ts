import assert from "node:assert/strict";
import { ServerError } from "../client/connection.ts";
import { randomBytes } from "../crypto/mod.ts";
import { MAX_FAILED_LOGINS_PER_ACCOUNT_ADDRESS } from "../protocol/limits.ts";
import { sharedBusUrl } from "./support/bus_servers.ts";
import { TestCluster } from "./support/cluster.ts";
import { mid, type RawClient, rawClient, signUp } from "./support/server.ts";

const te = new TextEncoder();

/** The error code a request fails with, or "ok". */
async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return "ok";
  } catch (e) {
    if (e instanceof ServerError) return e.code;
    throw e;
  }
}

/**
 * Waits until every notice node `from` sent so far has reached `to`'s node: a message from
 * `from` arrives at `to`, and a node's notices travel in order on its one bus connection.
 */
async function flush(from: RawClient, to: RawClient, toName: string): Promise<void> {
  const n = to.deliveries.length;
  await from.conn.request("send", { to: toName, mid: mid(), body: te.encode("flush") });
  await to.waitFor(n + 1);
}

Deno.test({
  name: "nodes agree: login failures, deleted usernames and pending counts are shared",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const c = await TestCluster.start(sharedBusUrl("nats"), 3, [], { maxPendingPerUser: 5 });
    const clients: RawClient[] = [];
    const client = async (node: number) => {
      const r = await rawClient(c.ports[node]!);
      clients.push(r);
      return r;
    };
    try {
      const a0 = await client(0);
      const b1 = await client(1);
      const w2 = await client(2);
      await signUp(a0, "alice");
      await signUp(b1, "bob");
      await signUp(w2, "watcher");

      // Login failures for one account on nodes 0 and 1 lock it on node 2 too (they are counted
      // in the database).
      const victim = await client(0);
      const victimKey = await signUp(victim, "victim");
      victim.conn.close();
      const wrong = () => randomBytes(32);
      const tries0 = await client(0);
      for (let i = 0; i < MAX_FAILED_LOGINS_PER_ACCOUNT_ADDRESS - 1; i++) {
        assert.equal(
          await outcome(tries0.conn.request("login", { username: "victim", authKey: wrong() })),
          "bad_credentials",
        );
      }
      const tries1 = await client(1);
      assert.equal(
        await outcome(tries1.conn.request("login", { username: "victim", authKey: wrong() })),
        "bad_credentials",
      );
      const onNode2 = await client(2);
      assert.equal(
        await outcome(onNode2.conn.request("login", { username: "victim", authKey: victimKey })),
        "rate_limited",
        "the lock set by failures on other nodes holds on node 2",
      );

      // A deleted account leaves every node's username cache: node 1 knew "dave" by an id that
      // no longer exists, and sends to the new "dave" after he signs up again on node 2.
      const d0 = await client(0);
      const daveKey = await signUp(d0, "dave");
      assert.equal(
        await outcome(b1.conn.request("send", { to: "dave", mid: mid(), body: te.encode("x") })),
        "ok",
      );
      await d0.conn.request("delete_account", { authKey: daveKey });
      await flush(a0, b1, "bob");
      const d2 = await client(2);
      await signUp(d2, "dave");
      await b1.conn.request("send", { to: "dave", mid: mid(), body: te.encode("new dave") });
      await d2.waitFor(1);

      // Pending counts: messages queued on two nodes count together against the limit.
      const off = await client(1);
      await signUp(off, "offline");
      off.conn.close();
      for (let i = 0; i < 3; i++) {
        await a0.conn.request("send", { to: "offline", mid: mid(), body: te.encode("a") });
      }
      for (let i = 0; i < 2; i++) {
        await b1.conn.request("send", { to: "offline", mid: mid(), body: te.encode("b") });
      }
      await flush(b1, a0, "alice");
      assert.equal(
        await outcome(a0.conn.request("send", { to: "offline", mid: mid(), body: te.encode("c") })),
        "queue_full",
      );
    } finally {
      for (const cl of clients) cl.conn.close();
      await c.stop();
    }
  },
});
