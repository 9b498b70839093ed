/**
 * Row shapes shared by both stores: the column lists they select and the functions that turn a
 * driver's row into a record. `node:sqlite` returns plain `Uint8Array`s; mysql2 returns Node
 * `Buffer`s that may be views into a larger packet buffer, so those are copied into records of
 * their own.
 *
 * @module
 */

import type {
  BackupRecord,
  BundleRecord,
  LoginFailures,
  OneTimePrekeyRecord,
  QueuedMessage,
  SignedPrekeyRecord,
  UserRecord,
} from "./store.ts";

/** A row as a driver returns it: column name to value. */
export type Row = Record<string, unknown>;

/** The columns of `users` in the order {@linkcode toUser} reads them. */
export const USER_COLUMNS = "id, username, profile, salt, kdf_memory_kib, kdf_passes, " +
  "kdf_parallelism, verifier_salt, verifier, identity_key, created_at";

/** {@linkcode USER_COLUMNS} qualified with a table alias, for joins. */
export function userColumns(alias: string): string {
  return USER_COLUMNS.split(", ").map((c) => `${alias}.${c}`).join(", ");
}

/** The columns of `queue` that {@linkcode toQueued} reads. */
export const QUEUE_COLUMNS = "qid, recipient_id, sender_id, sender_name, mid, body, sent_at";

/** A plain Uint8Array of the column's bytes (a copy when the driver gave a Buffer). */
export function bytes(value: unknown): Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`expected a blob column, got ${value === null ? "null" : typeof value}`);
  }
  return Object.getPrototypeOf(value) === Uint8Array.prototype ? value : new Uint8Array(value);
}

/** A JavaScript number from an integer column (mysql2 may give a string for huge BIGINTs). */
export function int(value: unknown): number {
  const n = typeof value === "number" ? value : Number(value);
  if (!Number.isSafeInteger(n)) throw new TypeError(`expected an integer column, got ${value}`);
  return n;
}

/** A user record from a row selected with {@linkcode USER_COLUMNS}. */
export function toUser(row: Row): UserRecord {
  return {
    id: int(row.id),
    username: String(row.username),
    profile: bytes(row.profile),
    salt: bytes(row.salt),
    kdf: {
      memoryKiB: int(row.kdf_memory_kib),
      passes: int(row.kdf_passes),
      parallelism: int(row.kdf_parallelism),
    },
    verifierSalt: bytes(row.verifier_salt),
    verifier: bytes(row.verifier),
    identityKey: bytes(row.identity_key),
    createdAt: int(row.created_at),
  };
}

/** A queued message from a row selected with {@linkcode QUEUE_COLUMNS}. */
export function toQueued(row: Row): QueuedMessage {
  return {
    qid: int(row.qid),
    recipientId: int(row.recipient_id),
    senderId: int(row.sender_id),
    senderName: String(row.sender_name),
    mid: bytes(row.mid),
    body: bytes(row.body),
    sentAt: int(row.sent_at),
  };
}

/**
 * A queued message from a row returned as an array, in {@linkcode QUEUE_COLUMNS} order. The
 * delivery path reads rows this way: `node:sqlite` builds arrays faster than objects.
 */
export function toQueuedFromArray(v: unknown[]): QueuedMessage {
  return {
    qid: int(v[0]),
    recipientId: int(v[1]),
    senderId: int(v[2]),
    senderName: String(v[3]),
    mid: bytes(v[4]),
    body: bytes(v[5]),
    sentAt: int(v[6]),
  };
}

/** A signed prekey from columns named `<prefix>key_id`, `<prefix>public_key`, `<prefix>signature`. */
export function toSigned(row: Row, prefix = ""): SignedPrekeyRecord {
  return {
    id: int(row[`${prefix}key_id`]),
    publicKey: bytes(row[`${prefix}public_key`]),
    signature: bytes(row[`${prefix}signature`]),
  };
}

/** A one-time X25519 prekey from `key_id`, `public_key`. */
export function toOneTime(row: Row): OneTimePrekeyRecord {
  return { id: int(row.key_id), publicKey: bytes(row.public_key) };
}

/**
 * A bundle from the head row (identity, signed prekey, last-resort ML-KEM key as `l_…`) and the
 * one-time keys claimed, if any; without a one-time ML-KEM key the last-resort one goes out.
 */
export function bundleOf(
  head: Row,
  oneTime: Row | undefined,
  kyber: Row | undefined,
): BundleRecord {
  return {
    identityKey: bytes(head.identity_key),
    signedPrekey: toSigned(head),
    oneTimePrekey: oneTime === undefined ? null : toOneTime(oneTime),
    kyberPrekey: kyber === undefined ? toSigned(head, "l_") : toSigned(kyber),
    kyberLastResort: kyber === undefined,
  };
}

/** A backup from `data`, `updated_at`. */
export function toBackup(row: Row): BackupRecord {
  return {
    blob: bytes(row.data),
    updatedAt: int(row.updated_at),
  };
}

/** The key that identifies a message for idempotent enqueue: sender id and message id. */
export function messageKey(senderId: number, mid: Uint8Array): string {
  return `${senderId}:${mid.toHex()}`;
}

/** Failed logins from `count`, `first_at`, `locked_until`, `lockouts`. */
export function toLoginFailures(row: Row): LoginFailures {
  return {
    count: int(row.count),
    first: int(row.first_at),
    lockedUntil: int(row.locked_until),
    lockouts: int(row.lockouts),
  };
}
