import assert from "node:assert/strict";
import { mapSqliteError, sqliteCode } from "./sqlite_errors.ts";
import { StoreError } from "./store.ts";

Deno.test("sqliteCode() maps SQLite result codes to store codes", () => {
  assert.equal(sqliteCode(2067), "conflict"); // SQLITE_CONSTRAINT_UNIQUE
  assert.equal(sqliteCode(1555), "conflict"); // SQLITE_CONSTRAINT_PRIMARYKEY
  assert.equal(sqliteCode(787), "not_found"); // SQLITE_CONSTRAINT_FOREIGNKEY
  assert.equal(sqliteCode(1299), "io"); // SQLITE_CONSTRAINT_NOTNULL
  assert.equal(sqliteCode(13), "full"); // SQLITE_FULL
  assert.equal(sqliteCode(5), "unavailable"); // SQLITE_BUSY
  assert.equal(sqliteCode(517), "unavailable"); // SQLITE_BUSY_SNAPSHOT
  assert.equal(sqliteCode(6), "unavailable"); // SQLITE_LOCKED
  assert.equal(sqliteCode(14), "unavailable"); // SQLITE_CANTOPEN
  assert.equal(sqliteCode(8), "io"); // SQLITE_READONLY
  assert.equal(sqliteCode(3338), "io"); // SQLITE_IOERR_FSYNC
  assert.equal(sqliteCode(11), "io"); // SQLITE_CORRUPT
});

Deno.test("mapSqliteError() names the operation, keeps the cause and passes StoreErrors on", () => {
  const cause = Object.assign(new Error("UNIQUE constraint failed: users.username"), {
    errcode: 2067,
    errstr: "constraint failed",
  });
  const e = mapSqliteError("createUser", cause);
  assert.equal(e.code, "conflict");
  assert.equal(e.message, "createUser: sqlite constraint failed (code 2067)");
  assert.equal(e.cause, cause);
  const own = new StoreError("not_found", "x");
  assert.equal(mapSqliteError("op", own), own);
  assert.equal(mapSqliteError("op", new TypeError("bad")).code, "io");
  assert.equal(
    mapSqliteError("op", Object.assign(new Error(), { code: "ERR_INVALID_STATE" })).code,
    "unavailable",
  );
});
