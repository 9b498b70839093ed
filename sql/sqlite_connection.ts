/**
 * The SQLite store's connection: opening with the right pragmas, a prepared-statement cache,
 * write transactions, durable commits, and the open/closed state.
 *
 * Durability without blocking: `node:sqlite` would fsync inside COMMIT with `synchronous=FULL`,
 * holding the event loop (and every connection the server serves) for the length of the fsync.
 * Instead the database runs `synchronous=NORMAL` in WAL mode, where a commit only writes the WAL
 * and checkpoints still sync, and {@linkcode SqliteConnection.sync} fsyncs the WAL file on
 * Deno's I/O threads before a write is reported done. Committed WAL frames that are on disk are
 * replayed after a power cut, so a write reported done survives it; and while one fsync runs,
 * the server keeps reading sends, which the next commit takes as one batch.
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

/**
 * WAL pages between automatic checkpoints (SQLite's default is 1,000). A checkpoint runs inside
 * the COMMIT that crosses the mark, on the event loop, and syncs the WAL and the database file
 * there: at the relay's rate the default meant several stalls a second of two fsyncs each, which
 * set the tail of every message's latency. A checkpoint copies only the newest version of each
 * page, and the relay's queue keeps rewriting the same few pages, so ten times the interval is
 * about a tenth of the stalls for little more work each; the WAL file grows to about 40 MiB
 * and is then overwritten in place (an fsync of blocks already allocated is also cheaper). Not a
 * durability setting: every commit is still synced before it is reported (see sync).
 */
export const WAL_AUTOCHECKPOINT_PAGES = 10_000;

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
  /** 1 is NORMAL: commits write the WAL; SqliteConnection.sync makes them durable. */
  synchronous: number;
  foreignKeys: boolean;
  busyTimeoutMs: number;
  /** Largest size in pages; SQLite's default is about 2^32. */
  maxPageCount: number;
}

type State =
  | { kind: "open"; db: DatabaseSync; statements: Map<string, StatementSync> }
  | { kind: "closed" };

/** Paths that are not files and so have no WAL to sync. */
const IN_MEMORY = new Set([":memory:", ""]);

/** One SQLite connection, used by one store. */
export class SqliteConnection {
  #state: State;
  readonly #walPath: string | null;
  #wal: Deno.FsFile | null = null;
  /** Write transactions committed, and how many of them an fsync has covered. */
  #committed = 0;
  #synced = 0;
  #syncing: Promise<void> | null = null;

  private constructor(db: DatabaseSync, path: string) {
    this.#state = { kind: "open", db, statements: new Map() };
    this.#walPath = IN_MEMORY.has(path) ? null : `${path}-wal`;
  }

  /**
   * Opens (creating if needed) the database at `path` in WAL mode with `synchronous=NORMAL`;
   * durability comes from {@linkcode sync} (see the module comment).
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
      db.exec("PRAGMA synchronous = NORMAL");
      db.exec(`PRAGMA wal_autocheckpoint = ${WAL_AUTOCHECKPOINT_PAGES}`);
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
    return new SqliteConnection(db, path);
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
      this.#committed++;
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

  /**
   * Resolves once every transaction committed so far is on disk: one fdatasync of the WAL on
   * Deno's I/O threads covers all of them, and callers that arrive while it runs share the next.
   */
  async sync(): Promise<void> {
    if (this.#walPath === null) return;
    const target = this.#committed;
    while (this.#synced < target) {
      if (this.#syncing) {
        await this.#syncing;
        continue;
      }
      const upTo = this.#committed;
      this.#syncing = this.#fsyncWal().finally(() => {
        this.#syncing = null;
      });
      await this.#syncing;
      this.#synced = Math.max(this.#synced, upTo);
    }
  }

  async #fsyncWal(): Promise<void> {
    try {
      this.#wal ??= await Deno.open(this.#walPath!, { read: true });
      await this.#wal.syncData();
    } catch (e) {
      const full = e instanceof Error && /No space|ENOSPC|quota/i.test(e.message);
      throw new StoreError(
        full ? "full" : "io",
        "sync: the database could not be written to disk",
        { cause: e },
      );
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
      this.#wal?.close();
    } catch {
      // already closed
    }
    this.#wal = null;
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
