/**
 * The SQLite store, on `node:sqlite` (built into Deno): the embedded default, one file in the
 * server's folder.
 *
 * `node:sqlite` is synchronous, so each method runs its whole transaction in one synchronous
 * stretch: no other call can interleave with it inside this process, and `BEGIN IMMEDIATE` takes
 * the write lock up front so another process cannot either. Batches are bounded
 * ({@linkcode MAX_BATCH}) to keep every stretch short.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
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
import { mapSqliteError } from "./sqlite_errors.ts";
import { pendingMigrations, SQLITE_MIGRATIONS } from "./migrations.ts";
import {
  checkBatch,
  checkDeviceKey,
  checkKeys,
  checkMid,
  checkPage,
  checkQids,
  checkUsername,
} from "./limits.ts";
import { insertChunks, rowPlaceholders } from "./statement_shapes.ts";
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

/** How long a write waits for another process's lock before failing "unavailable". */
export const DEFAULT_BUSY_TIMEOUT_MS = 5_000;

/** Options for {@linkcode openSqlite}. */
export interface SqliteOptions {
  /** Milliseconds a statement waits on a lock held by another process; default 5,000. */
  busyTimeoutMs?: number;
  /**
   * Largest size the database may grow to, in bytes (rounded down to whole pages). A write that
   * would pass it fails with `StoreError("full")` and changes nothing, so a flood of messages
   * cannot fill the disk the rest of the server needs. Unbounded when omitted.
   */
  maxBytes?: number;
}

/** The connection settings a running store uses, for start-up logs and tests. */
export interface SqliteSettings {
  journalMode: string;
  /** 2 is FULL. */
  synchronous: number;
  foreignKeys: boolean;
  busyTimeoutMs: number;
  /** Largest size in pages; SQLite's default is about 2^32. */
  maxPageCount: number;
}

/** The SQLite store: the Store contract plus a look at its connection settings. */
export interface SqliteStore extends Store {
  readonly kind: "sqlite";
  /** The pragmas in force on the store's connection. */
  settings(): Promise<SqliteSettings>;
}

type State =
  | { kind: "open"; db: DatabaseSync; statements: Map<string, StatementSync> }
  | { kind: "closed" };

/**
 * Opens (creating if needed) the SQLite database at `path` in WAL mode with `synchronous=FULL`:
 * a message acknowledged to its sender must survive a power cut, and group commit (one
 * {@linkcode Store.enqueue} per batch) pays the fsync once per batch rather than per message.
 * Call `migrate()` before use.
 *
 * @example
 * ```ts
 * import { openSqlite } from "./sqlite.ts";
 * const store = openSqlite(":memory:");
 * await store.migrate();
 * await store.close();
 * ```
 */
