/**
 * The client's local store: SQLite in the profile folder. Message bodies, session state,
 * contacts and private keys are sealed under the account key (AES-256-GCM, each row bound to its
 * table and key by the associated data), so copying the folder gives nothing without the
 * password. Only routing facts stay readable: usernames, times, delivery states.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { AccountKey } from "../crypto/mod.ts";
import { fromUtf8, utf8 } from "../crypto/mod.ts";

/** Delivery state of a message, as shown next to it. */
export const MessageState = Object.freeze({
  failed: -1, // not accepted by the server for long, or refused: shown with its reason, resendable
  pending: 0, // written locally, not yet accepted by the server
  sent: 1, // the server has it
  delivered: 2, // the recipient's device has it
  read: 3, // the recipient has seen it
  received: 10, // incoming, not yet seen here
  seen: 11, // incoming, seen here
});
export type MessageStateValue = (typeof MessageState)[keyof typeof MessageState];

/** Prekey kinds in the store. */
export const PrekeyKind = Object.freeze({ signed: 1, oneTime: 2, kyber: 3 });

/** A chat message as the screens show it. */
export interface StoredMessage {
  seq: number;
  mid: Uint8Array;
  peer: string;
  outgoing: boolean;
  /** Sender's clock for outgoing messages, the server's for incoming ones (ms). */
  ts: number;
  state: MessageStateValue;
  text: string;
  /** Why a failed message could not be sent (state `failed` only). */
  failure?: string;
}

/** A row of the chat list. */
export interface ConversationSummary {
  peer: string;
  lastText: string;
  lastTs: number;
  lastOutgoing: boolean;
  unread: number;
}

