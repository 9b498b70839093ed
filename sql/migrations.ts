/**
 * Schema migrations: what a migration is, and which ones a database needs. Each dialect keeps its
 * own list ({@linkcode SQLITE_MIGRATIONS}, {@linkcode MYSQL_MIGRATIONS}) with the same versions.
 * The applied version lives in a `schema_version` table (one row per applied migration).
 *
 * Rules for adding a migration: append, never edit or reorder a released one; never drop a table
 * or column that holds data (add, copy, then leave the old one); write the MySQL statements so
 * they can run again after a partial failure, because MySQL commits DDL implicitly and cannot
 * roll a migration back.
 *
 * @module
 */

import { StoreError } from "./store.ts";
import { SQLITE_MIGRATIONS } from "./migrations_sqlite.ts";
import { MYSQL_MIGRATIONS } from "./migrations_mysql.ts";

export { MYSQL_MIGRATIONS, SQLITE_MIGRATIONS };

/** One schema step. */
export interface Migration {
  /** 1, 2, 3, …: the list index plus one. */
  version: number;
  /** What the step does, for logs. */
  name: string;
  /** Statements run in order (inside one transaction on SQLite). */
  statements: readonly string[];
}

/** The schema version this program writes: the last migration of each list. */
export const SCHEMA_VERSION: number = SQLITE_MIGRATIONS.length;

/** Throws unless the list's versions run 1, 2, 3, … without a gap. */
export function checkMigrations(list: readonly Migration[]): void {
  list.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new RangeError(`migration at index ${i}: expected version ${i + 1}, got ${m.version}`);
    }
  });
}

/**
 * The migrations a database at version `current` still needs, in order. Throws
 * `StoreError("schema")` when the database is newer than this program: running on it could
 * misread or damage data written by the newer version.
 */
export function pendingMigrations(current: number, list: readonly Migration[]): Migration[] {
  if (current > list.length) {
    throw new StoreError(
      "schema",
      `migrate: the database schema is version ${current}, newer than this program's ` +
        `${list.length}; upgrade pesuchat`,
    );
  }
  return list.slice(current);
}
