/**
 * Statement helpers for the MySQL store: every statement goes through mysql2's `execute`
 * (server-side prepared statements, cached per connection) with a timeout, and byte parameters
 * travel as BLOBs.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { ExecuteValues, PoolConnection, ResultSetHeader, RowDataPacket } from "mysql2/promise";
import type { Row } from "./rows.ts";

/** A statement parameter. */
export type Param = number | string | Uint8Array | null;

/**
 * Milliseconds a statement may run before the connection is given up as lost. Longer than
 * InnoDB's lock wait, so a lock wait fails on the server's terms first.
 */
export const STATEMENT_TIMEOUT_MS = 30_000;

/**
 * mysql2 sends a Buffer as a BLOB but coerces any other Uint8Array through a string; a view
 * (no copy) over the same bytes gets the BLOB path.
 */
function toDriver(p: Param): ExecuteValues {
  if (p instanceof Uint8Array && !Buffer.isBuffer(p)) {
    return Buffer.from(p.buffer, p.byteOffset, p.byteLength);
  }
  return p;
}

/** Runs a statement that returns no rows (INSERT, UPDATE, DELETE, REPLACE). */
export async function run(
  c: PoolConnection,
  sql: string,
  params: Param[] = [],
): Promise<ResultSetHeader> {
  const [result] = await c.execute<ResultSetHeader>(
    { sql, timeout: STATEMENT_TIMEOUT_MS },
    params.map(toDriver),
  );
  return result;
}

/** Runs a SELECT and returns its rows. */
export async function runRows(
  c: PoolConnection,
  sql: string,
  params: Param[] = [],
): Promise<Row[]> {
  const [rows] = await c.execute<RowDataPacket[]>(
    { sql, timeout: STATEMENT_TIMEOUT_MS },
    params.map(toDriver),
  );
  return rows as Row[];
}