export function openSqlite(path: string, options: SqliteOptions = {}): SqliteStore {
  let db: DatabaseSync;
  try {
    db = new DatabaseSync(path, {
      timeout: options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
      enableForeignKeyConstraints: true,
    });
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
  return new SqliteStoreImpl(db);
}

class SqliteStoreImpl implements SqliteStore {
  readonly kind = "sqlite" as const;
  #state: State;

  constructor(db: DatabaseSync) {
    this.#state = { kind: "open", db, statements: new Map() };
  }

  /** The open state, or StoreError("unavailable") once closed. */
  #open(op: string): { db: DatabaseSync; statements: Map<string, StatementSync> } {
    if (this.#state.kind === "closed") {
      throw new StoreError("unavailable", `${op}: the store is closed`);
    }
    return this.#state;
  }

  /** A prepared statement from the cache (statements are compiled once per connection). */
  #stmt(sql: string): StatementSync {
    const { db, statements } = this.#open("prepare");
    let stmt = statements.get(sql);
    if (stmt === undefined) {
      stmt = db.prepare(sql);
      statements.set(sql, stmt);
    }
    return stmt;
  }

  /** Runs `fn` in one write transaction; any failure rolls it back and maps to StoreError. */
  #tx<T>(op: string, fn: () => T): T {
    const { db } = this.#open(op);
    try {
      this.#stmt("BEGIN IMMEDIATE").run();
      const result = fn();
      this.#stmt("COMMIT").run();
      return result;
    } catch (e) {
      // SQLite rolls back by itself after some errors (SQLITE_FULL among them).
      if (db.isTransaction) {
        try {
          this.#stmt("ROLLBACK").run();
        } catch {
          // The original error is the one worth reporting.
        }
      }
      throw mapSqliteError(op, e);
    }
  }

  /** Runs a read outside an explicit transaction (each statement sees one snapshot). */
  #read<T>(op: string, fn: () => T): T {
    this.#open(op);
    try {
      return fn();
    } catch (e) {
      throw mapSqliteError(op, e);
    }
  }

  migrate(): Promise<MigrationReport> {
    // SQLite DDL is transactional: each run is all or nothing. The version is read inside the
    // write transaction, so two processes migrating at once run each step once.
    return settle(() =>
      this.#tx("migrate", () => {
        const { db } = this.#open("migrate");
        db.exec(
          "CREATE TABLE IF NOT EXISTS schema_version " +
            "(version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT",
        );
        const from = this.#version();
        for (const m of pendingMigrations(from, SQLITE_MIGRATIONS)) {
          for (const sql of m.statements) db.exec(sql);
          this.#stmt("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)")
            .run(m.version, Date.now());
        }
        return { from, to: SQLITE_MIGRATIONS.length };
      })
    );
  }

  settings(): Promise<SqliteSettings> {
    return settle(() =>
      this.#read("settings", () => {
        const get = (name: string) => int(Object.values(this.#stmt(`PRAGMA ${name}`).get()!)[0]);
        const mode = this.#stmt("PRAGMA journal_mode").get() as Row;
        return {
          journalMode: String(mode.journal_mode),
          synchronous: get("synchronous"),
          foreignKeys: get("foreign_keys") === 1,
          busyTimeoutMs: get("busy_timeout"),
          maxPageCount: get("max_page_count"),
        };
      })
    );
  }

  #version(): number {
    const row = this.#stmt("SELECT COALESCE(MAX(version), 0) AS v FROM schema_version").get();
    return int((row as Row).v);
  }

  close(): Promise<void> {
    if (this.#state.kind === "open") {
      const { db } = this.#state;
      this.#state = { kind: "closed" };
      try {
        db.close();
      } catch (e) {
        return Promise.reject(mapSqliteError("close", e));
      }
    }
    return Promise.resolve();
  }

  createUser(user: NewUser, keys: PrekeySet, deviceKey: Uint8Array): Promise<UserRecord> {
    return settle(() => {
      checkUsername("createUser", user.username);
      checkDeviceKey("createUser", deviceKey);
      checkKeys("createUser", keys);
      return this.#tx("createUser", () => {
        const row = this.#stmt(
          `INSERT INTO users (${USER_COLUMNS.slice("id, ".length)}) ` +
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        ).get(
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
        ) as Row;
        const id = int(row.id);
        this.#insertKeys(id, keys);
        this.#bind(id, deviceKey);
        return { ...user, id };
      });
    });
  }

  userByName(username: string): Promise<UserRecord | null> {
    return settle(() => {
      return this.#read("userByName", () => {
        const row = this.#stmt(`SELECT ${USER_COLUMNS} FROM users WHERE username = ?`).get(
          username,
        );
        return row === undefined ? null : toUser(row as Row);
      });
    });
  }

  userById(id: number): Promise<UserRecord | null> {
    return settle(() => {
      return this.#read("userById", () => {
        const row = this.#stmt(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`).get(id);
        return row === undefined ? null : toUser(row as Row);
      });
    });
  }

  userByDevice(deviceKey: Uint8Array): Promise<UserRecord | null> {
    return settle(() => {
      return this.#read("userByDevice", () => {
        const row = this.#stmt(
          `SELECT ${userColumns("u")} FROM devices d JOIN users u ON u.id = d.user_id ` +
            "WHERE d.device_key = ?",
        ).get(deviceKey);
        return row === undefined ? null : toUser(row as Row);
      });
    });
  }

  bindDevice(userId: number, deviceKey: Uint8Array): Promise<void> {
    return settle(() => {
      checkDeviceKey("bindDevice", deviceKey);
      this.#tx("bindDevice", () => this.#bind(userId, deviceKey));
    });
  }

  /**
   * Makes `deviceKey` the user's one device. A key bound to another account moves: the client
   * proved it holds the key's private half in the Noise handshake, and logged in to this account.
   */
  #bind(userId: number, deviceKey: Uint8Array): void {
    this.#stmt("DELETE FROM devices WHERE user_id = ? OR device_key = ?").run(userId, deviceKey);
    this.#stmt("INSERT INTO devices (device_key, user_id) VALUES (?, ?)").run(deviceKey, userId);
  }

  unbindDevice(deviceKey: Uint8Array): Promise<void> {
    return settle(() => {
      this.#tx("unbindDevice", () => {
        this.#stmt("DELETE FROM devices WHERE device_key = ?").run(deviceKey);
      });
    });
  }

  updateCredentials(userId: number, c: Credentials): Promise<void> {
    return settle(() => {
      this.#tx("updateCredentials", () => {
        const { changes } = this.#stmt(
          "UPDATE users SET salt = ?, kdf_memory_kib = ?, kdf_passes = ?, kdf_parallelism = ?, " +
            "verifier_salt = ?, verifier = ? WHERE id = ?",
        ).run(
          c.salt,
          c.kdf.memoryKiB,
          c.kdf.passes,
          c.kdf.parallelism,
          c.verifierSalt,
          c.verifier,
          userId,
        );
        if (changes === 0) throw noUser("updateCredentials");
      });
    });
  }

  replaceIdentity(userId: number, identityKey: Uint8Array, keys: PrekeySet): Promise<void> {
    return settle(() => {
      checkKeys("replaceIdentity", keys);
      this.#tx("replaceIdentity", () => {
        const { changes } = this.#stmt("UPDATE users SET identity_key = ? WHERE id = ?")
          .run(identityKey, userId);
        if (changes === 0) throw noUser("replaceIdentity");
        for (const table of PREKEY_TABLES) {
          this.#stmt(`DELETE FROM ${table} WHERE user_id = ?`).run(userId);
        }
        this.#insertKeys(userId, keys);
      });
    });
  }

  deleteUser(userId: number): Promise<void> {
    return settle(() => {
      // Foreign keys cascade to devices, prekeys, queued messages and the backup.
      this.#tx("deleteUser", () => {
        this.#stmt("DELETE FROM users WHERE id = ?").run(userId);
      });
    });
  }

  #insertKeys(userId: number, keys: PrekeySet): void {
    this.#upsertSigned("signed_prekeys", userId, keys.signedPrekey);
    this.#upsertSigned("kyber_last_resort", userId, keys.kyberLastResort);
    this.#insertOneTime(userId, keys.oneTimePrekeys);
    this.#insertKyber(userId, keys.kyberPrekeys);
  }

  #upsertSigned(table: string, userId: number, k: SignedPrekeyRecord): void {
    this.#stmt(
      `INSERT INTO ${table} (user_id, key_id, public_key, signature) VALUES (?, ?, ?, ?) ` +
        "ON CONFLICT (user_id) DO UPDATE SET key_id = excluded.key_id, " +
        "public_key = excluded.public_key, signature = excluded.signature",
    ).run(userId, k.id, k.publicKey, k.signature);
  }

  #insertOneTime(userId: number, prekeys: OneTimePrekeyRecord[]): void {
    let at = 0;
    for (const size of insertChunks(prekeys.length)) {
      const params: (number | Uint8Array)[] = [];
      for (const k of prekeys.slice(at, at + size)) params.push(userId, k.id, k.publicKey);
      this.#stmt(
        `INSERT INTO one_time_prekeys (user_id, key_id, public_key) VALUES ${
          rowPlaceholders(size, 3)
        }`,
      ).run(...params);
      at += size;
    }
  }

  #insertKyber(userId: number, prekeys: SignedPrekeyRecord[]): void {
    let at = 0;
    for (const size of insertChunks(prekeys.length)) {
      const params: (number | Uint8Array)[] = [];
      for (const k of prekeys.slice(at, at + size)) {
        params.push(userId, k.id, k.publicKey, k.signature);
      }
      this.#stmt(
        `INSERT INTO kyber_prekeys (user_id, key_id, public_key, signature) VALUES ${
          rowPlaceholders(size, 4)
        }`,
      ).run(...params);
      at += size;
    }
  }

  setSignedPrekey(userId: number, prekey: SignedPrekeyRecord): Promise<void> {
    return settle(() => {
      this.#tx("setSignedPrekey", () => this.#upsertSigned("signed_prekeys", userId, prekey));
    });
  }

  setKyberLastResort(userId: number, prekey: SignedPrekeyRecord): Promise<void> {
    return settle(() => {
      this.#tx("setKyberLastResort", () => this.#upsertSigned("kyber_last_resort", userId, prekey));
    });
  }

  addOneTimePrekeys(userId: number, prekeys: OneTimePrekeyRecord[]): Promise<void> {
    return settle(() => {
      checkBatch("addOneTimePrekeys", prekeys.length);
      this.#tx("addOneTimePrekeys", () => this.#insertOneTime(userId, prekeys));
    });
  }

  addKyberPrekeys(userId: number, prekeys: SignedPrekeyRecord[]): Promise<void> {
    return settle(() => {
      checkBatch("addKyberPrekeys", prekeys.length);
      this.#tx("addKyberPrekeys", () => this.#insertKyber(userId, prekeys));
    });
  }

  prekeyCounts(userId: number): Promise<PrekeyCounts> {
    return settle(() => {
      return this.#read("prekeyCounts", () => {
        const row = this.#stmt(
          "SELECT (SELECT COUNT(*) FROM one_time_prekeys WHERE user_id = ?) AS one_time, " +
            "(SELECT COUNT(*) FROM kyber_prekeys WHERE user_id = ?) AS kyber",
        ).get(userId, userId) as Row;
        return { oneTime: int(row.one_time), kyber: int(row.kyber) };
      });
    });
  }

  takeBundle(userId: number): Promise<BundleRecord | null> {
    return settle(() => {
      return this.#tx("takeBundle", () => {
        const head = this.#stmt(
          "SELECT u.identity_key, s.key_id, s.public_key, s.signature, " +
            "l.key_id AS l_key_id, l.public_key AS l_public_key, l.signature AS l_signature " +
            "FROM users u JOIN signed_prekeys s ON s.user_id = u.id " +
            "JOIN kyber_last_resort l ON l.user_id = u.id WHERE u.id = ?",
        ).get(userId) as Row | undefined;
        if (head === undefined) return null;
        // The lowest id goes first; the delete and the read are one statement, inside the write
        // transaction, so no other caller can be handed the same key.
        const oneTime = this.#stmt(
          "DELETE FROM one_time_prekeys WHERE user_id = ? AND key_id = (SELECT key_id FROM " +
            "one_time_prekeys WHERE user_id = ? ORDER BY key_id LIMIT 1) RETURNING key_id, public_key",
        ).get(userId, userId) as Row | undefined;
        const kyber = this.#stmt(
          "DELETE FROM kyber_prekeys WHERE user_id = ? AND key_id = (SELECT key_id FROM " +
            "kyber_prekeys WHERE user_id = ? ORDER BY key_id LIMIT 1) " +
            "RETURNING key_id, public_key, signature",
        ).get(userId, userId) as Row | undefined;
        return {
          identityKey: bytes(head.identity_key),
          signedPrekey: toSigned(head),
          oneTimePrekey: oneTime === undefined ? null : toOneTime(oneTime),
          kyberPrekey: kyber === undefined ? toSigned(head, "l_") : toSigned(kyber),
          kyberLastResort: kyber === undefined,
        };
      });
    });
  }

  enqueue(items: NewQueued[]): Promise<number[]> {
    return settle(() => {
      checkBatch("enqueue", items.length);
      for (const item of items) checkMid("enqueue", item.mid);
      if (items.length === 0) return [];
      return this.#tx("enqueue", () => {
        const qids = new Map<string, number>();
        let at = 0;
        for (const size of insertChunks(items.length)) {
          const params: (number | string | Uint8Array)[] = [];
          for (let i = at; i < at + size; i++) {
            const m = items[i]!;
            params.push(m.recipientId, m.senderId, m.senderName, m.mid, m.body, m.sentAt);
          }
          // A retried (senderId, mid) inserts nothing and returns no row; its qid is looked up.
          const rows = this.#stmt(
            "INSERT INTO queue (recipient_id, sender_id, sender_name, mid, body, sent_at) " +
              `VALUES ${rowPlaceholders(size, 6)} ` +
              "ON CONFLICT (sender_id, mid) DO NOTHING RETURNING qid, sender_id, mid",
          ).all(...params) as Row[];
          for (const r of rows) {
            qids.set(messageKey(int(r.sender_id), r.mid as Uint8Array), int(r.qid));
          }
          at += size;
        }
        return items.map((m) => {
          const key = messageKey(m.senderId, m.mid);
          let qid = qids.get(key);
          if (qid === undefined) {
            const row = this.#stmt("SELECT qid FROM queue WHERE sender_id = ? AND mid = ?")
              .get(m.senderId, m.mid) as Row;
            qid = int(row.qid);
            qids.set(key, qid);
          }
          return qid;
        });
      });
    });
  }

  pending(recipientId: number, afterQid: number, limit: number): Promise<QueuedMessage[]> {
    return settle(() => {
      checkPage("pending", limit);
      return this.#read("pending", () => {
        const rows = this.#stmt(
          `SELECT ${QUEUE_COLUMNS} FROM queue WHERE recipient_id = ? AND qid > ? ` +
            "ORDER BY qid LIMIT ?",
        ).all(recipientId, afterQid, limit) as Row[];
        return rows.map(toQueued);
      });
    });
  }

  ack(recipientId: number, qids: number[]): Promise<number> {
    return settle(() => {
      checkBatch("ack", qids.length);
      checkQids("ack", qids);
      if (qids.length === 0) return 0;
      return this.#tx("ack", () => {
        // One statement for any count: the ids travel as a JSON array.
        const { changes } = this.#stmt(
          "DELETE FROM queue WHERE recipient_id = ? AND qid IN (SELECT value FROM json_each(?))",
        ).run(recipientId, JSON.stringify(qids));
        return Number(changes);
      });
    });
  }

  pendingCount(recipientId: number): Promise<number> {
    return settle(() => {
      return this.#read("pendingCount", () => {
        const row = this.#stmt("SELECT COUNT(*) AS n FROM queue WHERE recipient_id = ?")
          .get(recipientId) as Row;
        return int(row.n);
      });
    });
  }

  putBackup(userId: number, backup: BackupRecord): Promise<void> {
    return settle(() => {
      this.#tx("putBackup", () => {
        this.#stmt(
          "INSERT INTO backups (user_id, wrapped_key, data, updated_at) VALUES (?, ?, ?, ?) " +
            "ON CONFLICT (user_id) DO UPDATE SET wrapped_key = excluded.wrapped_key, " +
            "data = excluded.data, updated_at = excluded.updated_at",
        ).run(userId, backup.wrappedKey, backup.blob, backup.updatedAt);
      });
    });
  }

  getBackup(userId: number): Promise<BackupRecord | null> {
    return settle(() => {
      return this.#read("getBackup", () => {
        const row = this.#stmt(
          "SELECT wrapped_key, data, updated_at FROM backups WHERE user_id = ?",
        )
          .get(userId);
        return row === undefined ? null : toBackup(row as Row);
      });
    });
  }

  setBackupKey(userId: number, wrappedKey: Uint8Array): Promise<void> {
    return settle(() => {
      this.#tx("setBackupKey", () => {
        const { changes } = this.#stmt("UPDATE backups SET wrapped_key = ? WHERE user_id = ?")
          .run(wrappedKey, userId);
        if (changes === 0) {
          throw new StoreError("not_found", "setBackupKey: the user has no backup");
        }
      });
    });
  }
}

/** The per-user prekey tables, emptied by replaceIdentity. */
/**
 * Runs synchronous store work as a promise, so a thrown error (a RangeError from an input check,
 * a StoreError) becomes a rejection as it would from the MySQL store.
 */
function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}

const PREKEY_TABLES = [
  "signed_prekeys",
  "kyber_last_resort",
  "one_time_prekeys",
  "kyber_prekeys",
] as const;

function noUser(op: string): StoreError {
  return new StoreError("not_found", `${op}: no such user`);
}
