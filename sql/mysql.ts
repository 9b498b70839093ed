/**
 * The MySQL/MariaDB store, on mysql2: a connection pool, InnoDB, utf8mb4_bin, prepared
 * statements (cached per connection by mysql2). Works on MariaDB 10.11 and MySQL 8.
 *
 * Server nodes share one database, so everything that must happen once happens under a row lock:
 * a one-time prekey is claimed with `FOR UPDATE SKIP LOCKED` and deleted in the same
 * transaction; enqueue locks its recipients' rows so that, per recipient, qids become visible in
 * increasing order (a reader paging with `afterQid` never skips a message that commits late).
 *
 * Connections, transactions and retries after a dropped connection live in `mysql_pool.ts`; the
 * multi-statement steps in `mysql_statements.ts`.
 *
 * @module
 */

import type { MysqlLocation } from "./location.ts";
import { MYSQL_MIGRATIONS, pendingMigrations } from "./migrations.ts";
import { type MysqlOptions, MysqlPool } from "./mysql_pool.ts";
import {
  bind,
  claim,
  insertKeys,
  insertKyber,
  insertOneTime,
  lockRecipients,
  lockUser,
  lookupQids,
  MAX_IN_LIST,
  noUser,
  PREKEY_TABLES,
  replaceSigned,
} from "./mysql_statements.ts";
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
  checkBatch,
  checkDeviceKey,
  checkKeys,
  checkMid,
  checkPage,
  checkQids,
  checkThrottleKey,
  checkUsername,
} from "./limits.ts";
import { insertChunks, listPlaceholders, padList, rowPlaceholders } from "./statement_shapes.ts";
import {
  bundleOf,
  int,
  messageKey,
  QUEUE_COLUMNS,
  toBackup,
  toLoginFailures,
  toQueued,
  toUser,
  USER_COLUMNS,
  userColumns,
} from "./rows.ts";
import { type Param, run, runRows } from "./mysql_run.ts";

/** Seconds migrate() waits for another server that is migrating the same database. */
export const MIGRATE_LOCK_WAIT_S = 60;

/**
 * Opens the store on the MySQL/MariaDB database at `location`. No connection is made until the
 * first call (`migrate()` is the usual first call).
 */
export function openMysql(location: MysqlLocation, options: MysqlOptions = {}): Store {
  return new MysqlStore(new MysqlPool(location, options), location);
}

class MysqlStore implements Store {
  readonly kind = "mysql" as const;
  #pool: MysqlPool;
  #location: MysqlLocation;

  constructor(pool: MysqlPool, location: MysqlLocation) {
    this.#pool = pool;
    this.#location = location;
  }

  [Symbol.for("Deno.customInspect")](): string {
    return `MysqlStore(${this.#location})`;
  }

