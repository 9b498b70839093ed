/**
 * The MySQL/MariaDB store, on mysql2: a connection pool, InnoDB, utf8mb4_bin, prepared
 * statements (cached per connection by mysql2). Works on MariaDB 10.11 and MySQL 8.
 *
 * Server nodes share one database, so everything that must happen once happens under a row lock:
 * a one-time prekey is claimed with `FOR UPDATE SKIP LOCKED` and deleted in the same
 * transaction; enqueue locks its recipients' rows so that, per recipient, qids become visible in
 * increasing order (a reader paging with `afterQid` never skips a message that commits late).
 *
 * A dropped connection is thrown away and the transaction runs again on a fresh one, as long as
 * its outcome is known (it failed before COMMIT, which the server then rolled back) or running it
 * twice is harmless (enqueue is idempotent). Otherwise the caller gets `StoreError("unavailable")`.
 *
 * @module
 */

import mysql from "mysql2/promise";
import type { Pool, PoolConnection } from "mysql2/promise";
import type { MysqlLocation } from "./location.ts";
import { MYSQL_MIGRATIONS, pendingMigrations } from "./migrations.ts";
import { isConnectionLost, isLockConflict, mapMysqlError } from "./mysql_errors.ts";
import {
  type BackupRecord,
  type BundleRecord,
  type Credentials,
  type MigrationReport,
  type NewQueued,
  type NewUser,
  type OneTimePrekeyRecord,
  type PrekeyCounts,
  type PrekeySet,
  type QueuedMessage,
  type SignedPrekeyRecord,
  type Store,
  StoreError,
  type UserRecord,
} from "./store.ts";
import {
  checkBatch,
  checkDeviceKey,
  checkKeys,
  checkMid,
  checkPage,
  checkQids,
  checkUsername,
} from "./limits.ts";
import { insertChunks, listPlaceholders, padList, rowPlaceholders } from "./statement_shapes.ts";
import {
  bytes,
  int,
  messageKey,
  QUEUE_COLUMNS,
  type Row,
  toBackup,
  toOneTime,
  toQueued,
  toSigned,
  toUser,
  USER_COLUMNS,
  userColumns,
} from "./rows.ts";
import { type Param, run, runRows } from "./mysql_run.ts";

/** Connections in the pool unless the caller asks for another number. */
export const DEFAULT_POOL_SIZE = 10;

/** Tries per operation when a connection drops or InnoDB breaks a deadlock. */
export const MAX_ATTEMPTS = 3;

/** Seconds a statement waits for a row lock before InnoDB gives up (the session's setting). */
export const LOCK_WAIT_TIMEOUT_S = 10;

/** Milliseconds to establish a connection before the pool reports it unavailable. */
export const CONNECT_TIMEOUT_MS = 10_000;

/** Most values in one `IN (…)` list; longer lists are sent in several statements. */
export const MAX_IN_LIST = 256;

/** Seconds migrate() waits for another server that is migrating the same database. */
export const MIGRATE_LOCK_WAIT_S = 60;

/** Options for {@linkcode openMysql}. */
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

/**
 * Opens a pool on the MySQL/MariaDB database at `location`. No connection is made until the
 * first call (`migrate()` is the usual first call).
 */
export function openMysql(location: MysqlLocation, options: MysqlOptions = {}): Store {
  const pool = mysql.createPool({
    host: location.host,
    port: location.port,
    user: location.user,
    password: location.revealPassword(),
    database: location.database,
    connectionLimit: options.poolSize ?? DEFAULT_POOL_SIZE,
    waitForConnections: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    // Keep-alive notices a peer that vanished without closing the socket.
    enableKeepAlive: true,
    charset: "UTF8MB4_BIN",
    supportBigNumbers: true,
    multipleStatements: false,
  });
  return new MysqlStore(pool, location);
}

interface AttemptOptions {
  /** Run inside START TRANSACTION … COMMIT. */
  tx: boolean;
  /** Safe to run again even when COMMIT may already have happened. */
  idempotent: boolean;
}

class MysqlStore implements Store {
  readonly kind = "mysql" as const;
  #pool: Pool;
  #location: MysqlLocation;
  #state: "open" | "closing" | "closed" = "open";
  #inflight = new Set<Promise<unknown>>();
  /** Core connections whose session settings are in place. */
  #ready = new WeakSet<object>();

