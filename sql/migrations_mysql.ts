/**
 * The MySQL/MariaDB schema, one migration per version, with the same versions as the SQLite
 * list. InnoDB for transactions and row locks; utf8mb4_bin so usernames compare byte for byte,
 * exactly as SQLite compares them. MySQL commits each DDL statement on its own, so every
 * statement here is safe to run again (IF NOT EXISTS) after a migration stopped half way.
 *
 * AUTO_INCREMENT counters are persisted by InnoDB on MySQL 8 and MariaDB 10.2.4+, so ids are
 * not reused after a restart (see the SQLite list for why that matters).
 *
 * @module
 */

import type { Migration } from "./migrations.ts";

const TABLE_OPTIONS = "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin";

/** The MySQL/MariaDB migrations, in version order. */
export const MYSQL_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: "users, devices, prekeys, message queue, backups",
    statements: [
      `CREATE TABLE IF NOT EXISTS users (
        id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        username VARCHAR(255) NOT NULL,
        profile BLOB NOT NULL,
        salt BLOB NOT NULL,
        kdf_memory_kib INT UNSIGNED NOT NULL,
        kdf_passes INT UNSIGNED NOT NULL,
        kdf_parallelism INT UNSIGNED NOT NULL,
        verifier_salt BLOB NOT NULL,
        verifier BLOB NOT NULL,
        identity_key BLOB NOT NULL,
        created_at BIGINT NOT NULL,
        UNIQUE KEY users_username (username)
      ) ${TABLE_OPTIONS}`,
      `CREATE TABLE IF NOT EXISTS devices (
        device_key VARBINARY(64) NOT NULL PRIMARY KEY,
        user_id BIGINT NOT NULL,
        UNIQUE KEY devices_user (user_id),
        CONSTRAINT devices_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      ) ${TABLE_OPTIONS}`,
      `CREATE TABLE IF NOT EXISTS signed_prekeys (
        user_id BIGINT NOT NULL PRIMARY KEY,
        key_id BIGINT NOT NULL,
        public_key BLOB NOT NULL,
        signature BLOB NOT NULL,
        CONSTRAINT signed_prekeys_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
          ON DELETE CASCADE
      ) ${TABLE_OPTIONS}`,
      `CREATE TABLE IF NOT EXISTS kyber_last_resort (
        user_id BIGINT NOT NULL PRIMARY KEY,
        key_id BIGINT NOT NULL,
        public_key BLOB NOT NULL,
        signature BLOB NOT NULL,
        CONSTRAINT kyber_last_resort_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
          ON DELETE CASCADE
      ) ${TABLE_OPTIONS}`,
      `CREATE TABLE IF NOT EXISTS one_time_prekeys (
        user_id BIGINT NOT NULL,
        key_id BIGINT NOT NULL,
        public_key BLOB NOT NULL,
        PRIMARY KEY (user_id, key_id),
        CONSTRAINT one_time_prekeys_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
          ON DELETE CASCADE
      ) ${TABLE_OPTIONS}`,
      `CREATE TABLE IF NOT EXISTS kyber_prekeys (
        user_id BIGINT NOT NULL,
        key_id BIGINT NOT NULL,
        public_key BLOB NOT NULL,
        signature BLOB NOT NULL,
        PRIMARY KEY (user_id, key_id),
        CONSTRAINT kyber_prekeys_user_fk FOREIGN KEY (user_id) REFERENCES users (id)
          ON DELETE CASCADE
      ) ${TABLE_OPTIONS}`,
      // sender_id is deliberately not a foreign key: a message already accepted from a sender
      // who then deletes their account is still delivered (sender_name travels with it).
      `CREATE TABLE IF NOT EXISTS queue (
        qid BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
        recipient_id BIGINT NOT NULL,
        sender_id BIGINT NOT NULL,
        sender_name VARCHAR(255) NOT NULL,
        mid VARBINARY(64) NOT NULL,
        body MEDIUMBLOB NOT NULL,
        sent_at BIGINT NOT NULL,
        UNIQUE KEY queue_sender_mid (sender_id, mid),
        KEY queue_recipient (recipient_id, qid),
        CONSTRAINT queue_recipient_fk FOREIGN KEY (recipient_id) REFERENCES users (id)
          ON DELETE CASCADE
      ) ${TABLE_OPTIONS}`,
      `CREATE TABLE IF NOT EXISTS backups (
        user_id BIGINT NOT NULL PRIMARY KEY,
        wrapped_key BLOB NOT NULL,
        data LONGBLOB NOT NULL,
        updated_at BIGINT NOT NULL,
        CONSTRAINT backups_user_fk FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
      ) ${TABLE_OPTIONS}`,
    ],
  },
  {
    version: 2,
    name: "failed logins per address, shared by every server node",
    statements: [
      `CREATE TABLE IF NOT EXISTS login_failures (
        throttle_key VARCHAR(255) NOT NULL PRIMARY KEY,
        count INT NOT NULL,
        first_at BIGINT NOT NULL,
        locked_until BIGINT NOT NULL,
        lockouts INT NOT NULL
      ) ${TABLE_OPTIONS}`,
    ],
  },
  {
    version: 3,
    name: "forget account keys wrapped under password-derived keys",
    // Backups used to carry the account key wrapped under a key derived from the password, which
    // the server could attack offline by guessing passwords. The column stays (migrations never
    // drop) but is emptied; without it the old backup blobs open for no one.
    statements: [`UPDATE backups SET wrapped_key = ''`],
  },
  {
    version: 4,
    name: "invite tokens",
    // Invite tokens for registration "token": only a hash is kept, so a dump hands out nothing.
    statements: [
      `CREATE TABLE IF NOT EXISTS invites (
        token_hash VARBINARY(32) NOT NULL PRIMARY KEY,
        created_at BIGINT NOT NULL
      ) ${TABLE_OPTIONS}`,
    ],
  },
];
