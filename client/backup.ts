/**
 * Encrypted backups: a snapshot of the account (identity, prekeys, contacts, sessions, history)
 * sealed under the user's recovery key (32 random bytes the user keeps; crypto/recovery.ts).
 * Nothing derived from the password is involved, so the server, which stores the backup, cannot
 * open it by guessing passwords.
 *
 * @module
 */

import { fromUtf8, KyberPrekey, type RecoveryKey, SessionRecord, utf8 } from "../crypto/mod.ts";
import { MAX_BACKUP_BYTES } from "../protocol/limits.ts";
import {
  type Contact,
  type LocalStore,
  MessageState,
  PrekeyKind,
  type StoredMessage,
} from "./local_store.ts";

const BACKUP_VERSION = 1;

/** A backup older than one this profile has already made or restored: the server kept it back. */
export class StaleBackupError extends Error {
  override name = "StaleBackupError";
  readonly code = "stale_backup";
  constructor(readonly offered: number, readonly seen: number) {
    super(
      `the server offered backup number ${offered}, older than number ${seen} this profile has ` +
        "seen; not restoring it (an old backup would bring back used keys)",
    );
  }
}

interface Snapshot {
  v: number;
  /** Raised by one at every backup, inside the sealed data: a client refuses to go back. */
  seq: number;
  username: string;
  identity: string;
  nextPrekeyId: string | null;
  prekeys: { kind: number; id: number; createdAt: number; bytes: string }[];
  contacts: (Omit<Contact, "identity" | "pendingIdentity"> & {
    identity: string | null;
    pendingIdentity: string | null;
  })[];
  sessions: { username: string; state: string }[];
  /** Base keys of sessions started here: a replayed first message stays refused after a restore. */
  baseKeys?: { key: string; spk: number }[];
  messages: {
    mid: string;
    peer: string;
    outgoing: boolean;
    ts: number;
    state: number;
    text: string;
  }[];
}

/**
 * Seals a snapshot of the store under the recovery key `key` for upload, dropping the oldest
 * history if it would not fit. `seq` is its number, higher than any before it.
 */
export async function makeBackup(
  store: LocalStore,
  username: string,
  seq: number,
  key: RecoveryKey,
): Promise<Uint8Array> {
  const identity = await store.getSecret("identity");
  if (!identity) throw new Error("no identity to back up");
  const prekeys: Snapshot["prekeys"] = [];
  for (const kind of [PrekeyKind.signed, PrekeyKind.oneTime, PrekeyKind.kyber]) {
    for (const p of store.listPrekeys(kind)) {
      const bytes = await store.getPrekey(kind, p.id);
      if (bytes) prekeys.push({ kind, id: p.id, createdAt: p.createdAt, bytes: bytes.toBase64() });
    }
  }
  const contacts: Snapshot["contacts"] = [];
  const sessions: Snapshot["sessions"] = [];
  for (const name of store.contactNames()) {
    const c = (await store.getContact(name))!;
    contacts.push({
      ...c,
      identity: c.identity?.toBase64() ?? null,
      pendingIdentity: c.pendingIdentity?.toBase64() ?? null,
    });
    const s = await store.getSession(name);
    if (s) sessions.push({ username: name, state: s.record.toBase64() });
  }
  let messages = (await store.allMessages()).map((m: StoredMessage) => ({
    mid: m.mid.toBase64(),
    peer: m.peer,
    outgoing: m.outgoing,
    ts: m.ts,
    state: m.state,
    text: m.text,
  }));
  const snapshot: Snapshot = {
    v: BACKUP_VERSION,
    seq,
    username,
    identity: identity.toBase64(),
    nextPrekeyId: store.getMetaText("next_prekey_id"),
    prekeys,
    contacts,
    sessions,
    baseKeys: store.listBaseKeys().map((b) => ({
      key: b.baseKey.toBase64(),
      spk: b.signedPrekeyId,
    })),
    messages,
  };
  let plain = utf8(JSON.stringify(snapshot));
  // The backup's cap bounds the history it carries: the newest messages are kept.
  while (plain.length + 65 > MAX_BACKUP_BYTES && messages.length > 0) {
    messages = messages.slice(Math.ceil(messages.length / 10));
    plain = utf8(JSON.stringify({ ...snapshot, messages }));
  }
  return key.sealBackup(plain, utf8(`backup ${username}`));
}

/**
 * Opens a backup blob with the recovery key and writes it into the (unlocked) store; returns its
 * number. The wrong key fails before anything is written (`DecryptError("auth_failed")`), and so
 * does a number below `seenSeq` ({@linkcode StaleBackupError}).
 *
 * A backup is a past state: its sending chains and one-time prekeys may have been used since it
 * was made. So nothing restored is used to send again: each session is kept only to read messages
 * already on their way (a new one starts at the first send), and no one-time prekey is restored
 * (the caller uploads a fresh set).
 */
export async function restoreBackup(
  store: LocalStore,
  username: string,
  blob: Uint8Array,
  key: RecoveryKey,
  seenSeq = 0,
): Promise<number> {
  const plain = await key.openBackup(blob, utf8(`backup ${username}`));
  const snap = JSON.parse(fromUtf8(plain)) as Snapshot;
  if (snap.v !== BACKUP_VERSION || snap.username !== username) {
    throw new Error("the backup is for another account");
  }
  const seq = Number.isSafeInteger(snap.seq) ? snap.seq : 0;
  if (seq < seenSeq) throw new StaleBackupError(seq, seenSeq);
  await store.setSecret("identity", Uint8Array.fromBase64(snap.identity));
  if (snap.nextPrekeyId) store.setMeta("next_prekey_id", snap.nextPrekeyId);
  for (const p of snap.prekeys) {
    const bytes = Uint8Array.fromBase64(p.bytes);
    if (p.kind === PrekeyKind.oneTime) continue;
    if (p.kind === PrekeyKind.kyber && !(await KyberPrekey.deserialize(bytes)).lastResort) continue;
    await store.putPrekeys(p.kind, [{ id: p.id, createdAt: p.createdAt, bytes }]);
  }
  for (const c of snap.contacts) {
    await store.putContact({
      ...c,
      identity: c.identity ? Uint8Array.fromBase64(c.identity) : null,
      pendingIdentity: c.pendingIdentity ? Uint8Array.fromBase64(c.pendingIdentity) : null,
    });
  }
  for (const s of snap.sessions) {
    const record = SessionRecord.deserialize(Uint8Array.fromBase64(s.state)).retire();
    const sealed = await store.sealSession(s.username, record.serialize());
    store.transaction(() =>
      store.writeSession(s.username, sealed, store.sessionVersion(s.username))
    );
  }
  for (const b of snap.baseKeys ?? []) store.rememberBaseKey(Uint8Array.fromBase64(b.key), b.spk);
  for (const m of snap.messages) {
    const mid = Uint8Array.fromBase64(m.mid);
    // A message that never reached the server before the backup cannot be sent from here.
    const state = m.state === MessageState.pending ? MessageState.sent : m.state;
    store.insertMessage({
      mid,
      peer: m.peer,
      outgoing: m.outgoing,
      ts: m.ts,
      state: state as StoredMessage["state"],
    }, await store.sealText(mid, m.text));
  }
  // The backup's history was printed (or read) where it was made.
  store.forgetUnprinted();
  return seq;
}