  constructor(pool: Pool, location: MysqlLocation) {
    this.#pool = pool;
    this.#location = location;
  }

  [Symbol.for("Deno.customInspect")](): string {
    return `MysqlStore(${this.#location})`;
  }

  /** Runs one public operation, refused once the store is closing, awaited by close(). */
  #op<T>(op: string, fn: () => Promise<T>): Promise<T> {
    if (this.#state !== "open") {
      return Promise.reject(new StoreError("unavailable", `${op}: the store is closed`));
    }
    let p: Promise<T>;
    try {
      p = fn();
    } catch (e) {
      return Promise.reject(e);
    }
    this.#inflight.add(p);
    const forget = () => this.#inflight.delete(p);
    p.then(forget, forget);
    return p;
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

  /**
   * Runs `body` on a pooled connection, in a transaction when asked, trying again on a fresh
   * connection after a drop (see the module comment for when) or an InnoDB deadlock.
   */
  async #attempt<T>(
    op: string,
    body: (c: PoolConnection) => Promise<T>,
    options: AttemptOptions,
  ): Promise<T> {
    for (let attempt = 1;; attempt++) {
      let c: PoolConnection | undefined;
      let committing = false;
      try {
        c = await this.#acquire();
        if (options.tx) await c.query("START TRANSACTION");
        const result = await body(c);
        if (options.tx) {
          committing = true;
          await c.query("COMMIT");
        }
        c.release();
        return result;
      } catch (e) {
        const lost = isConnectionLost(e);
        if (c !== undefined) await this.#discard(c, lost, options.tx);
        const outcomeKnown = !committing || options.idempotent;
        const retry = !(e instanceof StoreError) && attempt < MAX_ATTEMPTS &&
          ((lost && outcomeKnown) || isLockConflict(e));
        if (!retry) throw mapMysqlError(op, e);
      }
    }
  }

  /** Returns a connection after a failure: destroyed when lost, else rolled back and released. */
  async #discard(c: PoolConnection, lost: boolean, tx: boolean): Promise<void> {
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

  /** A read: no transaction, safe to run again. */
  #read<T>(
    op: string,
    body: (c: PoolConnection) => Promise<T>,
    check: () => void = () => {},
  ): Promise<T> {
    return this.#op(op, () => {
      check();
      return this.#attempt(op, body, { tx: false, idempotent: true });
    });
  }

  /** A write in one transaction. `check` validates the input before a connection is taken. */
  #write<T>(
    op: string,
    body: (c: PoolConnection) => Promise<T>,
    { idempotent = false, check = () => {} }: { idempotent?: boolean; check?: () => void } = {},
  ): Promise<T> {
    return this.#op(op, () => {
      check();
      return this.#attempt(op, body, { tx: true, idempotent });
    });
  }

  migrate(): Promise<MigrationReport> {
    // MySQL commits DDL implicitly, so migrations cannot run in a transaction; a named lock
    // keeps two servers from migrating the same database at once instead.
    return this.#op("migrate", () =>
      this.#attempt("migrate", async (c) => {
        const lock = `pesuchat_migrate:${this.#location.database}`.slice(0, 64);
        const [got] = await runRows(c, "SELECT GET_LOCK(?, ?) AS got", [
          lock,
          MIGRATE_LOCK_WAIT_S,
        ]);
        if (int(got?.got ?? 0) !== 1) {
          throw new StoreError("unavailable", "migrate: another server holds the migration lock");
        }
        try {
          await c.query(
            "CREATE TABLE IF NOT EXISTS schema_version (version INT NOT NULL PRIMARY KEY, " +
              "applied_at BIGINT NOT NULL) ENGINE=InnoDB",
          );
          const [row] = await runRows(
            c,
            "SELECT COALESCE(MAX(version), 0) AS v FROM schema_version",
          );
          const from = int(row!.v);
          for (const m of pendingMigrations(from, MYSQL_MIGRATIONS)) {
            for (const sql of m.statements) await c.query(sql);
            await run(c, "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", [
              m.version,
              Date.now(),
            ]);
          }
          return { from, to: MYSQL_MIGRATIONS.length };
        } finally {
          await c.query("SELECT RELEASE_LOCK(?)", [lock]);
        }
      }, { tx: false, idempotent: true }));
  }

  async close(): Promise<void> {
    if (this.#state !== "open") return;
    this.#state = "closing";
    await Promise.allSettled([...this.#inflight]);
    this.#state = "closed";
    await this.#pool.end();
  }

  createUser(user: NewUser, keys: PrekeySet, deviceKey: Uint8Array): Promise<UserRecord> {
    return this.#write("createUser", async (c) => {
      const result = await run(
        c,
        `INSERT INTO users (${USER_COLUMNS.slice("id, ".length)}) ` +
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
          user.username,
          user.profile,
          user.salt,
          user.kdf.memoryKiB,
          user.kdf.passes,
          user.kdf.parallelism,
          user.verifierSalt,
          user.verifier,
          user.identityKey,
          user.createdAt,
        ],
      );
      const id = result.insertId;
      await insertKeys(c, id, keys);
      await bind(c, id, deviceKey);
      return { ...user, id };
    }, {
      check: () => {
        checkUsername("createUser", user.username);
        checkDeviceKey("createUser", deviceKey);
        checkKeys("createUser", keys);
      },
    });
  }

  userByName(username: string): Promise<UserRecord | null> {
    return this.#read("userByName", async (c) => {
      const [row] = await runRows(c, `SELECT ${USER_COLUMNS} FROM users WHERE username = ?`, [
        username,
      ]);
      return row === undefined ? null : toUser(row);
    });
  }

  userById(id: number): Promise<UserRecord | null> {
    return this.#read("userById", async (c) => {
      const [row] = await runRows(c, `SELECT ${USER_COLUMNS} FROM users WHERE id = ?`, [id]);
      return row === undefined ? null : toUser(row);
    });
  }

  userByDevice(deviceKey: Uint8Array): Promise<UserRecord | null> {
    return this.#read("userByDevice", async (c) => {
      const [row] = await runRows(
        c,
        `SELECT ${userColumns("u")} FROM devices d JOIN users u ON u.id = d.user_id ` +
          "WHERE d.device_key = ?",
        [deviceKey],
      );
      return row === undefined ? null : toUser(row);
    });
  }

  bindDevice(userId: number, deviceKey: Uint8Array): Promise<void> {
    return this.#write("bindDevice", async (c) => {
      await lockUser(c, "bindDevice", userId);
      await bind(c, userId, deviceKey);
    }, {
      check: () => {
        checkDeviceKey("bindDevice", deviceKey);
      },
    });
  }

  unbindDevice(deviceKey: Uint8Array): Promise<void> {
    return this.#write("unbindDevice", async (c) => {
      await run(c, "DELETE FROM devices WHERE device_key = ?", [deviceKey]);
    }, { idempotent: true });
  }

  updateCredentials(userId: number, cr: Credentials): Promise<void> {
    return this.#write("updateCredentials", async (c) => {
      // mysql2 sets CLIENT_FOUND_ROWS, so affectedRows counts matched rows, changed or not.
      const result = await run(
        c,
        "UPDATE users SET salt = ?, kdf_memory_kib = ?, kdf_passes = ?, kdf_parallelism = ?, " +
          "verifier_salt = ?, verifier = ? WHERE id = ?",
        [
          cr.salt,
          cr.kdf.memoryKiB,
          cr.kdf.passes,
          cr.kdf.parallelism,
          cr.verifierSalt,
          cr.verifier,
          userId,
        ],
      );
      if (result.affectedRows === 0) throw noUser("updateCredentials");
    }, { idempotent: true });
  }

  replaceIdentity(userId: number, identityKey: Uint8Array, keys: PrekeySet): Promise<void> {
    return this.#write("replaceIdentity", async (c) => {
      const result = await run(c, "UPDATE users SET identity_key = ? WHERE id = ?", [
        identityKey,
        userId,
      ]);
      if (result.affectedRows === 0) throw noUser("replaceIdentity");
      for (const table of PREKEY_TABLES) {
        await run(c, `DELETE FROM ${table} WHERE user_id = ?`, [userId]);
      }
      await insertKeys(c, userId, keys);
    }, {
      check: () => {
        checkKeys("replaceIdentity", keys);
      },
    });
  }

  deleteUser(userId: number): Promise<void> {
    // Foreign keys cascade to devices, prekeys, queued messages and the backup.
    return this.#write("deleteUser", async (c) => {
      await run(c, "DELETE FROM users WHERE id = ?", [userId]);
    }, { idempotent: true });
  }

  setSignedPrekey(userId: number, prekey: SignedPrekeyRecord): Promise<void> {
    return this.#write("setSignedPrekey", async (c) => {
      await replaceSigned(c, "signed_prekeys", userId, prekey);
    }, { idempotent: true });
  }

  setKyberLastResort(userId: number, prekey: SignedPrekeyRecord): Promise<void> {
    return this.#write("setKyberLastResort", async (c) => {
      await replaceSigned(c, "kyber_last_resort", userId, prekey);
    }, { idempotent: true });
  }

  addOneTimePrekeys(userId: number, prekeys: OneTimePrekeyRecord[]): Promise<void> {
    return this.#write("addOneTimePrekeys", async (c) => {
      await insertOneTime(c, userId, prekeys);
    }, {
      check: () => {
        checkBatch("addOneTimePrekeys", prekeys.length);
      },
    });
  }

  addKyberPrekeys(userId: number, prekeys: SignedPrekeyRecord[]): Promise<void> {
    return this.#write("addKyberPrekeys", async (c) => {
      await insertKyber(c, userId, prekeys);
    }, {
      check: () => {
        checkBatch("addKyberPrekeys", prekeys.length);
      },
    });
  }

  prekeyCounts(userId: number): Promise<PrekeyCounts> {
    return this.#read("prekeyCounts", async (c) => {
      const [row] = await runRows(
        c,
        "SELECT (SELECT COUNT(*) FROM one_time_prekeys WHERE user_id = ?) AS one_time, " +
          "(SELECT COUNT(*) FROM kyber_prekeys WHERE user_id = ?) AS kyber",
        [userId, userId],
      );
      return { oneTime: int(row!.one_time), kyber: int(row!.kyber) };
    });
  }

  takeBundle(userId: number): Promise<BundleRecord | null> {
    return this.#write("takeBundle", async (c) => {
      const [head] = await runRows(
        c,
        "SELECT u.identity_key, s.key_id, s.public_key, s.signature, " +
          "l.key_id AS l_key_id, l.public_key AS l_public_key, l.signature AS l_signature " +
          "FROM users u JOIN signed_prekeys s ON s.user_id = u.id " +
          "JOIN kyber_last_resort l ON l.user_id = u.id WHERE u.id = ?",
        [userId],
      );
      if (head === undefined) return null;
      const oneTime = await claim(c, "one_time_prekeys", "key_id, public_key", userId);
      const kyber = await claim(c, "kyber_prekeys", "key_id, public_key, signature", userId);
      return {
        identityKey: bytes(head.identity_key),
        signedPrekey: toSigned(head),
        oneTimePrekey: oneTime === undefined ? null : toOneTime(oneTime),
        kyberPrekey: kyber === undefined ? toSigned(head, "l_") : toSigned(kyber),
        kyberLastResort: kyber === undefined,
      };
    });
  }

  enqueue(items: NewQueued[]): Promise<number[]> {
    // Idempotent on (senderId, mid), so it may run again even when COMMIT's fate is unknown.
    return this.#write("enqueue", async (c) => {
      if (items.length === 0) return [];
      await lockRecipients(c, items);
      let at = 0;
      for (const size of insertChunks(items.length)) {
        const params: Param[] = [];
        for (let i = at; i < at + size; i++) {
          const m = items[i]!;
          params.push(m.recipientId, m.senderId, m.senderName, m.mid, m.body, m.sentAt);
        }
        // A retried (senderId, mid) matches the unique key and changes nothing.
        await run(
          c,
          "INSERT INTO queue (recipient_id, sender_id, sender_name, mid, body, sent_at) " +
            `VALUES ${rowPlaceholders(size, 6)} ON DUPLICATE KEY UPDATE qid = qid`,
          params,
        );
        at += size;
      }
      const qids = await lookupQids(c, items);
      return items.map((m) => {
        const qid = qids.get(messageKey(m.senderId, m.mid));
        if (qid === undefined) throw new StoreError("io", "enqueue: a queued row went missing");
        return qid;
      });
    }, {
      idempotent: true,
      check: () => {
        checkBatch("enqueue", items.length);
        for (const item of items) checkMid("enqueue", item.mid);
      },
    });
  }

  pending(recipientId: number, afterQid: number, limit: number): Promise<QueuedMessage[]> {
    return this.#read("pending", async (c) => {
      const rows = await runRows(
        c,
        `SELECT ${QUEUE_COLUMNS} FROM queue WHERE recipient_id = ? AND qid > ? ` +
          "ORDER BY qid LIMIT ?",
        [recipientId, afterQid, limit],
      );
      return rows.map(toQueued);
    }, () => {
      checkPage("pending", limit);
    });
  }

  ack(recipientId: number, qids: number[]): Promise<number> {
    return this.#write("ack", async (c) => {
      let deleted = 0;
      const unique = [...new Set(qids)];
      for (let at = 0; at < unique.length; at += MAX_IN_LIST) {
        const list = padList(unique.slice(at, at + MAX_IN_LIST));
        const result = await run(
          c,
          `DELETE FROM queue WHERE recipient_id = ? AND qid IN (${listPlaceholders(list.length)})`,
          [recipientId, ...list],
        );
        deleted += result.affectedRows;
      }
      return deleted;
    }, {
      idempotent: true,
      check: () => {
        checkBatch("ack", qids.length);
        checkQids("ack", qids);
      },
    });
  }

  pendingCount(recipientId: number): Promise<number> {
    return this.#read("pendingCount", async (c) => {
      const [row] = await runRows(c, "SELECT COUNT(*) AS n FROM queue WHERE recipient_id = ?", [
        recipientId,
      ]);
      return int(row!.n);
    });
  }

  putBackup(userId: number, backup: BackupRecord): Promise<void> {
    return this.#write("putBackup", async (c) => {
      await run(
        c,
        "REPLACE INTO backups (user_id, wrapped_key, data, updated_at) VALUES (?, ?, ?, ?)",
        [userId, backup.wrappedKey, backup.blob, backup.updatedAt],
      );
    }, { idempotent: true });
  }

  getBackup(userId: number): Promise<BackupRecord | null> {
    return this.#read("getBackup", async (c) => {
      const [row] = await runRows(
        c,
        "SELECT wrapped_key, data, updated_at FROM backups WHERE user_id = ?",
        [userId],
      );
      return row === undefined ? null : toBackup(row);
    });
  }

  setBackupKey(userId: number, wrappedKey: Uint8Array): Promise<void> {
    return this.#write("setBackupKey", async (c) => {
      const result = await run(c, "UPDATE backups SET wrapped_key = ? WHERE user_id = ?", [
        wrappedKey,
        userId,
      ]);
      if (result.affectedRows === 0) {
        throw new StoreError("not_found", "setBackupKey: the user has no backup");
      }
    }, { idempotent: true });
  }
}

