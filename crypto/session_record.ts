/**
 * Every session with one contact, in the shape of libsignal's SessionRecord: the current session,
 * which sending uses, and a bounded list of previous ones, newest first, that receiving still
 * tries. Both sides may start a session at the same moment, a restore or a repair starts a new
 * one while messages on the old one are on their way: keeping the old ones lets every such
 * message decrypt, and promoting the one that decrypted makes the two sides converge on one.
 *
 * A current session can be retired: kept for reading what is on its way, never used to send again
 * (after a restore, whose chains may have been used since the backup, or after a message failed to
 * decrypt, so the next send repairs the session by starting a new one).
 *
 * Record (version 0x10, apart from a lone session's 0x01 so older rows still read):
 * u8 version ‖ u8 flags (1: has current, 2: current retired) ‖ [u32 length ‖ current] ‖ u8 count ‖
 * (u32 length ‖ previous)*.
 *
 * A record is a value: every change returns a new one.
 *
 * @module
 */

import { ByteReader, ByteWriter } from "./codec.ts";
import { DecryptError, HandshakeError } from "./errors.ts";
import { parseEnvelope, Session, SESSION_STATE_VERSION } from "./session.ts";

/** Version byte of a serialised record. */
export const SESSION_RECORD_VERSION = 0x10;
/** Previous sessions kept per contact, at most; the oldest is dropped first. */
export const MAX_PREVIOUS_SESSIONS = 10;
/** Bytes of one serialised session in a record, at most (its skipped keys included). */
export const MAX_SESSION_STATE_BYTES = 1 << 20;

/** What became of an envelope no session in the record could open. */
export type OpenFailure =
  /** A prekey envelope none of these sessions started from: answer it with a new session. */
  | "new_session"
  /** The message key was used already: a replay, never shown twice. */
  | "duplicate"
  /** No session could open it: damaged, forged, or from a session this side no longer has. */
  | "undecryptable";

/** Thrown by {@linkcode SessionRecord.decrypt}; `reason` says what to do next. */
export class RecordOpenError extends Error {
  override name = "RecordOpenError";
  constructor(readonly reason: OpenFailure, message: string) {
    super(message);
  }
}

/** The sessions with one contact. */
export class SessionRecord {
  private constructor(
    readonly current: Session | null,
    readonly previous: readonly Session[],
    /** True when the current session may only decrypt: the next send starts a new one. */
    readonly retired = false,
  ) {}

  /** A record with no session: the next send starts one. */
  static empty(): SessionRecord {
    return new SessionRecord(null, []);
  }

  /** The session to send on, or null when the next send must start a new one. */
  get sendable(): Session | null {
    return this.retired ? null : this.current;
  }

  /** True when there is no session at all. */
  get isEmpty(): boolean {
    return this.current === null && this.previous.length === 0;
  }

  /** `session` becomes current; the current one, if any, is kept as the newest previous one. */
  promote(session: Session): SessionRecord {
    return new SessionRecord(session, this.#keep(this.current));
  }

  /** The current session stops sending (the next send starts a new one) but still decrypts. */
  retire(): SessionRecord {
    return new SessionRecord(this.current, this.previous, this.current !== null);
  }

  #keep(session: Session | null): Session[] {
    const list = session ? [session, ...this.previous] : [...this.previous];
    return list.slice(0, MAX_PREVIOUS_SESSIONS);
  }

  /** Encrypts on the current session; the caller starts one first when there is none. */
  async encrypt(plaintext: Uint8Array): Promise<{ envelope: Uint8Array; record: SessionRecord }> {
    const current = this.sendable;
    if (!current) throw new Error("no current session to encrypt with");
    const { envelope, session } = await current.encrypt(plaintext);
    return { envelope, record: new SessionRecord(session, this.previous) };
  }

  /**
   * Tries the current session, then each previous one; the one that decrypts becomes current
   * (as libsignal does), so two sides that both started a session end on the same one. Throws
   * {@linkcode RecordOpenError} when none can: `new_session` for a prekey envelope that starts a
   * session none of these did.
   */
  async decrypt(envelope: Uint8Array): Promise<{ plaintext: Uint8Array; record: SessionRecord }> {
    const isPrekey = parseEnvelope(envelope).type === "prekey";
    const all = this.current ? [this.current, ...this.previous] : [...this.previous];
    let duplicate = false;
    let firstError: Error | null = null;
    for (let i = 0; i < all.length; i++) {
      try {
        const { plaintext, session } = await all[i]!.decrypt(envelope);
        const rest = all.filter((_, j) => j !== i);
        // The current one stays current when it decrypted; otherwise the one that did replaces it.
        // Either way a retired record stays retired: reading old messages repairs nothing.
        const record = i === 0 && this.current
          ? new SessionRecord(session, this.previous, this.retired)
          : new SessionRecord(session, rest.slice(0, MAX_PREVIOUS_SESSIONS), this.retired);
        return { plaintext, record };
      } catch (e) {
        if (e instanceof HandshakeError) continue; // a prekey envelope another session answers
        if (e instanceof DecryptError && e.code === "duplicate") duplicate = true;
        firstError ??= e as Error;
      }
    }
    if (duplicate) throw new RecordOpenError("duplicate", "this message was read already");
    if (isPrekey && firstError === null) {
      throw new RecordOpenError("new_session", "this prekey envelope starts a new session");
    }
    throw new RecordOpenError(
      "undecryptable",
      firstError ? firstError.message : "there is no session to decrypt it with",
    );
  }

  /** The record as bytes. Secret: store it only sealed. */
  serialize(): Uint8Array<ArrayBuffer> {
    const flags = (this.current ? 1 : 0) | (this.retired ? 2 : 0);
    const w = new ByteWriter().u8(SESSION_RECORD_VERSION).u8(flags);
    if (this.current) w.blob(this.current.serialize());
    w.u8(this.previous.length);
    for (const s of this.previous) w.blob(s.serialize());
    return w.finish();
  }

  /** Restores {@linkcode serialize}'s bytes, or a lone session's; `DecryptError("bad_format")`. */
  static deserialize(bytes: Uint8Array): SessionRecord {
    const fail = (m: string) => new DecryptError("bad_format", `session record: ${m}`);
    if (bytes[0] === SESSION_STATE_VERSION) {
      return new SessionRecord(Session.deserialize(bytes), []);
    }
    const r = new ByteReader(bytes, fail);
    const version = r.u8("version");
    if (version !== SESSION_RECORD_VERSION) {
      throw fail(`expected version ${SESSION_RECORD_VERSION}, got ${version}`);
    }
    const flags = r.u8("flags");
    if (flags > 3 || flags === 2) throw fail(`flags ${flags}`);
    const current = flags & 1
      ? Session.deserialize(r.blob(MAX_SESSION_STATE_BYTES, "current session"))
      : null;
    const count = r.u8("previous count");
    if (count > MAX_PREVIOUS_SESSIONS) {
      throw fail(`expected at most ${MAX_PREVIOUS_SESSIONS} previous sessions, got ${count}`);
    }
    const previous: Session[] = [];
    for (let i = 0; i < count; i++) {
      previous.push(Session.deserialize(r.blob(MAX_SESSION_STATE_BYTES, "previous session")));
    }
    r.end("session record");
    return new SessionRecord(current, previous, (flags & 2) !== 0);
  }
}
