/**
 * Maps mysql2 failures to {@linkcode StoreError} codes, and says which failures are worth a
 * retry. The message names the operation and the server's error name, never the server's text:
 * MySQL quotes row data in it ("Duplicate entry 'alice' for key …"). The original error stays
 * as `cause`.
 *
 * @module
 */

import { StoreError, type StoreErrorCode } from "./store.ts";

/** The fields of a mysql2 error that the mapping reads. */
interface DriverError {
  code?: unknown;
  errno?: unknown;
  fatal?: unknown;
  message?: unknown;
}

// Server error numbers from https://mariadb.com/kb/en/mariadb-error-code-reference/ (the same
// numbers in MySQL 8 unless noted).
const ER_DUP_ENTRY = 1062;
const ER_DUP_ENTRY_WITH_KEY_NAME = 1586;
const ER_NO_REFERENCED_ROW = 1216;
const ER_NO_REFERENCED_ROW_2 = 1452;
const ER_DISK_FULL = 1021;
const ER_GET_ERRNO = 1030; // "Got error 28 from storage engine" is ENOSPC
const ER_RECORD_FILE_FULL = 1114;
const ER_LOCK_WAIT_TIMEOUT = 1205;
const ER_LOCK_DEADLOCK = 1213;

const UNAVAILABLE_ERRNOS = new Set([
  1040, // ER_CON_COUNT_ERROR: too many connections
  1044, // ER_DBACCESS_DENIED_ERROR
  1045, // ER_ACCESS_DENIED_ERROR
  1049, // ER_BAD_DB_ERROR
  1053, // ER_SERVER_SHUTDOWN
  1129, // ER_HOST_IS_BLOCKED
  1130, // ER_HOST_NOT_PRIVILEGED
  1317, // ER_QUERY_INTERRUPTED (KILL QUERY)
  1927, // ER_CONNECTION_KILLED (MariaDB)
  1969, // ER_STATEMENT_TIMEOUT (MariaDB)
  3024, // ER_QUERY_TIMEOUT (MySQL)
  4031, // ER_CLIENT_INTERACTION_TIMEOUT (MySQL)
  ER_LOCK_WAIT_TIMEOUT,
  ER_LOCK_DEADLOCK,
]);

/** Client-side codes for a connection that failed or went away. */
const CONNECTION_CODES = new Set([
  "PROTOCOL_CONNECTION_LOST",
  "PROTOCOL_SEQUENCE_TIMEOUT",
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
]);

/**
 * True when the connection is gone (dropped, killed, timed out, refused): the statement did not
 * run or its outcome is unknown, and the connection must not be reused.
 */
export function isConnectionLost(error: unknown): boolean {
  const e = error as DriverError;
  if (e?.fatal === true) return true;
  if (typeof e?.code === "string" && CONNECTION_CODES.has(e.code)) return true;
  if (e?.errno === 1927 || e?.errno === 1053 || e?.errno === 4031) return true;
  // mysql2 says this, without a code, of a connection a kill already closed.
  return typeof e?.message === "string" && /connection is in closed state/.test(e.message);
}

/** True when InnoDB rolled the transaction back to break a deadlock or a lock wait. */
export function isLockConflict(error: unknown): boolean {
  const errno = (error as DriverError)?.errno;
  return errno === ER_LOCK_DEADLOCK || errno === ER_LOCK_WAIT_TIMEOUT;
}

/** The store code for a mysql2 error. */
export function mysqlCode(error: unknown): StoreErrorCode {
  const e = error as DriverError;
  switch (e?.errno) {
    case ER_DUP_ENTRY:
    case ER_DUP_ENTRY_WITH_KEY_NAME:
      return "conflict";
    case ER_NO_REFERENCED_ROW:
    case ER_NO_REFERENCED_ROW_2:
      // Every foreign key points at users: the user the row names does not exist.
      return "not_found";
    case ER_DISK_FULL:
    case ER_RECORD_FILE_FULL:
      return "full";
    case ER_GET_ERRNO:
      if (typeof e.message === "string" && /\berror 28\b/.test(e.message)) return "full";
      return "io";
  }
  if (typeof e?.errno === "number" && UNAVAILABLE_ERRNOS.has(e.errno)) return "unavailable";
  if (isConnectionLost(error)) return "unavailable";
  if (typeof e?.message === "string" && /^Pool is closed/.test(e.message)) return "unavailable";
  return "io";
}

/** A StoreError for any failure thrown inside operation `op`; StoreErrors pass through. */
export function mapMysqlError(op: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const e = error as DriverError;
  const name = typeof e?.code === "string" ? e.code : (error as Error)?.name ?? "error";
  const errno = typeof e?.errno === "number" ? ` (errno ${e.errno})` : "";
  return new StoreError(mysqlCode(error), `${op}: mysql ${name}${errno}`, { cause: error });
}
