/**
 * The SQLite store, on `node:sqlite` (built into Deno): the embedded default, one file in the
 * server's folder.
 *
 * `node:sqlite` is synchronous, so each method runs its whole transaction in one synchronous
 * stretch (see `sqlite_connection.ts`); batches are bounded (`MAX_BATCH`) to keep every stretch
 * short.
 *
 * @module
 */

import {
  type BackupRecord,
  type BundleRecord,
  type Credentials,
  type LoginFailures,
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
  settle,
  SqliteConnection,
  type SqliteOptions,
  type SqliteSettings,
} from "./sqlite_connection.ts";
import { pendingMigrations, SQLITE_MIGRATIONS } from "./migrations.ts";
import {
  checkBatch,
  checkDeviceKey,
  checkKeys,
  checkMid,
  checkPage,
  checkQids,
  checkThrottleKey,
  checkUsername,
} from "./limits.ts";
import { insertChunks, rowPlaceholders } from "./statement_shapes.ts";
import {
  bundleOf,
  int,
  QUEUE_COLUMNS,
  type Row,
  toBackup,
  toLoginFailures,
  toQueuedFromArray,
  toUser,
  USER_COLUMNS,
  userColumns,
} from "./rows.ts";

/** The SQLite store: the Store contract plus a look at its connection settings. */
export interface SqliteStore extends Store {
  readonly kind: "sqlite";
  /** The pragmas in force on the store's connection. */
  settings(): Promise<SqliteSettings>;
}

