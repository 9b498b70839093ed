import assert from "node:assert/strict";
import { isConnectionLost, isLockConflict, mapMysqlError, mysqlCode } from "./mysql_errors.ts";

const err = (fields: Record<string, unknown>) => Object.assign(new Error("x"), fields);

Deno.test("mysqlCode() maps server error numbers to store codes", () => {
  assert.equal(mysqlCode(err({ errno: 1062, code: "ER_DUP_ENTRY" })), "conflict");
  assert.equal(mysqlCode(err({ errno: 1452 })), "not_found");
  assert.equal(mysqlCode(err({ errno: 1114, code: "ER_RECORD_FILE_FULL" })), "full");
  assert.equal(mysqlCode(err({ errno: 1021 })), "full");
  assert.equal(
    mysqlCode(Object.assign(new Error('Got error 28 "No space left" from storage engine'), {
      errno: 1030,
    })),
    "full",
  );
  assert.equal(mysqlCode(err({ errno: 1030 })), "io");
  assert.equal(mysqlCode(err({ errno: 1045 })), "unavailable");
  assert.equal(mysqlCode(err({ errno: 1213 })), "unavailable");
  assert.equal(mysqlCode(err({ errno: 1146 })), "io"); // no such table
});

Deno.test("isConnectionLost() recognises drops, refusals, kills and timeouts", () => {
  assert.ok(isConnectionLost(err({ code: "PROTOCOL_CONNECTION_LOST", fatal: true })));
  assert.ok(isConnectionLost(err({ code: "ECONNREFUSED" })));
  assert.ok(isConnectionLost(err({ code: "PROTOCOL_SEQUENCE_TIMEOUT" })));
  assert.ok(isConnectionLost(err({ errno: 1927 })));
  assert.ok(
    isConnectionLost(new Error("Can't add new command when connection is in closed state")),
  );
  assert.ok(!isConnectionLost(err({ errno: 1062 })));
  assert.equal(mysqlCode(err({ code: "ECONNRESET" })), "unavailable");
});

Deno.test("isLockConflict() is true for deadlocks and lock wait timeouts only", () => {
  assert.ok(isLockConflict(err({ errno: 1213 })));
  assert.ok(isLockConflict(err({ errno: 1205 })));
  assert.ok(!isLockConflict(err({ errno: 1062 })));
});

Deno.test("mapMysqlError() never repeats the server's text, which quotes row data", () => {
  const cause = Object.assign(new Error("Duplicate entry 'alice' for key 'users_username'"), {
    errno: 1062,
    code: "ER_DUP_ENTRY",
  });
  const e = mapMysqlError("createUser", cause);
  assert.equal(e.message, "createUser: mysql ER_DUP_ENTRY (errno 1062)");
  assert.ok(!e.message.includes("alice"));
  assert.equal(e.cause, cause);
});