/** The per-user prekey tables, emptied by replaceIdentity. */
const PREKEY_TABLES = [
  "signed_prekeys",
  "kyber_last_resort",
  "one_time_prekeys",
  "kyber_prekeys",
] as const;

function noUser(op: string): StoreError {
  return new StoreError("not_found", `${op}: no such user`);
}

/** Locks the user's row for the rest of the transaction; not_found when there is none. */
async function lockUser(c: PoolConnection, op: string, userId: number): Promise<void> {
  const rows = await runRows(c, "SELECT id FROM users WHERE id = ? FOR UPDATE", [userId]);
  if (rows.length === 0) throw noUser(op);
}

/**
 * Locks every recipient's row, in id order so two batches cannot deadlock on each other. Held
 * until commit, the lock makes enqueues to one recipient commit in the order they took qids.
 */
async function lockRecipients(c: PoolConnection, items: NewQueued[]): Promise<void> {
  const ids = [...new Set(items.map((m) => m.recipientId))].sort((a, b) => a - b);
  let found = 0;
  for (let at = 0; at < ids.length; at += MAX_IN_LIST) {
    const list = padList(ids.slice(at, at + MAX_IN_LIST));
    const rows = await runRows(
      c,
      `SELECT id FROM users WHERE id IN (${listPlaceholders(list.length)}) ORDER BY id FOR UPDATE`,
      list,
    );
    found += rows.length;
  }
  if (found !== ids.length) {
    throw new StoreError("not_found", "enqueue: a recipient does not exist");
  }
}