/** What the client knows about a contact. */
export interface Contact {
  username: string;
  fullName: string;
  /** The identity the user has accepted for this contact (encoded public identity). */
  identity: Uint8Array | null;
  /** True once the user compared safety numbers and marked the contact verified. */
  verified: boolean;
  /** A new identity that must be acknowledged before the next send. */
  pendingIdentity: Uint8Array | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS prekeys (kind INTEGER NOT NULL, id INTEGER NOT NULL, created_at INTEGER NOT NULL,
  sealed BLOB NOT NULL, PRIMARY KEY (kind, id)) STRICT;
CREATE TABLE IF NOT EXISTS contacts (username TEXT PRIMARY KEY, sealed BLOB NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS sessions (username TEXT PRIMARY KEY, sealed BLOB NOT NULL,
  version INTEGER NOT NULL DEFAULT 0) STRICT;
CREATE TABLE IF NOT EXISTS base_keys (base_key BLOB PRIMARY KEY, signed_prekey_id INTEGER NOT NULL,
  at INTEGER NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS prekey_envelopes (digest BLOB PRIMARY KEY,
  signed_prekey_id INTEGER NOT NULL, at INTEGER NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, mid BLOB NOT NULL UNIQUE,
  peer TEXT NOT NULL, outgoing INTEGER NOT NULL, ts INTEGER NOT NULL, state INTEGER NOT NULL,
  sealed BLOB NOT NULL) STRICT;
CREATE INDEX IF NOT EXISTS messages_by_peer ON messages (peer, seq);
CREATE TABLE IF NOT EXISTS outbox (mid BLOB PRIMARY KEY, peer TEXT NOT NULL, created_at INTEGER NOT NULL,
  sealed BLOB NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS seen (mid BLOB PRIMARY KEY, at INTEGER NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS unprinted (mid BLOB PRIMARY KEY) STRICT;
CREATE TABLE IF NOT EXISTS send_failures (mid BLOB PRIMARY KEY, reason TEXT NOT NULL) STRICT;
`;

/**
 * How long a statement waits for another process on the same profile to finish its transaction.
 * Session transactions hold the lock for a few writes only; this bounds a stuck one.
 */
export const BUSY_TIMEOUT_MS = 15_000;

/** Envelope ids remembered for de-duplication, at most; the oldest are forgotten first. */
export const MAX_SEEN_IDS = 100_000;

/** Plain metadata keys (not secret). */
export type MetaKey =
  | "username"
  | "server"
  | "salt"
  | "kdf"
  | "wrapped_account_key"
  | "next_prekey_id"
  | "last_resort_id"
  | "last_resort_retired"
  | "backup_dirty";
/** Sealed metadata keys. */
export type SecretKey = "identity" | "device_key" | "recovery_key";

/** The local store of one account on one server. */
export class LocalStore {
  readonly #db: DatabaseSync;
  #key: AccountKey | null = null;
  readonly #stmts = new Map<string, StatementSync>();

  private constructor(readonly path: string, db: DatabaseSync) {
    this.#db = db;
  }

  /** Opens (creating if needed) the store at `path`. The account key is set after login. */
  static open(path: string): LocalStore {
    const db = new DatabaseSync(path);
    // The wait comes first: another process on the profile may hold the lock even now.
    db.exec(`PRAGMA busy_timeout=${BUSY_TIMEOUT_MS}`);
    db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
    db.exec(SCHEMA);
    // Profiles made before sessions carried a version get the column (every row at version 0).
    const columns = db.prepare("PRAGMA table_info(sessions)").all() as { name: string }[];
    if (!columns.some((c) => c.name === "version")) {
      db.exec("ALTER TABLE sessions ADD COLUMN version INTEGER NOT NULL DEFAULT 0");
    }
    return new LocalStore(path, db);
  }

  /** Sets the key that seals and opens rows (after the password unlocked it). */
  unlock(key: AccountKey): void {
    this.#key = key;
  }

  get #k(): AccountKey {
    if (!this.#key) throw new Error("the local store is locked");
    return this.#key;
  }

  #stmt(sql: string): StatementSync {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  /** A prepared statement on this store, for tables kept by other modules (room_store.ts). */
  statement(sql: string): StatementSync {
    return this.#stmt(sql);
  }

  /** Runs schema SQL (CREATE … IF NOT EXISTS) for tables kept by other modules. */
  exec(sql: string): void {
    this.#db.exec(sql);
  }

  /** Runs `fn` in one transaction: everything or nothing. */
  transaction<T>(fn: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const r = fn();
      this.#db.exec("COMMIT");
      return r;
    } catch (e) {
      this.#db.exec("ROLLBACK");
      throw e;
    }
  }

  seal(ad: string, plaintext: Uint8Array): Promise<Uint8Array> {
    return this.#k.seal(plaintext, utf8(`pesuchat local v1 ${ad}`));
  }

  open(ad: string, sealed: Uint8Array): Promise<Uint8Array> {
    return this.#k.open(sealed, utf8(`pesuchat local v1 ${ad}`));
  }

  // -- metadata ------------------------------------------------------------------------------

  getMeta(k: MetaKey): Uint8Array | null {
    const row = this.#stmt("SELECT v FROM meta WHERE k = ?").get(k) as
      | { v: Uint8Array }
      | undefined;
    return row ? row.v : null;
  }

  getMetaText(k: MetaKey): string | null {
    const v = this.getMeta(k);
    return v ? fromUtf8(v) : null;
  }

  setMeta(k: MetaKey | SecretKey, v: Uint8Array | string): void {
    this.#stmt("INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v")
      .run(k, typeof v === "string" ? utf8(v) : v);
  }

  async setSecret(k: SecretKey, v: Uint8Array): Promise<void> {
    this.setMeta(k, await this.seal(`meta ${k}`, v));
  }

  /** Forgets a metadata entry (sealed or not); an absent one is ignored. */
  deleteMeta(k: MetaKey | SecretKey): void {
    this.#stmt("DELETE FROM meta WHERE k = ?").run(k);
  }

  async getSecret(k: SecretKey): Promise<Uint8Array | null> {
    const row = this.#stmt("SELECT v FROM meta WHERE k = ?").get(k) as
      | { v: Uint8Array }
      | undefined;
    return row ? await this.open(`meta ${k}`, row.v) : null;
  }

  // -- prekeys --------------------------------------------------------------------------------

  async putPrekeys(
    kind: number,
    keys: { id: number; createdAt: number; bytes: Uint8Array }[],
  ): Promise<void> {
    const sealed = await Promise.all(keys.map((k) => this.seal(`prekey ${kind} ${k.id}`, k.bytes)));
    this.transaction(() => {
      const s = this.#stmt(
        "INSERT OR REPLACE INTO prekeys (kind, id, created_at, sealed) VALUES (?, ?, ?, ?)",
      );
      keys.forEach((k, i) => s.run(kind, k.id, k.createdAt, sealed[i]!));
    });
  }

  async getPrekey(kind: number, id: number): Promise<Uint8Array | null> {
    const row = this.#stmt("SELECT sealed FROM prekeys WHERE kind = ? AND id = ?").get(kind, id) as
      | { sealed: Uint8Array }
      | undefined;
    return row ? await this.open(`prekey ${kind} ${id}`, row.sealed) : null;
  }

  deletePrekey(kind: number, id: number): void {
    this.#stmt("DELETE FROM prekeys WHERE kind = ? AND id = ?").run(kind, id);
  }

  /** Ids and creation times of the prekeys of `kind`, newest first. */
  listPrekeys(kind: number): { id: number; createdAt: number }[] {
    return (this.#stmt(
      "SELECT id, created_at FROM prekeys WHERE kind = ? ORDER BY created_at DESC, id DESC",
    ).all(kind) as {
      id: number;
      created_at: number;
    }[]).map((r) => ({ id: r.id, createdAt: r.created_at }));
  }

  // -- contacts and sessions ------------------------------------------------------------------

  async putContact(c: Contact): Promise<void> {
    const json = JSON.stringify({
      fullName: c.fullName,
      identity: c.identity?.toBase64() ?? null,
      verified: c.verified,
      pendingIdentity: c.pendingIdentity?.toBase64() ?? null,
    });
    const sealed = await this.seal(`contact ${c.username}`, utf8(json));
    this.#stmt("INSERT OR REPLACE INTO contacts (username, sealed) VALUES (?, ?)").run(
      c.username,
      sealed,
    );
  }

  async getContact(username: string): Promise<Contact | null> {
    const row = this.#stmt("SELECT sealed FROM contacts WHERE username = ?").get(username) as
      | { sealed: Uint8Array }
      | undefined;
    if (!row) return null;
    const raw = JSON.parse(fromUtf8(await this.open(`contact ${username}`, row.sealed)));
    return {
      username,
      fullName: raw.fullName,
      identity: raw.identity ? Uint8Array.fromBase64(raw.identity) : null,
      verified: raw.verified,
      pendingIdentity: raw.pendingIdentity ? Uint8Array.fromBase64(raw.pendingIdentity) : null,
    };
  }

  contactNames(): string[] {
    return (this.#stmt("SELECT username FROM contacts ORDER BY username").all() as {
      username: string;
    }[]).map((r) => r.username);
  }

  /**
   * Seals a contact's session record; the caller writes it with {@linkcode writeSession} inside
   * a transaction.
   */
  sealSession(username: string, record: Uint8Array): Promise<Uint8Array> {
    return this.seal(`session ${username}`, record);
  }

  /**
   * The version of a contact's session row: 0 when there is none. Every write raises it by one and
   * a row is never deleted, so a process that read version N knows the row is unchanged while it
   * still reads N.
   */
  sessionVersion(username: string): number {
    const row = this.#stmt("SELECT version FROM sessions WHERE username = ?").get(username) as
      | { version: number }
      | undefined;
    return row ? row.version : 0;
  }

  /**
   * Writes a sealed record if the row is still at `expected`; false (writing nothing) when another
   * writer got there first. Call inside {@linkcode transaction}: BEGIN IMMEDIATE holds the
   * database's write lock from the check to the commit, across processes.
   */
  writeSession(username: string, sealed: Uint8Array, expected: number): boolean {
    const r = expected === 0
      ? this.#stmt(
        "INSERT INTO sessions (username, sealed, version) VALUES (?, ?, 1) ON CONFLICT (username) DO NOTHING",
      ).run(username, sealed)
      : this.#stmt(
        "UPDATE sessions SET sealed = ?, version = version + 1 WHERE username = ? AND version = ?",
      ).run(sealed, username, expected);
    return Number(r.changes) === 1;
  }

  /** A contact's sealed session record and its version, or null when there is none. */
  async getSession(username: string): Promise<{ version: number; record: Uint8Array } | null> {
    const row = this.#stmt("SELECT sealed, version FROM sessions WHERE username = ?").get(
      username,
    ) as { sealed: Uint8Array; version: number } | undefined;
    if (!row) return null;
    return { version: row.version, record: await this.open(`session ${username}`, row.sealed) };
  }

  /** Contacts that have a session row. */
  sessionNames(): string[] {
    return (this.#stmt("SELECT username FROM sessions ORDER BY username").all() as {
      username: string;
    }[]).map((r) => r.username);
  }

  // -- base keys of sessions started here ---------------------------------------------------

  /** True when a prekey message with this base key (EK_A) has started a session here before. */
  baseKeySeen(baseKey: Uint8Array): boolean {
    return this.#stmt("SELECT 1 FROM base_keys WHERE base_key = ?").get(baseKey) !== undefined;
  }

  /**
   * Remembers a base key; false when it was remembered already (another process took the same
   * message first). Call inside the transaction that stores the new session.
   */
  rememberBaseKey(baseKey: Uint8Array, signedPrekeyId: number): boolean {
    const r = this.#stmt(
      "INSERT OR IGNORE INTO base_keys (base_key, signed_prekey_id, at) VALUES (?, ?, ?)",
    ).run(baseKey, signedPrekeyId, Date.now());
    return Number(r.changes) === 1;
  }

  /** Every remembered base key, for backups. */
  listBaseKeys(): { baseKey: Uint8Array; signedPrekeyId: number }[] {
    return (this.#stmt("SELECT base_key, signed_prekey_id FROM base_keys").all() as {
      base_key: Uint8Array;
      signed_prekey_id: number;
    }[]).map((r) => ({ baseKey: r.base_key, signedPrekeyId: r.signed_prekey_id }));
  }

  /**
   * Forgets the base keys used with a signed prekey that is gone: a replay of those messages
   * fails for want of the prekey itself.
   */
  forgetBaseKeys(signedPrekeyId: number): void {
    this.#stmt("DELETE FROM base_keys WHERE signed_prekey_id = ?").run(signedPrekeyId);
    this.#stmt("DELETE FROM prekey_envelopes WHERE signed_prekey_id = ?").run(signedPrekeyId);
  }

  /** True when a prekey envelope with this SHA-256 digest was opened here before. */
  prekeyEnvelopeSeen(digest: Uint8Array): boolean {
    return this.#stmt("SELECT 1 FROM prekey_envelopes WHERE digest = ?").get(digest) !== undefined;
  }

  /** Remembers an opened prekey envelope's digest, in the transaction that stores it. */
  rememberPrekeyEnvelope(digest: Uint8Array, signedPrekeyId: number): void {
    this.#stmt(
      "INSERT OR IGNORE INTO prekey_envelopes (digest, signed_prekey_id, at) VALUES (?, ?, ?)",
    ).run(digest, signedPrekeyId, Date.now());
  }

  // -- messages --------------------------------------------------------------------------------

  sealText(mid: Uint8Array, text: string): Promise<Uint8Array> {
    return this.seal(`message ${mid.toHex()}`, utf8(text));
  }

  /**
   * Inserts a message (sealed with {@linkcode sealText}); false when its id exists already. A
   * new incoming message is also noted as not yet printed by `receive`, in the same statement
   * group, so whichever process stored it (`send`, `connect`, `receive`), `receive` prints it.
   */
  insertMessage(m: Omit<StoredMessage, "seq" | "text">, sealed: Uint8Array): boolean {
    const r = this.#stmt(
      "INSERT OR IGNORE INTO messages (mid, peer, outgoing, ts, state, sealed) VALUES (?, ?, ?, ?, ?, ?)",
    ).run(m.mid, m.peer, m.outgoing ? 1 : 0, m.ts, m.state, sealed);
    const added = Number(r.changes) > 0;
    if (added && !m.outgoing) {
      this.#stmt("INSERT OR IGNORE INTO unprinted (mid) VALUES (?)").run(m.mid);
    }
    return added;
  }

  /** Incoming messages `receive` has not printed yet, oldest first. */
  async unprinted(): Promise<StoredMessage[]> {
    return await this.#decode(
      this.#stmt(
        "SELECT m.* FROM messages m JOIN unprinted u ON u.mid = m.mid ORDER BY m.seq",
      ).all() as Record<string, unknown>[],
    );
  }

  /** Notes that `receive` printed a message. */
  markPrinted(mid: Uint8Array): void {
    this.#stmt("DELETE FROM unprinted WHERE mid = ?").run(mid);
  }

  /** Forgets what is unprinted (a restored history was printed where it came from). */
  forgetUnprinted(): void {
    this.#stmt("DELETE FROM unprinted").run();
  }

  hasMessage(mid: Uint8Array): boolean {
    return this.#stmt("SELECT 1 FROM messages WHERE mid = ?").get(mid) !== undefined;
  }

  /** Raises the state of outgoing messages (never lowers it: a late "delivered" after "read"). */
  raiseState(mids: Uint8Array[], state: MessageStateValue): void {
    const s = this.#stmt(
      "UPDATE messages SET state = ? WHERE mid = ? AND outgoing = 1 AND state < ?",
    );
    for (const mid of mids) s.run(state, mid, state);
  }

  /** Marks a peer's incoming messages seen; returns the ids that changed (for read receipts). */
  markSeen(peer: string): Uint8Array[] {
    const rows = this.#stmt(
      "SELECT mid FROM messages WHERE peer = ? AND outgoing = 0 AND state = ?",
    ).all(
      peer,
      MessageState.received,
    ) as { mid: Uint8Array }[];
    this.#stmt("UPDATE messages SET state = ? WHERE peer = ? AND outgoing = 0 AND state = ?").run(
      MessageState.seen,
      peer,
      MessageState.received,
    );
    return rows.map((r) => r.mid);
  }

  async #decode(rows: Record<string, unknown>[]): Promise<StoredMessage[]> {
    return await Promise.all(rows.map(async (r) => {
      const m: StoredMessage = {
        seq: r.seq as number,
        mid: r.mid as Uint8Array,
        peer: r.peer as string,
        outgoing: r.outgoing === 1,
        ts: r.ts as number,
        state: r.state as MessageStateValue,
        text: fromUtf8(
          await this.open(`message ${(r.mid as Uint8Array).toHex()}`, r.sealed as Uint8Array),
        ),
      };
      if (m.state === MessageState.failed) m.failure = this.failure(m.mid) ?? undefined;
      return m;
    }));
  }

  /**
   * Marks an outgoing message failed, with why; true when that changed anything (it was
   * pending, or failed for another reason).
   */
  markFailed(mid: Uint8Array, reason: string): boolean {
    if (this.failure(mid) === reason) return false;
    this.#stmt("INSERT OR REPLACE INTO send_failures (mid, reason) VALUES (?, ?)").run(mid, reason);
    this.#stmt("UPDATE messages SET state = ? WHERE mid = ? AND outgoing = 1 AND state <= ?").run(
      MessageState.failed,
      mid,
      MessageState.pending,
    );
    return true;
  }

  /** Why a message failed, or null. */
  failure(mid: Uint8Array): string | null {
    const row = this.#stmt("SELECT reason FROM send_failures WHERE mid = ?").get(mid) as
      | { reason: string }
      | undefined;
    return row?.reason ?? null;
  }

  /** Forgets a failure (the message went after all). */
  clearFailure(mid: Uint8Array): void {
    this.#stmt("DELETE FROM send_failures WHERE mid = ?").run(mid);
  }

  /** The last `limit` messages with `peer`, oldest first. */
  async history(peer: string, limit: number): Promise<StoredMessage[]> {
    const rows = this.#stmt("SELECT * FROM messages WHERE peer = ? ORDER BY seq DESC LIMIT ?").all(
      peer,
      limit,
    ) as Record<
      string,
      unknown
    >[];
    return (await this.#decode(rows)).reverse();
  }

  /** Every conversation, most recent first, with its last message and unread count. */
  async conversations(): Promise<ConversationSummary[]> {
    const rows = this.#stmt(`
      SELECT m.*, (SELECT COUNT(*) FROM messages u WHERE u.peer = m.peer AND u.outgoing = 0 AND u.state = ${MessageState.received}) AS unread
      FROM messages m WHERE m.seq IN (SELECT MAX(seq) FROM messages GROUP BY peer) ORDER BY m.seq DESC`)
      .all() as Record<
        string,
        unknown
      >[];
    const decoded = await this.#decode(rows);
    return decoded.map((m, i) => ({
      peer: m.peer,
      lastText: m.text,
      lastTs: m.ts,
      lastOutgoing: m.outgoing,
      unread: Number(rows[i]!.unread),
    }));
  }

  /** Every message, for backups. */
  allMessages(): Promise<StoredMessage[]> {
    return this.#decode(
      this.#stmt("SELECT * FROM messages ORDER BY seq").all() as Record<string, unknown>[],
    );
  }

  // -- outbox and de-duplication -----------------------------------------------------------------

  sealEnvelope(mid: Uint8Array, envelope: Uint8Array): Promise<Uint8Array> {
    return this.seal(`outbox ${mid.toHex()}`, envelope);
  }

  writeOutbox(mid: Uint8Array, peer: string, sealed: Uint8Array): void {
    this.#stmt("INSERT OR REPLACE INTO outbox (mid, peer, created_at, sealed) VALUES (?, ?, ?, ?)")
      .run(mid, peer, Date.now(), sealed);
  }

  /** Envelopes waiting in the outbox. */
  outboxCount(): number {
    return Number((this.#stmt("SELECT COUNT(*) AS n FROM outbox").get() as { n: number }).n);
  }

  deleteOutbox(mid: Uint8Array): void {
    this.#stmt("DELETE FROM outbox WHERE mid = ?").run(mid);
  }

  /** Envelopes not yet accepted by the server, oldest first. */
  async outbox(): Promise<
    { mid: Uint8Array; peer: string; envelope: Uint8Array; createdAt: number }[]
  > {
    const rows = this.#stmt(
      "SELECT mid, peer, sealed, created_at FROM outbox ORDER BY created_at, rowid",
    )
      .all() as {
        mid: Uint8Array;
        peer: string;
        sealed: Uint8Array;
        created_at: number;
      }[];
    return await Promise.all(rows.map(async (r) => ({
      mid: r.mid,
      peer: r.peer,
      envelope: await this.open(`outbox ${r.mid.toHex()}`, r.sealed),
      createdAt: r.created_at,
    })));
  }

  wasSeen(mid: Uint8Array): boolean {
    return this.#stmt("SELECT 1 FROM seen WHERE mid = ?").get(mid) !== undefined;
  }

  markSeenId(mid: Uint8Array): void {
    this.#stmt("INSERT OR IGNORE INTO seen (mid, at) VALUES (?, ?)").run(mid, Date.now());
  }

  /** Forgets the oldest de-duplication ids beyond MAX_SEEN_IDS. */
  pruneSeen(): void {
    this.#stmt(
      `DELETE FROM seen WHERE rowid IN (SELECT rowid FROM seen ORDER BY at DESC LIMIT -1 OFFSET ${MAX_SEEN_IDS})`,
    ).run();
  }

  close(): void {
    this.#stmts.clear();
    this.#db.close();
  }
}
