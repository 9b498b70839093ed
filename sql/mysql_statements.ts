/**
 * The MySQL store's multi-statement steps: locking, claiming one-time prekeys, binding devices,
 * inserting prekeys in batches, and finding the qids of queued messages.
 *
 * @module
 */

import type { PoolConnection } from "mysql2/promise";
import {
  type NewQueued,
  type OneTimePrekeyRecord,
  type PrekeySet,
  type SignedPrekeyRecord,
  StoreError,
} from "./store.ts";
import { insertChunks, listPlaceholders, padList, rowPlaceholders } from "./statement_shapes.ts";
import { bytes, int, messageKey, type Row } from "./rows.ts";
import { run, runRows } from "./mysql_run.ts";

/** Most values in one `IN (…)` list; longer lists are sent in several statements. */
export const MAX_IN_LIST = 256;

/** The per-user prekey tables, emptied by replaceIdentity. */
export const PREKEY_TABLES = [
  "signed_prekeys",
  "kyber_last_resort",
  "one_time_prekeys",
  "kyber_prekeys",
] as const;

/** The error for a write that names a user who does not exist. */
export function noUser(op: string): StoreError {
  return new StoreError("not_found", `${op}: no such user`);
}

/** Locks the user's row for the rest of the transaction; not_found when there is none. */
export async function lockUser(c: PoolConnection, op: string, userId: number): Promise<void> {
  const rows = await runRows(c, "SELECT id FROM users WHERE id = ? FOR UPDATE", [userId]);
  if (rows.length === 0) throw noUser(op);
}

/**
 * Locks every recipient's row, in id order so two batches cannot deadlock on each other. Held
 * until commit, the lock makes enqueues to one recipient commit in the order they took qids.
 */
export async function lockRecipients(
  c: PoolConnection,
  items: { recipientId: number }[],
): Promise<void> {
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
export async function lookupQids(
  c: PoolConnection,
  items: NewQueued[],
): Promise<Map<string, number>> {
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
export async function claim(
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
export async function bind(
  c: PoolConnection,
  userId: number,
  deviceKey: Uint8Array,
): Promise<void> {
  await run(c, "DELETE FROM devices WHERE user_id = ? OR device_key = ?", [userId, deviceKey]);
  await run(c, "INSERT INTO devices (device_key, user_id) VALUES (?, ?)", [deviceKey, userId]);
}

/** Stores a whole prekey set for the user (sign-up, or a new identity). */
export async function insertKeys(
  c: PoolConnection,
  userId: number,
  keys: PrekeySet,
): Promise<void> {
  await replaceSigned(c, "signed_prekeys", userId, keys.signedPrekey);
  await replaceSigned(c, "kyber_last_resort", userId, keys.kyberLastResort);
  await insertOneTime(c, userId, keys.oneTimePrekeys);
  await insertKyber(c, userId, keys.kyberPrekeys);
}

/** Sets the user's signed X25519 prekey or last-resort ML-KEM prekey. */
export async function replaceSigned(
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

/** Adds one-time X25519 prekeys in multi-row INSERTs; a repeated id fails the transaction. */
export async function insertOneTime(
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

/** Adds one-time ML-KEM prekeys in multi-row INSERTs; a repeated id fails the transaction. */
export async function insertKyber(
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