/** The qid of every item, keyed by {@linkcode messageKey}, inserted now or before. */
async function lookupQids(c: PoolConnection, items: NewQueued[]): Promise<Map<string, number>> {
  const qids = new Map<string, number>();
  for (let at = 0; at < items.length; at += MAX_IN_LIST) {
    const pairs = padList(items.slice(at, at + MAX_IN_LIST));
    const rows = await runRows(
      c,
      "SELECT qid, sender_id, mid FROM queue WHERE (sender_id, mid) IN " +
        `(${rowPlaceholders(pairs.length, 2)})`,
      pairs.flatMap((m) => [m.senderId, m.mid]),
    );
    for (const r of rows) qids.set(messageKey(int(r.sender_id), bytes(r.mid)), int(r.qid));
  }
  return qids;
}

/**
 * Takes the user's lowest one-time key that no concurrent transaction has claimed, and deletes
 * it. SKIP LOCKED lets concurrent callers take different keys instead of queueing on one.
 */
async function claim(
  c: PoolConnection,
  table: "one_time_prekeys" | "kyber_prekeys",
  columns: string,
  userId: number,
): Promise<Row | undefined> {
  const [row] = await runRows(
    c,
    `SELECT ${columns} FROM ${table} WHERE user_id = ? ORDER BY key_id LIMIT 1 ` +
      "FOR UPDATE SKIP LOCKED",
    [userId],
  );
  if (row !== undefined) {
    await run(c, `DELETE FROM ${table} WHERE user_id = ? AND key_id = ?`, [
      userId,
      int(row.key_id),
    ]);
  }
  return row;
}

