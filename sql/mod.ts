/**
 * The server's storage: one {@linkcode Store} contract, on SQLite (the embedded default) or
 * MySQL/MariaDB (for several server nodes sharing one database).
 *
 * @example
 * ```ts
 * import { openStore } from "./mod.ts";
 * const store = await openStore(":memory:");
 * await store.migrate();
 * const qids = await store.enqueue([]);
 * console.log(qids.length); // 0
 * await store.close();
 * ```
 *
 * @module
 */

import type { Store } from "./store.ts";
import { parseLocation } from "./location.ts";
import { openSqlite, type SqliteOptions } from "./sqlite.ts";
import { type MysqlOptions, openMysql } from "./mysql.ts";

export * from "./store.ts";
export { MysqlLocation, parseLocation, type SqliteLocation } from "./location.ts";
export {
  MAX_BATCH,
  MAX_DEVICE_KEY_BYTES,
  MAX_MID_BYTES,
  MAX_PENDING_PAGE,
  MAX_USERNAME_LENGTH,
} from "./limits.ts";
export { SCHEMA_VERSION } from "./migrations.ts";
export type { MysqlOptions, SqliteOptions };

/** Options for {@linkcode openStore}; each applies to one kind of database. */
export interface StoreOptions extends SqliteOptions, MysqlOptions {}

/**
 * Opens the store at `location`: a `mysql://user:pass@host:port/db` (or `mariadb://`) URL opens
 * a MySQL/MariaDB connection pool; anything else is an SQLite file path, created if missing.
 * Call `migrate()` next: it creates or updates the tables, and is where an unreachable MySQL
 * server is first reported (`StoreError("unavailable")`). An SQLite file that cannot be opened
 * fails here, with the same code.
 */
export function openStore(location: string, options: StoreOptions = {}): Promise<Store> {
  try {
    const where = parseLocation(location);
    return Promise.resolve(
      where.kind === "mysql" ? openMysql(where, options) : openSqlite(where.path, options),
    );
  } catch (e) {
    return Promise.reject(e);
  }
}
