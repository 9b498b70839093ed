/**
 * The SQLite store's connection: opening with the right pragmas, a prepared-statement cache,
 * write transactions, and the open/closed state.
 *
 * `node:sqlite` is synchronous, so a transaction runs in one synchronous stretch: no other call
 * can interleave with it inside this process, and `BEGIN IMMEDIATE` takes the write lock up
 * front so another process cannot either.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import { StoreError } from "./store.ts";
import { mapSqliteError } from "./sqlite_errors.ts";
import { int, type Row } from "./rows.ts";

/** How long a write waits for another process's lock before failing "unavailable". */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** Options for opening an SQLite store. */
export interface SqliteOptions {
  /** Milliseconds a statement waits on a lock held by another process; default 5,000. */
  busyTimeoutMs?: number;
  /**
   * Largest size the database may grow to, in bytes (rounded down to whole pages, and never
   * below the file's current size). A write that would pass it fails with `StoreError("full")`
   * and changes nothing, so a flood of messages cannot fill the disk the rest of the server
   * needs. Unbounded when omitted.
   */
  maxBytes?: number;
}

/** The connection settings in force, for start-up logs and tests. */
export interface SqliteSettings {
  journalMode: string;
  /** 2 is FULL. */
  synchronous: number;
  foreignKeys: boolean;
  busyTimeoutMs: number;
  /** Largest size in pages; SQLite's default is about 2^32. */
  maxPageCount: number;
}

type State =
  | { kind: "open"; db: DatabaseSync; statements: Map<string, StatementSync> }
  | { kind: "closed" };

/** One SQLite connection, used by one store. */
export class SqliteConnection {
  #state: State;

  private constructor(db: DatabaseSync) {
    this.#state = { kind: "open", db, statements: new Map() };
  }

  /**
   * Opens (creating if needed) the database at `path` in WAL mode with `synchronous=FULL`: a
   * message acknowledged to its sender must survive a power cut, and group commit pays the fsync
   * once per batch rather than per message.
   */
  static open(path: string, options: SqliteOptions = {}): SqliteConnection {
    const timeout = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
    if (!Number.isInteger(timeout) || timeout < 0) {
      throw new RangeError(`busyTimeoutMs: expected a whole number of ms, got ${timeout}`);
    }
    if (options.maxBytes !== undefined && !(options.maxBytes > 0)) {
      throw new RangeError(`maxBytes: expected a positive size, got ${options.maxBytes}`);
    }
    let db: DatabaseSync;
    try {
      db = new DatabaseSync(path, { timeout, enableForeignKeyConstraints: true });
    } catch (e) {
      // node:sqlite reports a failed open without a result code (missing folder, no permission).
      throw new StoreError("unavailable", "open: sqlite cannot open the database file", {
        cause: e,
      });
    }
    try {
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = FULL");
      db.exec("PRAGMA foreign_keys = ON");
      if (options.maxBytes !== undefined) {
        const { page_size } = db.prepare("PRAGMA page_size").get() as { page_size: number };
        const pages = Math.max(1, Math.floor(options.maxBytes / page_size));
        db.exec(`PRAGMA max_page_count = ${pages}`);
      }
    } catch (e) {
      db.close();
      throw mapSqliteError("open", e);
    }
    return new SqliteConnection(db);
  }

  #open(op: string): { db: DatabaseSync; statements: Map<string, StatementSync> } {
    if (this.#state.kind === "closed") {
      throw new StoreError("unavailable", `${op}: the store is closed`);
    }
    return this.#state;
  }

  /**
   * A prepared statement from the cache (compiled once per connection). With `arrays`, rows
   * come back as arrays in column order, which node:sqlite builds faster than objects.
   */
  stmt(sql: string, arrays = false): StatementSync {
    const { db, statements } = this.#open("prepare");
    let stmt = statements.get(sql);
    if (stmt === undefined) {
      stmt = db.prepare(sql);
      // Deno's node:sqlite has setReturnArrays; the bundled @types/node does not declare it yet.
      if (arrays) {
        (stmt as StatementSync & { setReturnArrays(on: boolean): void }).setReturnArrays(true);
      }
      statements.set(sql, stmt);
    }
    return stmt;
  }

  /** Runs SQL text that takes no parameters (DDL in migrations). */
  exec(sql: string): void {
    this.#open("exec").db.exec(sql);
  }

  /** Runs `fn` in one write transaction; any failure rolls it back and maps to StoreError. */
  tx<T>(op: string, fn: () => T): T {
    const { db } = this.#open(op);
    try {
      this.stmt("BEGIN IMMEDIATE").run();
      const result = fn();
      this.stmt("COMMIT").run();
      return result;
    } catch (e) {
      // SQLite rolls back by itself after some errors (SQLITE_FULL among them).
      if (db.isTransaction) {
        try {
          this.stmt("ROLLBACK").run();
        } catch {
          // The original error is the one worth reporting.
        }
      }
      throw mapSqliteError(op, e);
    }
  }

  /** Runs reads outside an explicit transaction (each statement sees one snapshot). */
  read<T>(op: string, fn: () => T): T {
    this.#open(op);
    try {
      return fn();
    } catch (e) {
      throw mapSqliteError(op, e);
    }
  }

  /** The pragmas in force on this connection. */
  settings(): SqliteSettings {
    return this.read("settings", () => {
      const get = (name: string) => int(Object.values(this.stmt(`PRAGMA ${name}`).get()!)[0]);
      const mode = this.stmt("PRAGMA journal_mode").get() as Row;
      return {
        journalMode: String(mode.journal_mode),
        synchronous: get("synchronous"),
        foreignKeys: get("foreign_keys") === 1,
        busyTimeoutMs: get("busy_timeout"),
        maxPageCount: get("max_page_count"),
      };
    });
  }

  /** Closes the connection; later calls fail with StoreError("unavailable"). Idempotent. */
  close(): void {
    if (this.#state.kind === "closed") return;
    const { db } = this.#state;
    this.#state = { kind: "closed" };
    try {
      db.close();
    } catch (e) {
      throw mapSqliteError("close", e);
    }
  }
}

/**
 * Runs synchronous store work as a promise, so a thrown error (a RangeError from an input check,
 * a StoreError) becomes a rejection as it would from the MySQL store.
 */
export function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}
