import assert from "node:assert/strict";
import { BUS_KINDS, sharedBusUrl } from "./support/bus_servers.ts";
import { TestCluster } from "./support/cluster.ts";
import { freshDatabase } from "./support/databases.ts";
import { freePort, PesuchatProcess, runPesuchat, setupUnattended } from "./support/process.ts";
import { mid, rawClient, signUp } from "./support/server.ts";

const te = new TextEncoder();
const td = new TextDecoder();

/** Every node's log, for assertions and for failure messages. */
function logs(c: TestCluster): string {
  return c.nodes.map((n, i) => `--- node ${i}\n${n?.output ?? "(stopped)"}`).join("\n");
}

for (const kind of BUS_KINDS) {
  Deno.test({
    name: `[${kind}] three nodes: live delivery across nodes both ways, offline delivery, takeover`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      // --sweep-seconds 0: no node ever looks at a queue unasked, so whatever arrives live came
      // through the bus.
      const c = await TestCluster.start(sharedBusUrl(kind), 3, ["--sweep-seconds", "0"]);
      const clients: { conn: { close(): void } }[] = [];
      try {
        const [p0, p1, p2] = c.ports as [number, number, number];
        const alice = await rawClient(p0);
        const bob = await rawClient(p1);
        clients.push(alice, bob);
        await signUp(alice, "alice");
        const bobKey = await signUp(bob, "bob");

        // Live, both ways: alice on node 0, bob on node 1.
        await alice.conn.request("send", { to: "bob", mid: mid(), body: te.encode("to bob") });
        await bob.waitFor(1);
        assert.equal(td.decode(bob.deliveries[0]!.body), "to bob");
        assert.equal(bob.deliveries[0]!.from, "alice");
        await bob.conn.request("send", { to: "alice", mid: mid(), body: te.encode("to alice") });
        await alice.waitFor(1);
        assert.equal(td.decode(alice.deliveries[0]!.body), "to alice");

        // Offline: carol signs up on node 2 and leaves; alice writes; carol logs in on node 1.
        const carol = await rawClient(p2);
        const carolKey = await signUp(carol, "carol");
        carol.conn.close();
        for (const t of ["c1", "c2", "c3"]) {
          await alice.conn.request("send", { to: "carol", mid: mid(), body: te.encode(t) });
        }
        const carol2 = await rawClient(p1);
        clients.push(carol2);
        await carol2.conn.request("login", { username: "carol", authKey: carolKey });
        await carol2.waitFor(3);
        assert.deepEqual(carol2.deliveries.map((d) => td.decode(d.body)), ["c1", "c2", "c3"]);

        // Takeover: bob logs in on node 2; node 1 tells his old connection why it goes.
        const bob2 = await rawClient(p2);
        clients.push(bob2);
        await bob2.conn.request("login", { username: "bob", authKey: bobKey });
        const reason = await bob.conn.closed;
        assert.equal(reason.code, "logged_in_elsewhere");
        await alice.conn.request("send", { to: "bob", mid: mid(), body: te.encode("to bob2") });
        await bob2.waitFor(1);
        assert.equal(td.decode(bob2.deliveries.at(-1)!.body), "to bob2");
        assert.equal(bob.deliveries.length, 1, "the old connection got nothing more");
        assert.doesNotMatch(logs(c), /internal error|delivery error/);
      } catch (e) {
        throw new Error(`${(e as Error).message}\n${logs(c)}`, { cause: e });
      } finally {
        for (const cl of clients) cl.conn.close();
        await c.stop();
      }
    },
  });
}

Deno.test({
  name: "a node without --bus refuses to start beside nodes on a bus, and the other way round",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const c = await TestCluster.start(sharedBusUrl("nats"), 2);
    let solo: PesuchatProcess | null = null;
    try {
      const run = (i: number, ...extra: string[]) =>
        runPesuchat(["server", "run", "--dir", c.dirs[i]!, "--port", String(freePort()), ...extra]);
      const alone = await run(1);
      assert.equal(alone.code, 1, alone.output);
      assert.match(alone.output, /not starting: nodes on a bus use this database/);
      assert.match(alone.output, /start this node with the same --bus/);

      // The nodes die without a goodbye: their claim on the database goes with them at once.
      await c.kill(0);
      await c.kill(1);
      solo = new PesuchatProcess([
        "server",
        "run",
        "--dir",
        c.dirs[0]!,
        "--port",
        String(freePort()),
      ]);
      await solo.waitFor(/listening/);
      const second = await run(1);
      assert.equal(second.code, 1, second.output);
      assert.match(second.output, /another node uses this database already/);
      const onBus = await run(1, "--bus", sharedBusUrl("nats"));
      assert.equal(onBus.code, 1, onBus.output);
      assert.match(onBus.output, /another node uses this database without a bus/);
    } finally {
      solo?.kill("SIGKILL");
      await solo?.done;
      await c.stop();
    }
  },
});

Deno.test("server run --bus refuses an SQLite server and a bus URL it cannot read", async () => {
  const dir = `${await Deno.makeTempDir({ prefix: "pesuchat_cluster_" })}/srv`;
  const setup = await setupUnattended(dir, freePort());
  assert.equal(setup.code, 0, setup.output);
  const sqlite = await runPesuchat([
    "server",
    "run",
    "--dir",
    dir,
    "--bus",
    "nats://127.0.0.1:4222",
  ]);
  assert.equal(sqlite.code, 1, sqlite.output);
  assert.match(sqlite.output, /--bus needs a MySQL or MariaDB database/);
  const bad = await runPesuchat(["server", "run", "--dir", dir, "--bus", "http://127.0.0.1:1"]);
  assert.equal(bad.code, 1, bad.output);
  assert.match(bad.output, /--bus: expected nats:\/\/HOST:PORT or redis:\/\/HOST:PORT/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "a node whose bus does not answer at start serves anyway and says so once, with the reason",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const db = await freshDatabase("mysql");
    const dir = `${await Deno.makeTempDir({ prefix: "pesuchat_cluster_" })}/srv`;
    const port = freePort();
    assert.equal((await setupUnattended(dir, port, "--db", db.location)).code, 0);
    const node = new PesuchatProcess([
      "server",
      "run",
      "--dir",
      dir,
      "--bus",
      `nats://127.0.0.1:${freePort()}`,
    ]);
    try {
      await node.waitFor(/listening/);
      const down = await node.waitFor(/bus down/);
      assert.match(down, /reason=.*refused/i);
      assert.match(down, /fallback="polling the database every 1 s"/);
      // Its own clients still chat.
      const a = await rawClient(port);
      const b = await rawClient(port);
      await signUp(a, "alice");
      await signUp(b, "bob");
      await a.conn.request("send", { to: "bob", mid: mid(), body: te.encode("still here") });
      await b.waitFor(1);
      a.conn.close();
      b.conn.close();
      assert.equal(node.lines.filter((l) => /bus down/.test(l)).length, 1, node.output);
    } finally {
      node.kill("SIGKILL");
      await node.done;
      await db.drop();
    }
  },
});
