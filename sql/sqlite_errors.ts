/**
 * Maps `node:sqlite` failures to {@linkcode StoreError} codes. The message names the operation
 * and SQLite's result code, never row data; the original error stays as `cause`.
 *
 * @module
 */

import { StoreError, type StoreErrorCode } from "./store.ts";

// Primary and extended result codes from https://sqlite.org/rescode.html.
const SQLITE_BUSY = 5;
const SQLITE_LOCKED = 6;
const SQLITE_FULL = 13;
const SQLITE_CANTOPEN = 14;
const SQLITE_CONSTRAINT = 19;
const SQLITE_CONSTRAINT_FOREIGNKEY = 787;
const SQLITE_CONSTRAINT_PRIMARYKEY = 1555;
const SQLITE_CONSTRAINT_UNIQUE = 2067;

/** The store code for an SQLite extended result code. */
export function sqliteCode(errcode: number): StoreErrorCode {
  switch (errcode) {
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_PRIMARYKEY:
      return "conflict";
    case SQLITE_CONSTRAINT_FOREIGNKEY:
      // Every foreign key points at users: the user the row names does not exist.
      return "not_found";
  }
  switch (errcode & 0xff) {
    case SQLITE_FULL:
      return "full";
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_CANTOPEN:
      return "unavailable";
    case SQLITE_CONSTRAINT:
    default:
      return "io";
  }
}

/** A StoreError for any failure thrown inside operation `op`; StoreErrors pass through. */
export function mapSqliteError(op: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const e = error as { errcode?: unknown; errstr?: unknown; code?: unknown };
  if (typeof e?.errcode === "number") {
    const code = sqliteCode(e.errcode);
    const what = typeof e.errstr === "string" ? e.errstr : "error";
    return new StoreError(code, `${op}: sqlite ${what} (code ${e.errcode})`, { cause: error });
  }
  // node:sqlite reports a closed database as ERR_INVALID_STATE.
  if (e?.code === "ERR_INVALID_STATE") {
    return new StoreError("unavailable", `${op}: the database is closed`, { cause: error });
  }
  return new StoreError("io", `${op}: ${(error as Error)?.name ?? "unknown"} from sqlite`, {
    cause: error,
  });
}
