/**
 * The `Store` interface: everything the server keeps, behind one contract with two
 * implementations (SQLite, the embedded default, and MySQL/MariaDB). The same test suite runs
 * against both. Every byte field holds either public key material or ciphertext the server cannot
 * read (message bodies, backups) or sealed under the server's data key (profiles).
 *
 * @module
 */

/** Argon2id cost parameters as stored beside a user's salt. */
export interface KdfParams {
  memoryKiB: number;
  passes: number;
  parallelism: number;
}

/** A user as created at sign-up. `username` is already canonical (NFKC, lowercase). */
export interface NewUser {
  username: string;
  /** Full name and email, sealed under the server's data key. */
  profile: Uint8Array;
  /** The client's Argon2id salt and parameters, handed back at prelogin. */
  salt: Uint8Array;
  kdf: KdfParams;
  /** Salted hash of the client's auth key: the server never holds the auth key itself. */
  verifierSalt: Uint8Array;
  verifier: Uint8Array;
  /** The user's encoded public identity (signing key, DH key, signature). */
  identityKey: Uint8Array;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

/** A stored user. */
export interface UserRecord extends NewUser {
  id: number;
}

/** The parts of a user that change with the password. */
export interface Credentials {
  salt: Uint8Array;
  kdf: KdfParams;
  verifierSalt: Uint8Array;
  verifier: Uint8Array;
}

/** A signed X25519 prekey, or a signed ML-KEM-1024 prekey (one-time or last-resort). */
export interface SignedPrekeyRecord {
  id: number;
  publicKey: Uint8Array;
  signature: Uint8Array;
}

/** A one-time X25519 prekey. */
export interface OneTimePrekeyRecord {
  id: number;
  publicKey: Uint8Array;
}

/** Every prekey a user uploads at sign-up or on a new identity. */
export interface PrekeySet {
  signedPrekey: SignedPrekeyRecord;
  kyberLastResort: SignedPrekeyRecord;
  oneTimePrekeys: OneTimePrekeyRecord[];
  kyberPrekeys: SignedPrekeyRecord[];
}

/** What a sender fetches to start a session. One-time keys in it were removed from the store. */
export interface BundleRecord {
  identityKey: Uint8Array;
  signedPrekey: SignedPrekeyRecord;
  /** Null when the user has run out of one-time X25519 prekeys. */
  oneTimePrekey: OneTimePrekeyRecord | null;
  /** A one-time ML-KEM prekey, or the last-resort one when none is left. */
  kyberPrekey: SignedPrekeyRecord;
  kyberLastResort: boolean;
}

/** Counts of one-time prekeys still on the server, so the client knows when to replenish. */
export interface PrekeyCounts {
  oneTime: number;
  kyber: number;
}

/** A message to queue for its recipient. */
export interface NewQueued {
  recipientId: number;
  senderId: number;
  /** The sender's username at send time, so delivery needs no join. */
  senderName: string;
  /** The sender's 16-byte message id: unique per sender, used to make retries idempotent. */
  mid: Uint8Array;
  /** The end-to-end ciphertext, opaque to the server. */
  body: Uint8Array;
  /** Milliseconds since the epoch, set by the server. */
  sentAt: number;
}

/** A queued message; `qid` increases in insertion order. */
export interface QueuedMessage extends NewQueued {
  qid: number;
}

/** A user's backup: the account key wrapped under the master key, and the sealed backup. */
export interface BackupRecord {
  /** Sealed by the client under its recovery key; the server cannot open it. */
  blob: Uint8Array;
  updatedAt: number;
}

/** Failed logins counted under one throttle key (an address, or an account from an address). */
export interface LoginFailures {
  count: number;
  /** When the current window started (ms since the epoch). */
  first: number;
  lockedUntil: number;
  lockouts: number;
}

/** What `migrate()` did. */
export interface MigrationReport {
  from: number;
  to: number;
}

/** Codes of {@linkcode StoreError}. */
export type StoreErrorCode =
  | "conflict" // a unique value (username, prekey id) already exists
  | "not_found" // the row an update names does not exist
  | "unavailable" // the database cannot be reached or the connection dropped
  | "full" // the disk or the database is full
  | "schema" // the database's schema is newer than this program or migrations failed
  | "io"; // any other database failure

/** A database operation failed. The message names the operation; it never contains row data. */
export class StoreError extends Error {
  override name = "StoreError";
  constructor(readonly code: StoreErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/**
 * The server's storage. All methods are atomic: a failed call changes nothing. Inputs beyond the
 * limits in `limits.ts` (batch sizes, id lengths) are refused with a RangeError before the
 * database is touched. After `close()`, calls fail with `StoreError("unavailable")`.
 */
export interface Store {
  readonly kind: "sqlite" | "mysql";

  /** Brings the schema up to date; never drops data. */
  migrate(): Promise<MigrationReport>;
  /** Waits for work in progress and closes the database. */
  close(): Promise<void>;

  /**
   * Creates a user with its prekeys and binds `deviceKey` to it, in one transaction.
   * Throws `StoreError("conflict")` when the username exists (or the prekeys repeat an id).
   */
  createUser(user: NewUser, keys: PrekeySet, deviceKey: Uint8Array): Promise<UserRecord>;
  userByName(username: string): Promise<UserRecord | null>;
  userById(id: number): Promise<UserRecord | null>;
  /** The user `deviceKey` is bound to, if any. */
  userByDevice(deviceKey: Uint8Array): Promise<UserRecord | null>;
  /**
   * Binds `deviceKey` to the user, replacing the user's previous device (one per account). A key
   * bound to another account moves to this one. `StoreError("not_found")` for an unknown user.
   */
  bindDevice(userId: number, deviceKey: Uint8Array): Promise<void>;
  /** Removes the binding; an unknown key is ignored. */
  unbindDevice(deviceKey: Uint8Array): Promise<void>;
  /** `StoreError("not_found")` for an unknown user. */
  updateCredentials(userId: number, credentials: Credentials): Promise<void>;
  /**
   * Replaces the identity key and every prekey (a user who starts over without a backup).
   * `StoreError("not_found")` for an unknown user.
   */
  replaceIdentity(userId: number, identityKey: Uint8Array, keys: PrekeySet): Promise<void>;
  /**
   * Deletes the user and everything of theirs: devices, prekeys, queued messages, backup.
   * Messages they already sent stay queued for their recipients. An unknown id is ignored.
   */
  deleteUser(userId: number): Promise<void>;

  /** Stores an invite token's hash (the operator's one-time sign-up permission). Idempotent. */
  addInvite(tokenHash: Uint8Array, createdAt: number): Promise<void>;
  /** Removes an invite token's hash; true when it was there (used up, or revoked). */
  takeInvite(tokenHash: Uint8Array): Promise<boolean>;

  /** Replaces the user's signed prekey; `StoreError("not_found")` for an unknown user. */
  setSignedPrekey(userId: number, prekey: SignedPrekeyRecord): Promise<void>;
  setKyberLastResort(userId: number, prekey: SignedPrekeyRecord): Promise<void>;
  /**
   * Adds one-time prekeys; throws `StoreError("conflict")` on an id the user already has (and
   * adds none of the batch).
   */
  addOneTimePrekeys(userId: number, prekeys: OneTimePrekeyRecord[]): Promise<void>;
  addKyberPrekeys(userId: number, prekeys: SignedPrekeyRecord[]): Promise<void>;
  prekeyCounts(userId: number): Promise<PrekeyCounts>;
  /**
   * Hands out a bundle, removing the one-time prekeys in it (lowest id first); with `oneTime`
   * false, one with no one-time keys (the last-resort ML-KEM key) that removes nothing. Each one-time key
   * is handed out at most once, even when many connections (or server nodes) ask at the same
   * moment. Null when the user does not exist.
   */
  takeBundle(userId: number, oneTime?: boolean): Promise<BundleRecord | null>;

  /**
   * Queues messages in one transaction (group commit) and returns their qids in input order.
   * Idempotent on (senderId, mid): a retried message returns the qid it already has (while it is
   * still queued). When this resolves the messages are durable. Throws
   * `StoreError("not_found")`, queueing nothing, when a recipient does not exist.
   */
  enqueue(items: NewQueued[]): Promise<number[]>;
  /**
   * Up to `limit` messages for the recipient with qid > `afterQid`, in qid order. A recipient's
   * messages become visible in qid order, so paging with the last qid seen never skips one.
   */
  pending(recipientId: number, afterQid: number, limit: number): Promise<QueuedMessage[]>;
  /**
   * Deletes the recipient's messages with these qids; returns how many were deleted. Qids that
   * are unknown or belong to another recipient are ignored.
   */
  ack(recipientId: number, qids: number[]): Promise<number>;
  /**
   * `ack` for several recipients in one transaction (the relay acknowledges a whole round of
   * deliveries at once). At most MAX_BATCH qids in all.
   */
  ackMany(acks: { recipientId: number; qids: number[] }[]): Promise<number>;
  pendingCount(recipientId: number): Promise<number>;

  /** Failed logins under `key`, or null. Keys are at most MAX_THROTTLE_KEY_LENGTH long. */
  loginFailures(key: string): Promise<LoginFailures | null>;
  /** Stores or replaces the failures under `key`. */
  putLoginFailures(key: string, failures: LoginFailures): Promise<void>;
  /** Forgets `key`; an unknown key is ignored. */
  deleteLoginFailures(key: string): Promise<void>;
  /** Forgets every key whose window started and whose lock ended before `before`; returns how many. */
  pruneLoginFailures(before: number): Promise<number>;

  /** Stores or replaces the user's backup; `StoreError("not_found")` for an unknown user. */
  putBackup(userId: number, backup: BackupRecord): Promise<void>;
  getBackup(userId: number): Promise<BackupRecord | null>;
  /** Removes the user's backup (backups turned off); no backup is not an error. */
  deleteBackup(userId: number): Promise<void>;
}