/**
 * Opens (creating if needed) the SQLite database at `path` in WAL mode with `synchronous=NORMAL` and an fsync of the WAL before each write resolves.
 * Call `migrate()` before use. Throws `StoreError("unavailable")` when the file cannot be opened.
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
  return new SqliteStoreImpl(SqliteConnection.open(path, options));
}

class SqliteStoreImpl implements SqliteStore {
  readonly kind = "sqlite" as const;
  #db: SqliteConnection;

  /** Resolves with `p`'s result once the write it made is on disk (see SqliteConnection.sync). */
  async #durable<T>(p: Promise<T>): Promise<T> {
    const result = await p;
    await this.#db.sync();
    return result;
  }

  constructor(db: SqliteConnection) {
    this.#db = db;
  }

  migrate(): Promise<MigrationReport> {
    // SQLite DDL is transactional: each run is all or nothing. The version is read inside the
    // write transaction, so two processes migrating at once run each step once.
    return settle(() =>
      this.#db.tx("migrate", () => {
        this.#db.exec(
          "CREATE TABLE IF NOT EXISTS schema_version " +
            "(version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL) STRICT",
        );
        const row = this.#db.stmt("SELECT COALESCE(MAX(version), 0) AS v FROM schema_version")
          .get() as Row;
        const from = int(row.v);
        for (const m of pendingMigrations(from, SQLITE_MIGRATIONS)) {
          for (const sql of m.statements) this.#db.exec(sql);
          this.#db.stmt("INSERT INTO schema_version (version, applied_at) VALUES (?, ?)")
            .run(m.version, Date.now());
        }
        return { from, to: SQLITE_MIGRATIONS.length };
      })
    );
  }

  settings(): Promise<SqliteSettings> {
    return settle(() => this.#db.settings());
  }

  async close(): Promise<void> {
    // Writes already reported durable stay so; one still syncing finishes first.
    await this.#db.sync().catch(() => {});
    return settle(() => this.#db.close());
  }

  createUser(user: NewUser, keys: PrekeySet, deviceKey: Uint8Array): Promise<UserRecord> {
    return this.#durable(settle(() => {
      checkUsername("createUser", user.username);
      checkDeviceKey("createUser", deviceKey);
      checkKeys("createUser", keys);
      return this.#db.tx("createUser", () => {
        const row = this.#db.stmt(
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
    }));
  }

  userByName(username: string): Promise<UserRecord | null> {
    return settle(() => {
      return this.#db.read("userByName", () => {
        const row = this.#db.stmt(`SELECT ${USER_COLUMNS} FROM users WHERE username = ?`).get(
          username,
        );
        return row === undefined ? null : toUser(row as Row);
      });
    });
  }

  userById(id: number): Promise<UserRecord | null> {
    return settle(() => {
      return this.#db.read("userById", () => {
        const row = this.#db.stmt(`SELECT ${USER_COLUMNS} FROM users WHERE id = ?`).get(id);
        return row === undefined ? null : toUser(row as Row);
      });
    });
  }

  userByDevice(deviceKey: Uint8Array): Promise<UserRecord | null> {
    return settle(() => {
      return this.#db.read("userByDevice", () => {
        const row = this.#db.stmt(
          `SELECT ${userColumns("u")} FROM devices d JOIN users u ON u.id = d.user_id ` +
            "WHERE d.device_key = ?",
        ).get(deviceKey);
        return row === undefined ? null : toUser(row as Row);
      });
    });
  }

  bindDevice(userId: number, deviceKey: Uint8Array): Promise<void> {
    return this.#durable(settle(() => {
      checkDeviceKey("bindDevice", deviceKey);
      this.#db.tx("bindDevice", () => this.#bind(userId, deviceKey));
    }));
  }

  /**
   * Makes `deviceKey` the user's one device. A key bound to another account moves: the client
   * proved it holds the key's private half in the Noise handshake, and logged in to this account.
   */
  #bind(userId: number, deviceKey: Uint8Array): void {
    this.#db.stmt("DELETE FROM devices WHERE user_id = ? OR device_key = ?").run(userId, deviceKey);
    this.#db.stmt("INSERT INTO devices (device_key, user_id) VALUES (?, ?)").run(deviceKey, userId);
  }

  unbindDevice(deviceKey: Uint8Array): Promise<void> {
    return this.#durable(settle(() => {
      this.#db.tx("unbindDevice", () => {
        this.#db.stmt("DELETE FROM devices WHERE device_key = ?").run(deviceKey);
      });
    }));
  }

  updateCredentials(userId: number, c: Credentials): Promise<void> {
    return this.#durable(settle(() => {
      this.#db.tx("updateCredentials", () => {
        const { changes } = this.#db.stmt(
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
    }));
  }

  replaceIdentity(userId: number, identityKey: Uint8Array, keys: PrekeySet): Promise<void> {
    return this.#durable(settle(() => {
      checkKeys("replaceIdentity", keys);
      this.#db.tx("replaceIdentity", () => {
        const { changes } = this.#db.stmt("UPDATE users SET identity_key = ? WHERE id = ?")
          .run(identityKey, userId);
        if (changes === 0) throw noUser("replaceIdentity");
        for (const table of PREKEY_TABLES) {
          this.#db.stmt(`DELETE FROM ${table} WHERE user_id = ?`).run(userId);
        }
        this.#insertKeys(userId, keys);
      });
    }));
  }

  deleteUser(userId: number): Promise<void> {
    return this.#durable(settle(() => {
      // Foreign keys cascade to devices, prekeys, queued messages and the backup.
      this.#db.tx("deleteUser", () => {
        this.#db.stmt("DELETE FROM users WHERE id = ?").run(userId);
      });
    }));
  }

  addInvite(tokenHash: Uint8Array, createdAt: number): Promise<void> {
    return this.#durable(settle(() => {
      this.#db.stmt("INSERT OR IGNORE INTO invites (token_hash, created_at) VALUES (?, ?)")
        .run(tokenHash, createdAt);
    }));
  }

  takeInvite(tokenHash: Uint8Array): Promise<boolean> {
    return this.#durable(settle(() => {
      const { changes } = this.#db.stmt("DELETE FROM invites WHERE token_hash = ?").run(tokenHash);
      return changes > 0;
    }));
  }

  #insertKeys(userId: number, keys: PrekeySet): void {
    this.#upsertSigned("signed_prekeys", userId, keys.signedPrekey);
    this.#upsertSigned("kyber_last_resort", userId, keys.kyberLastResort);
    this.#insertOneTime(userId, keys.oneTimePrekeys);
    this.#insertKyber(userId, keys.kyberPrekeys);
  }

  #upsertSigned(table: string, userId: number, k: SignedPrekeyRecord): void {
    this.#db.stmt(
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
      this.#db.stmt(
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
      this.#db.stmt(
        `INSERT INTO kyber_prekeys (user_id, key_id, public_key, signature) VALUES ${
          rowPlaceholders(size, 4)
        }`,
      ).run(...params);
      at += size;
    }
  }

  setSignedPrekey(userId: number, prekey: SignedPrekeyRecord): Promise<void> {
    return this.#durable(settle(() => {
      this.#db.tx("setSignedPrekey", () => this.#upsertSigned("signed_prekeys", userId, prekey));
    }));
  }

  setKyberLastResort(userId: number, prekey: SignedPrekeyRecord): Promise<void> {
    return this.#durable(settle(() => {
      this.#db.tx(
        "setKyberLastResort",
        () => this.#upsertSigned("kyber_last_resort", userId, prekey),
      );
    }));
  }

  addOneTimePrekeys(userId: number, prekeys: OneTimePrekeyRecord[]): Promise<void> {
    return this.#durable(settle(() => {
      checkBatch("addOneTimePrekeys", prekeys.length);
      this.#db.tx("addOneTimePrekeys", () => this.#insertOneTime(userId, prekeys));
    }));
  }

  addKyberPrekeys(userId: number, prekeys: SignedPrekeyRecord[]): Promise<void> {
    return this.#durable(settle(() => {
      checkBatch("addKyberPrekeys", prekeys.length);
      this.#db.tx("addKyberPrekeys", () => this.#insertKyber(userId, prekeys));
    }));
  }

  prekeyCounts(userId: number): Promise<PrekeyCounts> {
    return settle(() => {
      return this.#db.read("prekeyCounts", () => {
        const row = this.#db.stmt(
          "SELECT (SELECT COUNT(*) FROM one_time_prekeys WHERE user_id = ?) AS one_time, " +
            "(SELECT COUNT(*) FROM kyber_prekeys WHERE user_id = ?) AS kyber",
        ).get(userId, userId) as Row;
        return { oneTime: int(row.one_time), kyber: int(row.kyber) };
      });
    });
  }

  takeBundle(userId: number, withOneTime = true): Promise<BundleRecord | null> {
    return this.#durable(settle(() => {
      return this.#db.tx("takeBundle", () => {
        const head = this.#db.stmt(
          "SELECT u.identity_key, s.key_id, s.public_key, s.signature, " +
            "l.key_id AS l_key_id, l.public_key AS l_public_key, l.signature AS l_signature " +
            "FROM users u JOIN signed_prekeys s ON s.user_id = u.id " +
            "JOIN kyber_last_resort l ON l.user_id = u.id WHERE u.id = ?",
        ).get(userId) as Row | undefined;
        if (head === undefined) return null;
        // The lowest id goes first; the delete and the read are one statement, inside the write
        // transaction, so no other caller can be handed the same key.
        if (!withOneTime) return bundleOf(head, undefined, undefined);
        const oneTime = this.#db.stmt(
          "DELETE FROM one_time_prekeys WHERE user_id = ? AND key_id = (SELECT key_id FROM " +
            "one_time_prekeys WHERE user_id = ? ORDER BY key_id LIMIT 1) RETURNING key_id, public_key",
        ).get(userId, userId) as Row | undefined;
        const kyber = this.#db.stmt(
          "DELETE FROM kyber_prekeys WHERE user_id = ? AND key_id = (SELECT key_id FROM " +
            "kyber_prekeys WHERE user_id = ? ORDER BY key_id LIMIT 1) " +
            "RETURNING key_id, public_key, signature",
        ).get(userId, userId) as Row | undefined;
        return bundleOf(head, oneTime, kyber);
      });
    }));
  }

  enqueue(items: NewQueued[]): Promise<number[]> {
    return this.#durable(settle(() => {
      checkBatch("enqueue", items.length);
      for (const item of items) checkMid("enqueue", item.mid);
      if (items.length === 0) return [];
      return this.#db.tx("enqueue", () => {
        // One prepared single-row INSERT per message: node:sqlite runs a statement in-process
        // for a few microseconds, and measured faster than multi-row INSERT … RETURNING, whose
        // rows would have to be matched back to the input (scripts/bench_store.ts).
        const insert = this.#db.stmt(
          "INSERT INTO queue (recipient_id, sender_id, sender_name, mid, body, sent_at) " +
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (sender_id, mid) DO NOTHING",
        );
        const qids: number[] = [];
        for (const m of items) {
          const { changes, lastInsertRowid } = insert.run(
            m.recipientId,
            m.senderId,
            m.senderName,
            m.mid,
            m.body,
            m.sentAt,
          );
          // A retried (senderId, mid) inserts nothing: it keeps the qid it already has.
          qids.push(changes === 1 ? Number(lastInsertRowid) : this.#existingQid(m));
        }
        return qids;
      });
    }));
  }

  #existingQid(m: NewQueued): number {
    const row = this.#db.stmt("SELECT qid FROM queue WHERE sender_id = ? AND mid = ?")
      .get(m.senderId, m.mid) as Row;
    return int(row.qid);
  }

  pending(recipientId: number, afterQid: number, limit: number): Promise<QueuedMessage[]> {
    return settle(() => {
      checkPage("pending", limit);
      return this.#db.read("pending", () => {
        const rows = this.#db.stmt(
          `SELECT ${QUEUE_COLUMNS} FROM queue WHERE recipient_id = ? AND qid > ? ` +
            "ORDER BY qid LIMIT ?",
          true,
        ).all(recipientId, afterQid, limit) as unknown[];
        return rows.map((r) => toQueuedFromArray(r as unknown[]));
      });
    });
  }

  ack(recipientId: number, qids: number[]): Promise<number> {
    return this.ackMany([{ recipientId, qids }]);
  }

  ackMany(acks: { recipientId: number; qids: number[] }[]): Promise<number> {
    return settle(() => {
      checkBatch("ack", acks.reduce((n, a) => n + a.qids.length, 0));
      for (const a of acks) checkQids("ack", a.qids);
      const work = acks.filter((a) => a.qids.length > 0);
      if (work.length === 0) return 0;
      // Acks are not synced before resolving: losing one in a crash only means a redelivery,
      // which clients de-duplicate by message id.
      return this.#db.tx("ack", () => {
        // One statement for any count: the ids travel as a JSON array.
        const del = this.#db.stmt(
          "DELETE FROM queue WHERE recipient_id = ? AND qid IN (SELECT value FROM json_each(?))",
        );
        let deleted = 0;
        for (const a of work) {
          deleted += Number(del.run(a.recipientId, JSON.stringify(a.qids)).changes);
        }
        return deleted;
      });
    });
  }

  pendingCount(recipientId: number): Promise<number> {
    return settle(() => {
      return this.#db.read("pendingCount", () => {
        const row = this.#db.stmt("SELECT COUNT(*) AS n FROM queue WHERE recipient_id = ?")
          .get(recipientId) as Row;
        return int(row.n);
      });
    });
  }

  loginFailures(key: string): Promise<LoginFailures | null> {
    return settle(() => {
      checkThrottleKey("loginFailures", key);
      return this.#db.read("loginFailures", () => {
        const row = this.#db.stmt(
          "SELECT count, first_at, locked_until, lockouts FROM login_failures WHERE throttle_key = ?",
        ).get(key);
        return row === undefined ? null : toLoginFailures(row as Row);
      });
    });
  }

  putLoginFailures(key: string, f: LoginFailures): Promise<void> {
    return this.#durable(settle(() => {
      checkThrottleKey("putLoginFailures", key);
      this.#db.tx("putLoginFailures", () => {
        this.#db.stmt(
          "INSERT INTO login_failures (throttle_key, count, first_at, locked_until, lockouts) " +
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (throttle_key) DO UPDATE SET " +
            "count = excluded.count, first_at = excluded.first_at, " +
            "locked_until = excluded.locked_until, lockouts = excluded.lockouts",
        ).run(key, f.count, f.first, f.lockedUntil, f.lockouts);
      });
    }));
  }

  deleteLoginFailures(key: string): Promise<void> {
    return this.#durable(settle(() => {
      checkThrottleKey("deleteLoginFailures", key);
      this.#db.tx("deleteLoginFailures", () => {
        this.#db.stmt("DELETE FROM login_failures WHERE throttle_key = ?").run(key);
      });
    }));
  }

  pruneLoginFailures(before: number): Promise<number> {
    return this.#durable(settle(() => {
      return this.#db.tx("pruneLoginFailures", () => {
        const { changes } = this.#db.stmt(
          "DELETE FROM login_failures WHERE first_at < ? AND locked_until < ?",
        ).run(before, before);
        return Number(changes);
      });
    }));
  }

  putBackup(userId: number, backup: BackupRecord): Promise<void> {
    return this.#durable(settle(() => {
      this.#db.tx("putBackup", () => {
        this.#db.stmt(
          // wrapped_key is no longer used: nothing password-derived protects server-held data.
          "INSERT INTO backups (user_id, wrapped_key, data, updated_at) VALUES (?, X'', ?, ?) " +
            "ON CONFLICT (user_id) DO UPDATE SET wrapped_key = X'', " +
            "data = excluded.data, updated_at = excluded.updated_at",
        ).run(userId, backup.blob, backup.updatedAt);
      });
    }));
  }

  getBackup(userId: number): Promise<BackupRecord | null> {
    return settle(() => {
      return this.#db.read("getBackup", () => {
        const row = this.#db.stmt(
          "SELECT data, updated_at FROM backups WHERE user_id = ?",
        )
          .get(userId);
        return row === undefined ? null : toBackup(row as Row);
      });
    });
  }

  deleteBackup(userId: number): Promise<void> {
    return this.#durable(settle(() => {
      this.#db.tx("deleteBackup", () => {
        this.#db.stmt("DELETE FROM backups WHERE user_id = ?").run(userId);
      });
    }));
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

export { DEFAULT_BUSY_TIMEOUT_MS } from "./sqlite_connection.ts";
export type { SqliteOptions, SqliteSettings };
