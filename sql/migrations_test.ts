import assert from "node:assert/strict";
import {
  checkMigrations,
  type Migration,
  MYSQL_MIGRATIONS,
  pendingMigrations,
  SCHEMA_VERSION,
  SQLITE_MIGRATIONS,
} from "./migrations.ts";
import { StoreError } from "./store.ts";

Deno.test("SQLITE_MIGRATIONS and MYSQL_MIGRATIONS have the same versions, 1 to SCHEMA_VERSION", () => {
  checkMigrations(SQLITE_MIGRATIONS);
  checkMigrations(MYSQL_MIGRATIONS);
  assert.deepEqual(SQLITE_MIGRATIONS.map((m) => m.version), MYSQL_MIGRATIONS.map((m) => m.version));
  assert.equal(SQLITE_MIGRATIONS.length, SCHEMA_VERSION);
});

Deno.test("migrations never drop or truncate anything", () => {
  for (const m of [...SQLITE_MIGRATIONS, ...MYSQL_MIGRATIONS]) {
    for (const sql of m.statements) {
      assert.doesNotMatch(sql, /\b(DROP|TRUNCATE)\b|\bDELETE\s+FROM\b/i, `migration ${m.version}`);
    }
  }
});

Deno.test("MySQL migrations can run again after a partial failure (IF NOT EXISTS)", () => {
  for (const m of MYSQL_MIGRATIONS) {
    for (const sql of m.statements) {
      if (/^\s*CREATE TABLE/i.test(sql)) assert.match(sql, /CREATE TABLE IF NOT EXISTS/i);
    }
  }
});

Deno.test("checkMigrations() refuses a gap in the versions", () => {
  const list: Migration[] = [
    { version: 1, name: "a", statements: [] },
    { version: 3, name: "c", statements: [] },
  ];
  assert.throws(() => checkMigrations(list), RangeError);
});

Deno.test("pendingMigrations() returns the steps after the current version", () => {
  const list: Migration[] = [1, 2, 3].map((v) => ({ version: v, name: `${v}`, statements: [] }));
  assert.deepEqual(pendingMigrations(0, list).map((m) => m.version), [1, 2, 3]);
  assert.deepEqual(pendingMigrations(2, list).map((m) => m.version), [3]);
  assert.deepEqual(pendingMigrations(3, list), []);
});

Deno.test("pendingMigrations() refuses a database newer than the program with schema", () => {
  assert.throws(() => pendingMigrations(SCHEMA_VERSION + 1, SQLITE_MIGRATIONS), (e: unknown) => {
    assert.ok(e instanceof StoreError);
    assert.equal(e.code, "schema");
    return true;
  });
});
