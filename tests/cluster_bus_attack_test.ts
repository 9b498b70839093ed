import assert from "node:assert/strict";
import { join } from "node:path";
import { HmacKey } from "../crypto/mod.ts";
import { openBus } from "../server/bus/mod.ts";
import { clusterSubject } from "../server/cluster_join.ts";
import { openKeystore } from "../server/keystore.ts";
import { NoticeSeal } from "../server/notice_seal.ts";
import { openStore, parseLocation } from "../sql/mod.ts";
import type { MysqlLocation } from "../sql/mod.ts";
import { sharedBusUrl, until } from "./support/bus_servers.ts";
import { TestCluster } from "./support/cluster.ts";
import { rawClient, signUp } from "./support/server.ts";

const enc = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

Deno.test({
  name:
    "notices forged on the bus by someone without the keystore are ignored; replays too old are dropped",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const c = await TestCluster.start(sharedBusUrl("nats"), 2);
    const secrets = await openKeystore(
      await Deno.readTextFile(join(c.dirs[0]!, "keystore.json")),
      null,
    );
    const database = (parseLocation(c.db.location) as MysqlLocation).database;
    const subject = await clusterSubject(secrets.serverKey.publicKey, database);
    const seal = await NoticeSeal.fromPepper(await HmacKey.import(secrets.pepper));
    const bus = openBus(sharedBusUrl("nats"), subject, { message() {}, state() {} });
    const [bob, carol, dave] = await Promise.all([0, 0, 0].map(() => rawClient(c.ports[0]!)));
    try {
      await signUp(bob!, "bob");
      await signUp(carol!, "carol");
      await signUp(dave!, "dave");
      const store = await openStore(c.db.location);
      const id = async (name: string) => (await store.userByName(name))!.id;
      const [bobId, carolId, daveId] = [await id("bob"), await id("carol"), await id("dave")];
      await store.close();
      await until(() => bus.up, "the bus");
      const login = (u: number, ts = Date.now()) => ({ t: "login", n: "x", ts, u, at: ts });
      // Unsealed, sealed under another key, and an old sealed one replayed: none may act.
      const forger = await NoticeSeal.fromPepper(await HmacKey.import(new Uint8Array(32)));
      bus.publish(enc(login(bobId)));
      bus.publish(await forger.seal(enc(login(bobId))));
      bus.publish(await seal.seal(enc(login(daveId, Date.now() - 10 * 60_000))));
      // Then a genuine one on the same connection: once it has acted, the others were read.
      bus.publish(await seal.seal(enc(login(carolId))));
      assert.equal((await carol!.conn.closed).code, "logged_in_elsewhere");
      assert.equal(bob!.conn.isClosed, false, "a forged notice disconnected bob");
      assert.equal(dave!.conn.isClosed, false, "a replayed notice disconnected dave");
      await c.nodes[0]!.waitFor(/bus notices dropped node=x reason=.*check the clocks/);
    } finally {
      for (const r of [bob, carol, dave]) r?.conn.close();
      await bus.close();
      await c.stop();
    }
  },
});
