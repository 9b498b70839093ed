/**
 * The recovery key: 32 random bytes that seal the backups the server keeps, shown to the user once
 * as 64 hexadecimal characters in groups of four (as Signal shows its backup key) and typed again
 * to restore on a new machine. Unlike a password it cannot be guessed: a server holding a backup
 * learns nothing from it by trying passwords.
 *
 * ```
 * backupKey = HKDF(recoveryKey, info = RECOVERY_BACKUP_INFO)      AES-256-GCM
 * backup    = RECOVERY_BACKUP_TAG ‖ sealBlob(backupKey, snapshot, ad)
 * ```
 *
 * The leading tag tells a backup sealed this way from one an older version sealed under the
 * password-wrapped account key, so a restore can say which it found.
 *
 * @module
 */

import { randomBytes, utf8 } from "./bytes.ts";
import { DecryptError } from "./errors.ts";
import { RECOVERY_BACKUP_INFO } from "./labels.ts";
import { SealingKey } from "./password.ts";
import { AesGcmKey, hkdfSha256, KEY_BYTES } from "./subtle.ts";

const INSPECT = Symbol.for("Deno.customInspect");
const BACKUP_INFO = utf8(RECOVERY_BACKUP_INFO);

/** Characters of a written recovery key (hex digits, without the spaces between groups). */
export const RECOVERY_KEY_CHARS = 64;
/** Characters per group when a recovery key is shown. */
export const RECOVERY_KEY_GROUP = 4;
/** First byte of a backup sealed under a recovery key. */
export const RECOVERY_BACKUP_TAG = 0x52;

/** Codes of {@linkcode RecoveryKeyError}. */
export type RecoveryKeyErrorCode =
  | "bad_length" // not 64 hex digits once spaces and dashes are dropped
  | "bad_character" // something other than 0-9, a-f
  | "older_backup"; // a backup from before recovery keys; no recovery key opens it

/** A recovery key could not be read, or a backup is not one a recovery key opens. */
export class RecoveryKeyError extends Error {
  override name = "RecoveryKeyError";
  constructor(readonly code: RecoveryKeyErrorCode, message: string) {
    super(message);
  }
}

/** The key that seals backups under a recovery key. */
class BackupKey extends SealingKey {
  static async derive(bytes: Uint8Array): Promise<BackupKey> {
    const k = await hkdfSha256(bytes, new Uint8Array(0), BACKUP_INFO, KEY_BYTES);
    const key = new BackupKey(await AesGcmKey.import(k));
    k.fill(0);
    return key;
  }
}

/**
 * A recovery key. Prints as `[redacted]`; {@linkcode RecoveryKey.textUnsafe} is the one way to
 * its digits, for the moment they are shown to the user.
 *
 * @example Seal a backup, then open it with the key as the user typed it
 * ```ts
 * import assert from "node:assert/strict";
 * import { RecoveryKey } from "./recovery.ts";
 *
 * const key = RecoveryKey.generate();
 * const shown = key.textUnsafe(); // "3f9a 01c2 …", sixteen groups
 * const backup = await key.sealBackup(new TextEncoder().encode("history"), new Uint8Array());
 * const typed = RecoveryKey.parse(shown.toUpperCase().replaceAll(" ", "-"));
 * const opened = await typed.openBackup(backup, new Uint8Array());
 * assert.equal(new TextDecoder().decode(opened), "history");
 * ```
 */
export class RecoveryKey {
  readonly #bytes: Uint8Array;
  private constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** 32 fresh random bytes. */
  static generate(): RecoveryKey {
    return new RecoveryKey(randomBytes(KEY_BYTES));
  }

  /** Reads a key as typed: case, spaces and dashes do not matter. Throws `RecoveryKeyError`. */
  static parse(text: string): RecoveryKey {
    const digits = String(text).replace(/[\s-]/g, "").toLowerCase();
    if (!/^[0-9a-f]*$/.test(digits)) {
      throw new RecoveryKeyError(
        "bad_character",
        "a recovery key has only the digits 0-9 and the letters a-f",
      );
    }
    if (digits.length !== RECOVERY_KEY_CHARS) {
      throw new RecoveryKeyError(
        "bad_length",
        `a recovery key has ${RECOVERY_KEY_CHARS} characters, this has ${digits.length}`,
      );
    }
    return new RecoveryKey(Uint8Array.fromHex(digits));
  }

  /** From bytes kept in the local store. */
  static fromBytes(bytes: Uint8Array): RecoveryKey {
    if (!(bytes instanceof Uint8Array) || bytes.length !== KEY_BYTES) {
      throw new RecoveryKeyError("bad_length", `a recovery key has ${KEY_BYTES} bytes`);
    }
    return new RecoveryKey(bytes.slice());
  }

  /** The 64 digits in groups of four. Unsafe: for showing to the user once, nowhere else. */
  textUnsafe(): string {
    const hex = this.#bytes.toHex();
    const groups: string[] = [];
    for (let i = 0; i < hex.length; i += RECOVERY_KEY_GROUP) {
      groups.push(hex.slice(i, i + RECOVERY_KEY_GROUP));
    }
    return groups.join(" ");
  }

  /** The raw bytes, to keep in the (sealed) local store. Unsafe. */
  bytesUnsafe(): Uint8Array {
    return this.#bytes;
  }

  /** Seals a backup for the server. */
  async sealBackup(plaintext: Uint8Array, ad: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    const sealed = await (await BackupKey.derive(this.#bytes)).seal(plaintext, ad);
    const out = new Uint8Array(1 + sealed.length);
    out[0] = RECOVERY_BACKUP_TAG;
    out.set(sealed, 1);
    return out;
  }

  /**
   * Opens {@linkcode sealBackup}'s output. `DecryptError("auth_failed")` when this is not the key
   * it was sealed under (or a byte changed), `RecoveryKeyError("older_backup")` for a backup
   * made before recovery keys.
   */
  async openBackup(blob: Uint8Array, ad: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
    if (!(blob instanceof Uint8Array) || blob.length === 0) {
      throw new DecryptError("bad_format", "backup: empty");
    }
    if (blob[0] !== RECOVERY_BACKUP_TAG) {
      throw new RecoveryKeyError(
        "older_backup",
        "this backup was made by an older version, sealed under the password; no recovery key opens it",
      );
    }
    return await (await BackupKey.derive(this.#bytes)).open(blob.subarray(1), ad);
  }

  [INSPECT](): string {
    return "RecoveryKey [redacted]";
  }
  toJSON(): string {
    return "[redacted]";
  }
}
