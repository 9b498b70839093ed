import assert from "node:assert/strict";
import { ServerError } from "../client/connection.ts";
import { explain } from "../client/tui/problems.ts";
import { DATABASE_UNAVAILABLE } from "../server/connection.ts";
import { adminConnection } from "./support/databases.ts";
import { rawClient, signUp, startTestServer } from "./support/server.ts";

Deno.test("[mysql] a database that fails under the server gives clients 'unavailable, try again', never 'internal'", async () => {
  const t = await startTestServer("mysql");
  try {
    const a = await rawClient(t.port);
    await signUp(a, "alice");
    // The database goes away under the running server (dropped by mistake, a failover gone wrong).
    const admin = await adminConnection();
    try {
      await admin.query(`DROP DATABASE \`${new URL(t.db.location).pathname.slice(1)}\``);
    } finally {
      await admin.end();
    }
    const e = await a.conn.request("backup_get", {}).then(() => null, (e) => e);
    assert.ok(e instanceof ServerError, String(e));
    assert.equal(e.code, "unavailable");
    assert.equal(e.message, DATABASE_UNAVAILABLE);
    const shown = explain(e);
    assert.equal(shown.message, "the server's database is unavailable, try again");
    assert.ok(t.log.some((l) => l.includes("database error")), t.log.join("\n"));
    a.conn.close();
  } finally {
    await t.stop();
  }
});
