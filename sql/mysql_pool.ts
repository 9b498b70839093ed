/**
 * The MySQL store's connections: a mysql2 pool with per-session settings, transactions, and the
 * retry rule for dropped connections and deadlocks.
 *
 * A dropped connection is thrown away and the work runs again on a fresh one, as long as its
 * outcome is known (it failed before COMMIT, which the server then rolled back) or running it
 * twice is harmless (a read, an idempotent write). Otherwise the caller gets
 * `StoreError("unavailable")`: the transaction may or may not have committed.
 *
 * @module
 */

import mysql from "mysql2/promise";
import type { Pool, PoolConnection } from "mysql2/promise";
import type { MysqlLocation } from "./location.ts";
import { isConnectionLost, isLockConflict, mapMysqlError } from "./mysql_errors.ts";
import { StoreError } from "./store.ts";

/** Connections in the pool unless the caller asks for another number. */
export const DEFAULT_POOL_SIZE = 10;

/** Tries per operation when a connection drops or InnoDB breaks a deadlock. */
export const MAX_ATTEMPTS = 3;

/** Seconds a statement waits for a row lock before InnoDB gives up (the session's setting). */
export const LOCK_WAIT_TIMEOUT_S = 10;

/** Milliseconds to establish a connection before the pool reports it unavailable. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Options for {@linkcode MysqlPool}. */
export interface MysqlOptions {
  /** Most connections the pool opens; default 10. */
  poolSize?: number;
}

/** Per-session settings, run once on every new connection before its first statement. */
const SESSION_SETUP = [
  // Strict mode: an overlong value is an error, never silently truncated.
  "SET SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION,ERROR_FOR_DIVISION_BY_ZERO'," +
  ` SESSION innodb_lock_wait_timeout = ${LOCK_WAIT_TIMEOUT_S}`,
  // No gap locks: concurrent inserts of prekeys and messages do not block one another.
  "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
];

/** How a unit of work runs. */
interface WorkOptions {
  /** Inside START TRANSACTION … COMMIT. */
  tx: boolean;
  /** Safe to run again even when COMMIT may already have happened. */
  idempotent: boolean;
  /** Validates the input before a connection is taken; its throw is the caller's error. */
  check?: () => void;
}

/** Work to run on one connection. */
export type Work<T> = (c: PoolConnection) => Promise<T>;

/**
 * A pool that runs units of work. No connection is made until the first one. Once `close()`
 * begins, new work is refused with `StoreError("unavailable")` and work in progress finishes.
 */
export class MysqlPool {
  #pool: Pool;
  #state: "open" | "closing" | "closed" = "open";
  #inflight = new Set<Promise<unknown>>();
  /** Core connections whose session settings are in place. */
  #ready = new WeakSet<object>();

  constructor(location: MysqlLocation, options: MysqlOptions = {}) {
    const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;
    if (!Number.isInteger(poolSize) || poolSize < 1) {
      throw new RangeError(`poolSize: expected a positive integer, got ${poolSize}`);
    }
    this.#pool = mysql.createPool({
      host: location.host,
      port: location.port,
      user: location.user,
      password: location.revealPassword(),
      database: location.database,
      connectionLimit: poolSize,
      waitForConnections: true,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Keep-alive notices a peer that vanished without closing the socket.
      enableKeepAlive: true,
      charset: "UTF8MB4_BIN",
      supportBigNumbers: true,
      multipleStatements: false,
    });
  }

  /** A read: one or more statements outside a transaction, run again after a drop. */
  read<T>(op: string, work: Work<T>, check?: () => void): Promise<T> {
    return this.run(op, work, { tx: false, idempotent: true, check });
  }

  /** A write in one transaction; `idempotent` allows a rerun when COMMIT's fate is unknown. */
  write<T>(
    op: string,
    work: Work<T>,
    options: { idempotent?: boolean; check?: () => void } = {},
  ): Promise<T> {
    return this.run(op, work, {
      tx: true,
      idempotent: options.idempotent ?? false,
      check: options.check,
    });
  }

  /** Runs one unit of work, refused once closing began, awaited by close(). */
  run<T>(op: string, work: Work<T>, options: WorkOptions): Promise<T> {
    if (this.#state !== "open") {
      return Promise.reject(new StoreError("unavailable", `${op}: the store is closed`));
    }
    let p: Promise<T>;
    try {
      options.check?.();
      p = this.#attempts(op, work, options);
    } catch (e) {
      return Promise.reject(e);
    }
    this.#inflight.add(p);
    const forget = () => this.#inflight.delete(p);
    p.then(forget, forget);
    return p;
  }

  /** Waits for work in progress, then closes every connection. */
  async close(): Promise<void> {
    if (this.#state !== "open") return;
    this.#state = "closing";
    await Promise.allSettled([...this.#inflight]);
    this.#state = "closed";
    await this.#pool.end();
  }

  async #acquire(): Promise<PoolConnection> {
    const c = await this.#pool.getConnection();
    const core = (c as unknown as { connection: object }).connection;
    if (!this.#ready.has(core)) {
      try {
        for (const sql of SESSION_SETUP) await c.query(sql);
      } catch (e) {
        c.destroy();
        throw e;
      }
      this.#ready.add(core);
    }
    return c;
  }

  async #attempts<T>(op: string, work: Work<T>, options: WorkOptions): Promise<T> {
    for (let attempt = 1;; attempt++) {
      let c: PoolConnection | undefined;
      let committing = false;
      try {
        c = await this.#acquire();
        if (options.tx) await c.query("START TRANSACTION");
        const result = await work(c);
        if (options.tx) {
          committing = true;
          await c.query("COMMIT");
        }
        c.release();
        return result;
      } catch (e) {
        const lost = isConnectionLost(e);
        if (c !== undefined) await discard(c, lost, options.tx);
        const outcomeKnown = !committing || options.idempotent;
        const retry = !(e instanceof StoreError) && attempt < MAX_ATTEMPTS &&
          ((lost && outcomeKnown) || isLockConflict(e));
        if (!retry) throw mapMysqlError(op, e);
      }
    }
  }
}

/** Returns a connection after a failure: destroyed when lost, else rolled back and released. */
async function discard(c: PoolConnection, lost: boolean, tx: boolean): Promise<void> {
  if (lost) {
    c.destroy();
    return;
  }
  try {
    if (tx) await c.query("ROLLBACK");
    c.release();
  } catch {
    c.destroy();
  }
}
