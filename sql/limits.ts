/**
 * The storage layer's named limits and the checks that enforce them. Both stores call the same
 * checks, so SQLite (which stores any length) and MySQL (whose columns have sizes) accept and
 * refuse exactly the same inputs. A violation is a programming error in the caller, so it throws
 * a `RangeError` before the database is touched, not a `StoreError`.
 *
 * @module
 */

/**
 * Most items in one `enqueue`, `ack`, `addOneTimePrekeys` or `addKyberPrekeys` call. One call is
 * one transaction, and `node:sqlite` runs it synchronously while holding the write lock, so a
 * bound keeps every call short; on MySQL it keeps a statement well under `max_allowed_packet`.
 */
export const MAX_BATCH = 1000;

/** Most messages one `pending` call returns. */
export const MAX_PENDING_PAGE = 1000;

/** Longest username in UTF-16 code units (the MySQL column is `VARCHAR(255)`). */
export const MAX_USERNAME_LENGTH = 255;

/** Longest message id in bytes (the MySQL column is `VARBINARY(64)`; ids are 16 bytes). */
export const MAX_MID_BYTES = 64;

/** Longest device key in bytes (the MySQL column is `VARBINARY(64)`; keys are 32 bytes). */
export const MAX_DEVICE_KEY_BYTES = 64;

/** Longest login-throttle key in UTF-16 code units (the MySQL column is `VARCHAR(255)`). */
export const MAX_THROTTLE_KEY_LENGTH = 255;

/** Throws a RangeError unless `key` is a non-empty string of at most MAX_THROTTLE_KEY_LENGTH. */
export function checkThrottleKey(op: string, key: string): void {
  if (typeof key !== "string" || key.length === 0 || key.length > MAX_THROTTLE_KEY_LENGTH) {
    throw new RangeError(
      `${op}: expected a key of 1 to ${MAX_THROTTLE_KEY_LENGTH} characters, got ${
        typeof key === "string" ? key.length : typeof key
      }`,
    );
  }
}

/** Throws a RangeError unless `n` is an integer in [0, MAX_BATCH]. */
export function checkBatch(op: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > MAX_BATCH) {
    throw new RangeError(`${op}: expected at most ${MAX_BATCH} items, got ${n}`);
  }
}

/** Throws a RangeError unless `limit` is an integer in [1, MAX_PENDING_PAGE]. */
export function checkPage(op: string, limit: number): void {
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PENDING_PAGE) {
    throw new RangeError(`${op}: expected a limit in [1, ${MAX_PENDING_PAGE}], got ${limit}`);
  }
}

/** Throws a RangeError unless `username` is 1 to MAX_USERNAME_LENGTH code units long. */
export function checkUsername(op: string, username: string): void {
  if (username.length < 1 || username.length > MAX_USERNAME_LENGTH) {
    throw new RangeError(
      `${op}: expected a username of 1 to ${MAX_USERNAME_LENGTH} characters, got ${username.length}`,
    );
  }
}

/** Throws a RangeError unless `mid` is 1 to MAX_MID_BYTES bytes long. */
export function checkMid(op: string, mid: Uint8Array): void {
  if (mid.length < 1 || mid.length > MAX_MID_BYTES) {
    throw new RangeError(
      `${op}: expected a message id of 1 to ${MAX_MID_BYTES} bytes, got ${mid.length}`,
    );
  }
}

/** Throws a RangeError unless `key` is 1 to MAX_DEVICE_KEY_BYTES bytes long. */
export function checkDeviceKey(op: string, key: Uint8Array): void {
  if (key.length < 1 || key.length > MAX_DEVICE_KEY_BYTES) {
    throw new RangeError(
      `${op}: expected a device key of 1 to ${MAX_DEVICE_KEY_BYTES} bytes, got ${key.length}`,
    );
  }
}

/** Throws a RangeError unless the prekey lists in a set fit in one batch each. */
export function checkKeys(
  op: string,
  keys: { oneTimePrekeys: unknown[]; kyberPrekeys: unknown[] },
): void {
  checkBatch(`${op} (one-time prekeys)`, keys.oneTimePrekeys.length);
  checkBatch(`${op} (ML-KEM prekeys)`, keys.kyberPrekeys.length);
}

/** Throws a RangeError unless every qid is a safe integer. */
export function checkQids(op: string, qids: number[]): void {
  for (const q of qids) {
    if (!Number.isSafeInteger(q)) throw new RangeError(`${op}: expected integer qids, got ${q}`);
  }
}
