import assert from "node:assert/strict";
import { join } from "node:path";
import { countRows, DATABASE_KINDS, freshDatabase } from "./support/databases.ts";
import { freePort, PesuchatProcess, setupUnattended } from "./support/process.ts";
import { mid, type RawClient, rawClient, signUp } from "./support/server.ts";

const te = new TextEncoder();

/** Logs `username` in again on a new connection and waits for every queued message. */
async function catchUp(port: number, username: string, authKey: Uint8Array): Promise<RawClient> {
  const c = await rawClient(port);
  const info = await c.conn.request("login", { username, authKey });
  await c.waitFor(info.pending, 60_000);
  return c;
}

for (const kind of DATABASE_KINDS) {
  Deno.test({
    name:
      `[${kind}] after SIGKILL in the middle of a stream of room sends, every recipient gets every acknowledged one, none twice, and the bodies drain`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const db = await freshDatabase(kind);
      const dir = join(await Deno.makeTempDir({ prefix: "pesuchat_room_crash_" }), "srv");
      const port = freePort();
      const setup = await setupUnattended(
        dir,
        port,
        ...(kind === "sqlite" ? [] : ["--db", db.location]),
      );
      assert.equal(setup.code, 0, setup.output);
      const location = kind === "sqlite" ? join(dir, "pesuchat.db") : db.location;
      let server = new PesuchatProcess(["server", "run", "--dir", dir]);
      try {
        await server.waitFor(/listening/);
        const a = await rawClient(port);
        await signUp(a, "alice");
        const keys = new Map<string, Uint8Array>();
        for (const name of ["bob", "carol"]) {
          const c = await rawClient(port);
          keys.set(name, await signUp(c, name));
          c.conn.close();
        }
        const sent = new Set<string>();
        const acked = new Set<string>();
        let stop = false;
        const inFlight = new Set<Promise<void>>();
        const sending = (async () => {
          for (let i = 0; i < 20_000 && !stop; i++) {
            const id = mid();
            sent.add(id.toHex());
            const p = a.conn.request("send_room", {
              to: ["bob", "carol"],
              mid: id,
              body: te.encode(`room ${i}`),
            }).then(() => void acked.add(id.toHex()), () => {});
            inFlight.add(p);
            p.finally(() => inFlight.delete(p));
            if (inFlight.size >= 100) await Promise.race(inFlight);
          }
        })();
        const deadline = Date.now() + 120_000;
        while (acked.size < 300) {
          assert.ok(Date.now() < deadline, `only ${acked.size} room sends acknowledged`);
          await new Promise((r) => setTimeout(r, 5));
        }
        server.kill("SIGKILL");
        await server.done;
        stop = true;
        await sending;
        await Promise.allSettled([...inFlight]);
        a.conn.close();
        const ackedAtKill = new Set(acked);

        server = new PesuchatProcess(["server", "run", "--dir", dir]);
        await server.waitFor(/listening/);
        const clients: RawClient[] = [];
        for (const [name, key] of keys) {
          const c = await catchUp(port, name, key);
          clients.push(c);
          const got = c.deliveries.map((d) => d.mid.toHex());
          assert.equal(new Set(got).size, got.length, `${name}: a room message delivered twice`);
          for (const k of ackedAtKill) {
            assert.ok(got.includes(k), `${name}: an acknowledged room message was lost`);
          }
          for (const k of got) assert.ok(sent.has(k));
          for (const d of c.deliveries) assert.equal(d.from, "alice");
        }
        // Both acknowledged everything: no body or reference is left behind.
        const drained = Date.now() + 60_000;
        const fresh = { kind, location, drop: () => Promise.resolve() };
        while (
          (await countRows(fresh, "room_bodies")) > 0 || (await countRows(fresh, "room_refs")) > 0
        ) {
          assert.ok(
            Date.now() < drained,
            "room bodies were left after every recipient acknowledged",
          );
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.equal(await countRows(fresh, "queue"), 0);
        for (const c of clients) c.conn.close();
      } finally {
        server.kill("SIGKILL");
        await server.done;
        await db.drop();
      }
    },
  });
}