/** Makes `deviceKey` the user's one device (see the SQLite store for why a key may move). */
async function bind(c: PoolConnection, userId: number, deviceKey: Uint8Array): Promise<void> {
  await run(c, "DELETE FROM devices WHERE user_id = ? OR device_key = ?", [userId, deviceKey]);
  await run(c, "INSERT INTO devices (device_key, user_id) VALUES (?, ?)", [deviceKey, userId]);
}

async function insertKeys(c: PoolConnection, userId: number, keys: PrekeySet): Promise<void> {
  await replaceSigned(c, "signed_prekeys", userId, keys.signedPrekey);
  await replaceSigned(c, "kyber_last_resort", userId, keys.kyberLastResort);
  await insertOneTime(c, userId, keys.oneTimePrekeys);
  await insertKyber(c, userId, keys.kyberPrekeys);
}

async function replaceSigned(
  c: PoolConnection,
  table: "signed_prekeys" | "kyber_last_resort",
  userId: number,
  k: SignedPrekeyRecord,
): Promise<void> {
  // REPLACE (delete, then insert) on the user_id key: portable across MySQL and MariaDB,
  // unlike the two servers' diverging upsert syntaxes.
  await run(
    c,
    `REPLACE INTO ${table} (user_id, key_id, public_key, signature) VALUES (?, ?, ?, ?)`,
    [userId, k.id, k.publicKey, k.signature],
  );
}

async function insertOneTime(
  c: PoolConnection,
  userId: number,
  prekeys: OneTimePrekeyRecord[],
): Promise<void> {
  let at = 0;
  for (const size of insertChunks(prekeys.length)) {
    const params = prekeys.slice(at, at + size).flatMap((k) => [userId, k.id, k.publicKey]);
    await run(
      c,
      `INSERT INTO one_time_prekeys (user_id, key_id, public_key) VALUES ${
        rowPlaceholders(size, 3)
      }`,
      params,
    );
    at += size;
  }
}

async function insertKyber(
  c: PoolConnection,
  userId: number,
  prekeys: SignedPrekeyRecord[],
): Promise<void> {
  let at = 0;
  for (const size of insertChunks(prekeys.length)) {
    const params = prekeys.slice(at, at + size).flatMap((
      k,
    ) => [userId, k.id, k.publicKey, k.signature]);
    await run(
      c,
      `INSERT INTO kyber_prekeys (user_id, key_id, public_key, signature) VALUES ${
        rowPlaceholders(size, 4)
      }`,
      params,
    );
    at += size;
  }
}