  migrate(): Promise<MigrationReport> {
    // MySQL commits DDL implicitly, so migrations cannot run in a transaction; a named lock
    // keeps two servers from migrating the same database at once instead.
    return this.#pool.run("migrate", async (c) => {
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
    }, { tx: false, idempotent: true });
  }

  close(): Promise<void> {
    return this.#pool.close();
  }

  createUser(user: NewUser, keys: PrekeySet, deviceKey: Uint8Array): Promise<UserRecord> {
    return this.#pool.write("createUser", async (c) => {
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
    return this.#pool.read("userByName", async (c) => {
      const [row] = await runRows(c, `SELECT ${USER_COLUMNS} FROM users WHERE username = ?`, [
        username,
      ]);
      return row === undefined ? null : toUser(row);
    });
  }

  userById(id: number): Promise<UserRecord | null> {
    return this.#pool.read("userById", async (c) => {
      const [row] = await runRows(c, `SELECT ${USER_COLUMNS} FROM users WHERE id = ?`, [id]);
      return row === undefined ? null : toUser(row);
    });
  }

  userByDevice(deviceKey: Uint8Array): Promise<UserRecord | null> {
    return this.#pool.read("userByDevice", async (c) => {
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
    return this.#pool.write("bindDevice", async (c) => {
      await lockUser(c, "bindDevice", userId);
      await bind(c, userId, deviceKey);
    }, {
      check: () => {
        checkDeviceKey("bindDevice", deviceKey);
      },
    });
  }

  unbindDevice(deviceKey: Uint8Array): Promise<void> {
    return this.#pool.write("unbindDevice", async (c) => {
      await run(c, "DELETE FROM devices WHERE device_key = ?", [deviceKey]);
    }, { idempotent: true });
  }

  updateCredentials(userId: number, cr: Credentials): Promise<void> {
    return this.#pool.write("updateCredentials", async (c) => {
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
    return this.#pool.write("replaceIdentity", async (c) => {
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
    return this.#pool.write("deleteUser", async (c) => {
      await run(c, "DELETE FROM users WHERE id = ?", [userId]);
    }, { idempotent: true });
  }

  addInvite(tokenHash: Uint8Array, createdAt: number): Promise<void> {
    return this.#pool.write("addInvite", async (c) => {
      await run(c, "INSERT IGNORE INTO invites (token_hash, created_at) VALUES (?, ?)", [
        tokenHash,
        createdAt,
      ]);
    }, { idempotent: true });
  }

  takeInvite(tokenHash: Uint8Array): Promise<boolean> {
    return this.#pool.write("takeInvite", async (c) => {
      const result = await run(c, "DELETE FROM invites WHERE token_hash = ?", [tokenHash]);
      return result.affectedRows > 0;
    });
  }

  setSignedPrekey(userId: number, prekey: SignedPrekeyRecord): Promise<void> {
    return this.#pool.write("setSignedPrekey", async (c) => {
      await replaceSigned(c, "signed_prekeys", userId, prekey);
    }, { idempotent: true });
  }

  setKyberLastResort(userId: number, prekey: SignedPrekeyRecord): Promise<void> {
    return this.#pool.write("setKyberLastResort", async (c) => {
      await replaceSigned(c, "kyber_last_resort", userId, prekey);
    }, { idempotent: true });
  }

  addOneTimePrekeys(userId: number, prekeys: OneTimePrekeyRecord[]): Promise<void> {
    return this.#pool.write("addOneTimePrekeys", async (c) => {
      await insertOneTime(c, userId, prekeys);
    }, {
      check: () => {
        checkBatch("addOneTimePrekeys", prekeys.length);
      },
    });
  }

  addKyberPrekeys(userId: number, prekeys: SignedPrekeyRecord[]): Promise<void> {
    return this.#pool.write("addKyberPrekeys", async (c) => {
      await insertKyber(c, userId, prekeys);
    }, {
      check: () => {
        checkBatch("addKyberPrekeys", prekeys.length);
      },
    });
  }

  prekeyCounts(userId: number): Promise<PrekeyCounts> {
    return this.#pool.read("prekeyCounts", async (c) => {
      const [row] = await runRows(
        c,
        "SELECT (SELECT COUNT(*) FROM one_time_prekeys WHERE user_id = ?) AS one_time, " +
          "(SELECT COUNT(*) FROM kyber_prekeys WHERE user_id = ?) AS kyber",
        [userId, userId],
      );
      return { oneTime: int(row!.one_time), kyber: int(row!.kyber) };
    });
  }

  takeBundle(userId: number, withOneTime = true): Promise<BundleRecord | null> {
    return this.#pool.write("takeBundle", async (c) => {
      const [head] = await runRows(
        c,
        "SELECT u.identity_key, s.key_id, s.public_key, s.signature, " +
          "l.key_id AS l_key_id, l.public_key AS l_public_key, l.signature AS l_signature " +
          "FROM users u JOIN signed_prekeys s ON s.user_id = u.id " +
          "JOIN kyber_last_resort l ON l.user_id = u.id WHERE u.id = ?",
        [userId],
      );
      if (head === undefined) return null;
      if (!withOneTime) return bundleOf(head, undefined, undefined);
      const oneTime = await claim(c, "one_time_prekeys", "key_id, public_key", userId);
      const kyber = await claim(c, "kyber_prekeys", "key_id, public_key, signature", userId);
      return bundleOf(head, oneTime, kyber);
    });
  }

  enqueue(items: NewQueued[]): Promise<number[]> {
    // Idempotent on (senderId, mid), so it may run again even when COMMIT's fate is unknown.
    return this.#pool.write("enqueue", async (c) => {
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
    return this.#pool.read("pending", async (c) => {
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
    return this.ackMany([{ recipientId, qids }]);
  }

  ackMany(acks: { recipientId: number; qids: number[] }[]): Promise<number> {
    return this.#pool.write("ack", async (c) => {
      let deleted = 0;
      for (const a of acks) {
        const unique = [...new Set(a.qids)];
        for (let at = 0; at < unique.length; at += MAX_IN_LIST) {
          const list = padList(unique.slice(at, at + MAX_IN_LIST));
          const result = await run(
            c,
            `DELETE FROM queue WHERE recipient_id = ? AND qid IN (${
              listPlaceholders(list.length)
            })`,
            [a.recipientId, ...list],
          );
          deleted += result.affectedRows;
        }
      }
      return deleted;
    }, {
      idempotent: true,
      check: () => {
        checkBatch("ack", acks.reduce((n, a) => n + a.qids.length, 0));
        for (const a of acks) checkQids("ack", a.qids);
      },
    });
  }

  pendingCount(recipientId: number): Promise<number> {
    return this.#pool.read("pendingCount", async (c) => {
      const [row] = await runRows(c, "SELECT COUNT(*) AS n FROM queue WHERE recipient_id = ?", [
        recipientId,
      ]);
      return int(row!.n);
    });
  }

  async loginFailures(key: string): Promise<LoginFailures | null> {
    checkThrottleKey("loginFailures", key);
    return await this.#pool.read("loginFailures", async (c) => {
      const [row] = await runRows(
        c,
        "SELECT count, first_at, locked_until, lockouts FROM login_failures WHERE throttle_key = ?",
        [key],
      );
      return row === undefined ? null : toLoginFailures(row);
    });
  }

  async putLoginFailures(key: string, f: LoginFailures): Promise<void> {
    checkThrottleKey("putLoginFailures", key);
    return await this.#pool.write("putLoginFailures", async (c) => {
      await run(
        c,
        "REPLACE INTO login_failures (throttle_key, count, first_at, locked_until, lockouts) " +
          "VALUES (?, ?, ?, ?, ?)",
        [key, f.count, f.first, f.lockedUntil, f.lockouts],
      );
    }, { idempotent: true });
  }

  async deleteLoginFailures(key: string): Promise<void> {
    checkThrottleKey("deleteLoginFailures", key);
    return await this.#pool.write("deleteLoginFailures", async (c) => {
      await run(c, "DELETE FROM login_failures WHERE throttle_key = ?", [key]);
    }, { idempotent: true });
  }

  pruneLoginFailures(before: number): Promise<number> {
    return this.#pool.write("pruneLoginFailures", async (c) => {
      const r = await run(
        c,
        "DELETE FROM login_failures WHERE first_at < ? AND locked_until < ?",
        [before, before],
      );
      return r.affectedRows;
    }, { idempotent: true });
  }

  putBackup(userId: number, backup: BackupRecord): Promise<void> {
    return this.#pool.write("putBackup", async (c) => {
      await run(
        c,
        // wrapped_key is no longer used: nothing password-derived protects server-held data.
        "REPLACE INTO backups (user_id, wrapped_key, data, updated_at) VALUES (?, '', ?, ?)",
        [userId, backup.blob, backup.updatedAt],
      );
    }, { idempotent: true });
  }

  getBackup(userId: number): Promise<BackupRecord | null> {
    return this.#pool.read("getBackup", async (c) => {
      const [row] = await runRows(
        c,
        "SELECT data, updated_at FROM backups WHERE user_id = ?",
        [userId],
      );
      return row === undefined ? null : toBackup(row);
    });
  }

  deleteBackup(userId: number): Promise<void> {
    return this.#pool.write("deleteBackup", async (c) => {
      await run(c, "DELETE FROM backups WHERE user_id = ?", [userId]);
    }, { idempotent: true });
  }
}

export type { MysqlOptions };
