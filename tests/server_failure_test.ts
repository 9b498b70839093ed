import assert from "node:assert/strict";
import { ServerError } from "../client/connection.ts";
import { adminConnection } from "./support/databases.ts";
import { aliceAndOfflineBob, mid, rawClient, startTestServer } from "./support/server.ts";

Deno.test("[sqlite] a full database is reported to the sender and the log; acknowledged messages survive", async () => {
  // A database capped at 1 MiB fills after a few dozen 30 KiB messages.
  const t = await startTestServer("sqlite", undefined, { maxBytes: 1024 * 1024 });
  try {
    const { a, bobKey } = await aliceAndOfflineBob(t.port);
    const acked: string[] = [];
    let refusal: ServerError | null = null;
    for (let i = 0; i < 200 && !refusal; i++) {
      const id = mid();
      try {
        await a.conn.request("send", {
          to: "bob",
          mid: id,
          body: crypto.getRandomValues(new Uint8Array(30_000)),
        });
        acked.push(id.toHex());
      } catch (e) {
        refusal = e as ServerError;
      }
    }
    assert.ok(refusal, "the database never filled");
    assert.equal(refusal.code, "unavailable");
    assert.match(refusal.message, /database/);
    assert.ok(
      t.log.some((l) => l.includes("database error") && l.includes("code=full")),
      t.log.join("\n"),
    );
    assert.ok(acked.length > 0);
    // The server still serves, and every acknowledged message is delivered.
    await a.conn.request("ping", {});
    const b2 = await rawClient(t.port);
    await b2.conn.request("login", { username: "bob", authKey: bobKey });
    await b2.waitFor(acked.length);
    assert.deepEqual(b2.deliveries.map((d) => d.mid.toHex()), acked);
    a.conn.close();
    b2.conn.close();
  } finally {
    await t.stop();
  }
});

Deno.test("[mysql] dropped database connections lose no acknowledged message and deliver none twice", async () => {
  const t = await startTestServer("mysql");
  const admin = await adminConnection();
  try {
    const { a, bobKey } = await aliceAndOfflineBob(t.port);
    const dbName = new URL(t.db.location).pathname.slice(1);
    const acked = new Set<string>();
    const refused: string[] = [];
    let killed = 0;
    const sends: Promise<void>[] = [];
    for (let i = 0; i < 400; i++) {
      const id = mid();
      sends.push(
        a.conn.request("send", { to: "bob", mid: id, body: new TextEncoder().encode(`m${i}`) })
          .then(
            () => void acked.add(id.toHex()),
            (e) => void refused.push((e as ServerError).code),
          ),
      );
      if (i % 50 === 25) {
        // Drop every connection the server holds to its database.
        const [rows] = await admin.query(
          "SELECT id FROM information_schema.processlist WHERE db = ?",
          [dbName],
        );
        for (const r of rows as { id: number }[]) {
          await admin.query(`KILL CONNECTION ${r.id}`).then(() => killed++, () => {});
        }
      }
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, 2));
    }
    await Promise.all(sends);
    assert.ok(killed > 0, "no database connection was dropped");
    assert.ok(refused.every((c) => c === "unavailable"), `refusals: ${refused}`);
    assert.ok(acked.size > 0);
    const b2 = await rawClient(t.port);
    const info = await b2.conn.request("login", { username: "bob", authKey: bobKey });
    await b2.waitFor(info.pending);
    await new Promise((r) => setTimeout(r, 300));
    const got = b2.deliveries.map((d) => d.mid.toHex());
    assert.equal(new Set(got).size, got.length, "no message twice");
    for (const k of acked) assert.ok(got.includes(k), "an acknowledged message was lost");
    a.conn.close();
    b2.conn.close();
  } finally {
    await admin.end();
    await t.stop();
  }
});
