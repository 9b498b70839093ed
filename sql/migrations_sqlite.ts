/**
 * The SQLite schema, one migration per version. Tables are STRICT so a wrong type is refused, not
 * stored. Ids use AUTOINCREMENT so they are never reused: a deleted user's id must not come back
 * as someone else's, and a queue id must keep growing after every message is acknowledged, or a
 * reader paging with `afterQid` would skip new messages.
 *
 * @module
 */

import type { Migration } from "./migrations.ts";

/** The SQLite migrations, in version order. */
export const SQLITE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "users, devices, prekeys, message queue, backups",
    statements: [
      `CREATE TABLE users (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        username TEXT NOT NULL UNIQUE,
        profile BLOB NOT NULL,
        salt BLOB NOT NULL,
        kdf_memory_kib INTEGER NOT NULL,
        kdf_passes INTEGER NOT NULL,
        kdf_parallelism INTEGER NOT NULL,
        verifier_salt BLOB NOT NULL,
        verifier BLOB NOT NULL,
        identity_key BLOB NOT NULL,
        created_at INTEGER NOT NULL
      ) STRICT`,
      // One device per account: user_id is unique as well as the key.
      `CREATE TABLE devices (
        device_key BLOB PRIMARY KEY,
        user_id INTEGER NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE
      ) STRICT, WITHOUT ROWID`,
      `CREATE TABLE signed_prekeys (
        user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        key_id INTEGER NOT NULL,
        public_key BLOB NOT NULL,
        signature BLOB NOT NULL
      ) STRICT`,
      `CREATE TABLE kyber_last_resort (
        user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        key_id INTEGER NOT NULL,
        public_key BLOB NOT NULL,
        signature BLOB NOT NULL
      ) STRICT`,
      `CREATE TABLE one_time_prekeys (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        key_id INTEGER NOT NULL,
        public_key BLOB NOT NULL,
        PRIMARY KEY (user_id, key_id)
      ) STRICT, WITHOUT ROWID`,
      `CREATE TABLE kyber_prekeys (
        user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        key_id INTEGER NOT NULL,
        public_key BLOB NOT NULL,
        signature BLOB NOT NULL,
        PRIMARY KEY (user_id, key_id)
      ) STRICT, WITHOUT ROWID`,
      // sender_id is deliberately not a foreign key: a message already accepted from a sender
      // who then deletes their account is still delivered (sender_name travels with it).
      `CREATE TABLE queue (
        qid INTEGER PRIMARY KEY AUTOINCREMENT,
        recipient_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        sender_id INTEGER NOT NULL,
        sender_name TEXT NOT NULL,
        mid BLOB NOT NULL,
        body BLOB NOT NULL,
        sent_at INTEGER NOT NULL,
        UNIQUE (sender_id, mid)
      ) STRICT`,
      `CREATE INDEX queue_recipient ON queue (recipient_id, qid)`,
      `CREATE TABLE backups (
        user_id INTEGER PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
        wrapped_key BLOB NOT NULL,
        data BLOB NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT`,
    ],
  },
  {
    version: 2,
    name: "failed logins per address, shared by every server node",
    statements: [
      `CREATE TABLE login_failures (
        throttle_key TEXT PRIMARY KEY,
        count INTEGER NOT NULL,
        first_at INTEGER NOT NULL,
        locked_until INTEGER NOT NULL,
        lockouts INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID`,
    ],
  },
  {
    version: 3,
    name: "forget account keys wrapped under password-derived keys",
    // Backups used to carry the account key wrapped under a key derived from the password, which
    // the server could attack offline by guessing passwords. The column stays (migrations never
    // drop) but is emptied; without it the old backup blobs open for no one.
    statements: [`UPDATE backups SET wrapped_key = X''`],
  },
  {
    version: 4,
    name: "invite tokens",
    // Invite tokens for registration "token": only a hash is kept, so a dump hands out nothing.
    statements: [
      `CREATE TABLE invites (
        token_hash BLOB PRIMARY KEY,
        created_at INTEGER NOT NULL
      ) STRICT, WITHOUT ROWID`,
    ],
  },
];
