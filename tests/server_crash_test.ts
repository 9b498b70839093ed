import assert from "node:assert/strict";
import { join } from "node:path";
import { DATABASE_KINDS, freshDatabase } from "./support/databases.ts";
import { freePort, PesuchatProcess, setupUnattended } from "./support/process.ts";
import { MAX_UNACKED_DELIVERIES } from "../protocol/limits.ts";
import { aliceAndOfflineBob, mid, rawClient } from "./support/server.ts";

const te = new TextEncoder();

for (const kind of DATABASE_KINDS) {
  Deno.test(`[${kind}] after SIGKILL in the middle of a stream of sends, every acknowledged message is delivered, none twice`, async () => {
    const db = await freshDatabase(kind);
    const dir = join(await Deno.makeTempDir({ prefix: "pesuchat_crash_" }), "srv");
    const port = freePort();
    const dbFlag = kind === "sqlite" ? [] : ["--db", db.location];
    const setup = await setupUnattended(dir, port, ...dbFlag);
    assert.equal(setup.code, 0, setup.output);
    let server = new PesuchatProcess(["server", "run", "--dir", dir]);
    try {
      await server.waitFor(/listening/);
      const { a, bobKey } = await aliceAndOfflineBob(port);

      const sent = new Set<string>();
      const acked = new Set<string>();
      let stop = false;
      const inFlight = new Set<Promise<void>>();
      const sending = (async () => {
        for (let i = 0; i < 20_000 && !stop; i++) {
          const id = mid();
          const key = id.toHex();
          sent.add(key);
          const p = a.conn.request("send", { to: "bob", mid: id, body: te.encode(`n${i}`) }).then(
            () => void acked.add(key),
            () => {},
          );
          inFlight.add(p);
          p.finally(() => inFlight.delete(p));
          if (inFlight.size >= 100) await Promise.race(inFlight);
        }
      })();
      while (acked.size < 500) await new Promise((r) => setTimeout(r, 5));
      server.kill("SIGKILL");
      await server.done;
      stop = true;
      await sending;
      await Promise.allSettled([...inFlight]);
      a.conn.close();
      const ackedAtKill = new Set(acked);
      assert.ok(ackedAtKill.size >= 500);

      server = new PesuchatProcess(["server", "run", "--dir", dir]);
      await server.waitFor(/listening/);
      // Bob acknowledges nothing until he has counted: the server starts delivering as it
      // accepts the login, before it counts what is queued, so a client that acknowledged at
      // once could have a message deleted before the count ("503 queued, 504 acknowledged"
      // with nothing lost). Everything queued fits in one window of unacknowledged deliveries.
      const b2 = await rawClient(port, undefined, false);
      const info = await b2.conn.request("login", { username: "bob", authKey: bobKey });
      assert.ok(info.pending < MAX_UNACKED_DELIVERIES, `${info.pending} queued`);
      assert.ok(
        info.pending >= ackedAtKill.size,
        `${info.pending} queued, ${ackedAtKill.size} acknowledged`,
      );
      await b2.waitFor(info.pending, 60_000);
      b2.conn.ack(b2.deliveries.map((d) => d.qid));
      await new Promise((r) => setTimeout(r, 300));
      const got = b2.deliveries.map((d) => d.mid.toHex());
      assert.equal(new Set(got).size, got.length, "no message delivered twice");
      for (const k of ackedAtKill) assert.ok(got.includes(k), "an acknowledged message was lost");
      for (const k of got) assert.ok(sent.has(k));
      b2.conn.close();
    } finally {
      server.kill("SIGKILL");
      await server.done;
      await db.drop();
    }
  });
}
