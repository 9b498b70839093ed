import assert from "node:assert/strict";
import { DEFAULT_MYSQL_PORT, MysqlLocation, parseLocation } from "./location.ts";
import { StoreError } from "./store.ts";

Deno.test("parseLocation() reads a mysql:// URL, decoding user, password and database", () => {
  const loc = parseLocation("mysql://chat%40app:p%40ss%3Aw0rd@db.example:3307/pesu_chat");
  assert.ok(loc instanceof MysqlLocation);
  assert.equal(loc.host, "db.example");
  assert.equal(loc.port, 3307);
  assert.equal(loc.user, "chat@app");
  assert.equal(loc.revealPassword(), "p@ss:w0rd");
  assert.equal(loc.database, "pesu_chat");
});

Deno.test("parseLocation() defaults the port and accepts mariadb:// and IPv6 hosts", () => {
  const loc = parseLocation("mariadb://u:p@[::1]/db") as MysqlLocation;
  assert.equal(loc.port, DEFAULT_MYSQL_PORT);
  assert.equal(loc.host, "::1");
});

Deno.test("parseLocation() treats anything else as an SQLite path", () => {
  assert.deepEqual(parseLocation("./data/pesuchat.db"), {
    kind: "sqlite",
    path: "./data/pesuchat.db",
  });
  assert.deepEqual(parseLocation(":memory:"), { kind: "sqlite", path: ":memory:" });
});

Deno.test("parseLocation() refuses a URL without a database or with options, unrepeated", () => {
  for (
    const url of [
      "mysql://u:hunter2@h:3306/",
      "mysql://u:hunter2@h/db?ssl=1",
      "mysql://u:hunter2@h:99999/db",
    ]
  ) {
    assert.throws(() => parseLocation(url), (e: unknown) => {
      assert.ok(e instanceof StoreError);
      assert.equal(e.code, "unavailable");
      assert.ok(!e.message.includes("hunter2"), e.message);
      return true;
    });
  }
});

Deno.test("MysqlLocation prints its password as [redacted]", () => {
  const loc = parseLocation("mysql://u:hunter2@h:3306/db") as MysqlLocation;
  assert.equal(String(loc), "mysql://u:[redacted]@h:3306/db");
  assert.equal(JSON.stringify({ loc }), '{"loc":"mysql://u:[redacted]@h:3306/db"}');
  assert.equal(Deno.inspect(loc), "MysqlLocation(mysql://u:[redacted]@h:3306/db)");
  assert.ok(!Deno.inspect({ loc }, { depth: 5 }).includes("hunter2"));
});
