/**
 * The local tables of rooms and message actions, beside the local store's own: each room's
 * change log, sender keys (ours and each member's), who has our current sender key, the room
 * outbox, and the actions on messages (edits, deletion, pins, reactions, replies). Everything a
 * server could learn from is sealed under the account key; room ids and usernames stay readable
 * for lookups, as peers do in the messages table.
 *
 * Room messages live in the local store's `messages` table with the peer `#<room id>`; their
 * author is in `message_authors`.
 *
 * @module
 */

import { fromUtf8, utf8 } from "../crypto/mod.ts";
import type { LocalStore } from "./local_store.ts";

const SCHEMA = `
CREATE TABLE IF NOT EXISTS rooms (id TEXT PRIMARY KEY, joined_at INTEGER NOT NULL, rotate INTEGER NOT NULL,
  sealed BLOB NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS room_own_keys (room TEXT PRIMARY KEY, sealed BLOB NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS room_member_keys (room TEXT NOT NULL, member TEXT NOT NULL, dist TEXT NOT NULL,
  sealed BLOB NOT NULL, PRIMARY KEY (room, member)) STRICT;
CREATE INDEX IF NOT EXISTS room_member_keys_dist ON room_member_keys (member, dist);
CREATE TABLE IF NOT EXISTS room_key_sent (room TEXT NOT NULL, member TEXT NOT NULL, chain INTEGER NOT NULL,
  PRIMARY KEY (room, member)) STRICT;
CREATE TABLE IF NOT EXISTS room_outbox (mid BLOB PRIMARY KEY, room TEXT NOT NULL, created_at INTEGER NOT NULL,
  sealed BLOB NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS message_authors (mid BLOB PRIMARY KEY, author TEXT NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS room_inbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, peer TEXT NOT NULL,
  sealed BLOB NOT NULL) STRICT;
CREATE TABLE IF NOT EXISTS message_actions (mid BLOB PRIMARY KEY, sealed BLOB NOT NULL) STRICT;
`;

/** A room as stored: its log (each change's bytes and signature) and when we joined. */
export interface StoredRoom {
  id: string;
  joinedAt: number;
  /** Our sender key must be replaced before our next message (someone left). */
  rotate: boolean;
  log: { bytes: string; sig: string }[];
}

/** What has been done to one message. */
export interface MessageActions {
  /** Earlier texts, oldest first, kept here only. */
  edits: { text: string; ts: number }[];
  deleted: boolean;
  pinned: boolean;
  /** One reaction per person. */
  reactions: Record<string, string>;
  /** The id (hex) of the message this one replies to. */
  replyTo?: string;
}

/** The empty set of actions. */
export function noActions(): MessageActions {
  return { edits: [], deleted: false, pinned: false, reactions: {} };
}

type Row = Record<string, unknown>;

/** Room and action tables on a local store. */
export class RoomStore {
  constructor(readonly local: LocalStore) {
    local.exec(SCHEMA);
  }

  #s(sql: string) {
    return this.local.statement(sql);
  }

  // -- rooms -------------------------------------------------------------------------------------

  sealRoom(r: StoredRoom): Promise<Uint8Array> {
    return this.local.seal(`room ${r.id}`, utf8(JSON.stringify(r.log)));
  }

  writeRoom(r: StoredRoom, sealed: Uint8Array): void {
    this.#s(
      "INSERT INTO rooms (id, joined_at, rotate, sealed) VALUES (?, ?, ?, ?) ON CONFLICT (id) " +
        "DO UPDATE SET rotate = excluded.rotate, sealed = excluded.sealed, " +
        "joined_at = CASE WHEN joined_at = 0 THEN excluded.joined_at ELSE joined_at END",
    ).run(r.id, r.joinedAt, r.rotate ? 1 : 0, sealed);
  }

  async getRoom(id: string): Promise<StoredRoom | null> {
    const row = this.#s("SELECT * FROM rooms WHERE id = ?").get(id) as Row | undefined;
    if (!row) return null;
    const log = await this.openRoomLog(id, row.sealed as Uint8Array);
    return { id, joinedAt: row.joined_at as number, rotate: row.rotate === 1, log };
  }

  /**
   * A room's log as stored, still sealed. Every write seals afresh (a new random nonce), so these
   * bytes name one version of the log: what a cache checks and a write compares before it commits.
   */
  roomSealed(id: string): Uint8Array | null {
    const row = this.#s("SELECT sealed FROM rooms WHERE id = ?").get(id) as Row | undefined;
    return row ? row.sealed as Uint8Array : null;
  }

  /** A room's flags, without opening its log. */
  roomMeta(id: string): { joinedAt: number; rotate: boolean } | null {
    const row = this.#s("SELECT joined_at, rotate FROM rooms WHERE id = ?").get(id) as
      | Row
      | undefined;
    return row ? { joinedAt: row.joined_at as number, rotate: row.rotate === 1 } : null;
  }

  async openRoomLog(id: string, sealed: Uint8Array): Promise<StoredRoom["log"]> {
    return JSON.parse(fromUtf8(await this.local.open(`room ${id}`, sealed)));
  }

  roomIds(): string[] {
    return (this.#s("SELECT id FROM rooms ORDER BY joined_at").all() as Row[]).map((r) =>
      r.id as string
    );
  }

  setJoinedAt(id: string, at: number): void {
    this.#s("UPDATE rooms SET joined_at = ? WHERE id = ?").run(at, id);
  }

  // -- sender keys -------------------------------------------------------------------------------

  /** Our sender key as stored, still sealed: what a step compares before it commits. */
  ownKeySealed(room: string): Uint8Array | null {
    const row = this.#s("SELECT sealed FROM room_own_keys WHERE room = ?").get(room) as
      | Row
      | undefined;
    return row ? row.sealed as Uint8Array : null;
  }

  openOwnKey(room: string, sealed: Uint8Array): Promise<Uint8Array> {
    return this.local.open(`room key ${room}`, sealed);
  }

  sealOwnKey(room: string, state: Uint8Array): Promise<Uint8Array> {
    return this.local.seal(`room key ${room}`, state);
  }

  writeOwnKey(room: string, sealed: Uint8Array): void {
    this.#s("INSERT OR REPLACE INTO room_own_keys (room, sealed) VALUES (?, ?)").run(room, sealed);
  }

  async getMemberKey(room: string, member: string): Promise<Uint8Array | null> {
    const sealed = this.memberKeySealed(room, member);
    return sealed ? await this.openMemberKey(room, member, sealed) : null;
  }

  /** A member's sender-key record as stored, still sealed (see {@linkcode roomSealed}). */
  memberKeySealed(room: string, member: string): Uint8Array | null {
    const row = this.#s("SELECT sealed FROM room_member_keys WHERE room = ? AND member = ?")
      .get(room, member) as Row | undefined;
    return row ? row.sealed as Uint8Array : null;
  }

  openMemberKey(room: string, member: string, sealed: Uint8Array): Promise<Uint8Array> {
    return this.local.open(`member key ${room} ${member}`, sealed);
  }

  /** The room whose sender key from `member` has this distribution id (hex). */
  roomOfDistribution(member: string, dist: string): string | null {
    const row = this.#s("SELECT room FROM room_member_keys WHERE member = ? AND dist = ?")
      .get(member, dist) as Row | undefined;
    return row ? row.room as string : null;
  }

  sealMemberKey(room: string, member: string, record: Uint8Array): Promise<Uint8Array> {
    return this.local.seal(`member key ${room} ${member}`, record);
  }

  writeMemberKey(room: string, member: string, dist: string, sealed: Uint8Array): void {
    this.#s(
      "INSERT OR REPLACE INTO room_member_keys (room, member, dist, sealed) VALUES (?, ?, ?, ?)",
    ).run(room, member, dist, sealed);
  }

  /** Members who hold our sender key of chain `chain`. */
  keySentTo(room: string, chain: number): Set<string> {
    return new Set(
      (this.#s("SELECT member FROM room_key_sent WHERE room = ? AND chain = ?").all(
        room,
        chain,
      ) as Row[])
        .map((r) => r.member as string),
    );
  }

  markKeySent(room: string, member: string, chain: number): void {
    this.#s("INSERT OR REPLACE INTO room_key_sent (room, member, chain) VALUES (?, ?, ?)").run(
      room,
      member,
      chain,
    );
  }

  // -- room outbox -------------------------------------------------------------------------------

  sealOutgoing(mid: Uint8Array, body: Uint8Array, to: string[]): Promise<Uint8Array> {
    return this.local.seal(
      `room outbox ${mid.toHex()}`,
      utf8(JSON.stringify({ body: body.toBase64(), to })),
    );
  }

  writeOutgoing(mid: Uint8Array, room: string, sealed: Uint8Array): void {
    this.#s(
      "INSERT OR REPLACE INTO room_outbox (mid, room, created_at, sealed) VALUES (?, ?, ?, ?)",
    )
      .run(mid, room, Date.now(), sealed);
  }

  deleteOutgoing(mid: Uint8Array): void {
    this.#s("DELETE FROM room_outbox WHERE mid = ?").run(mid);
  }

  /** Room messages not yet accepted by the server, oldest first. */
  async outgoing(): Promise<{ mid: Uint8Array; room: string; body: Uint8Array; to: string[] }[]> {
    const rows = this.#s("SELECT mid, room, sealed FROM room_outbox ORDER BY created_at, rowid")
      .all() as Row[];
    return await Promise.all(rows.map(async (r) => {
      const mid = r.mid as Uint8Array;
      const raw = JSON.parse(
        fromUtf8(await this.local.open(`room outbox ${mid.toHex()}`, r.sealed as Uint8Array)),
      );
      return { mid, room: r.room as string, body: Uint8Array.fromBase64(raw.body), to: raw.to };
    }));
  }

  // -- pairwise room content staged with its session step ---------------------------------------

  sealInbox(peer: string, content: Uint8Array): Promise<Uint8Array> {
    return this.local.seal(`room inbox ${peer}`, content);
  }

  writeInbox(peer: string, sealed: Uint8Array): void {
    this.#s("INSERT INTO room_inbox (peer, sealed) VALUES (?, ?)").run(peer, sealed);
  }

  /** The oldest staged content, if any. */
  async nextInbox(): Promise<{ seq: number; peer: string; content: Uint8Array } | null> {
    const row = this.#s("SELECT * FROM room_inbox ORDER BY seq LIMIT 1").get() as Row | undefined;
    if (!row) return null;
    const peer = row.peer as string;
    return {
      seq: row.seq as number,
      peer,
      content: await this.local.open(`room inbox ${peer}`, row.sealed as Uint8Array),
    };
  }

  deleteInbox(seq: number): void {
    this.#s("DELETE FROM room_inbox WHERE seq = ?").run(seq);
  }

  // -- authors and actions -----------------------------------------------------------------------

  setAuthor(mid: Uint8Array, author: string): void {
    this.#s("INSERT OR IGNORE INTO message_authors (mid, author) VALUES (?, ?)").run(mid, author);
  }

  author(mid: Uint8Array): string | null {
    const row = this.#s("SELECT author FROM message_authors WHERE mid = ?").get(mid) as
      | Row
      | undefined;
    return row ? row.author as string : null;
  }

  async actions(mid: Uint8Array): Promise<MessageActions> {
    const row = this.#s("SELECT sealed FROM message_actions WHERE mid = ?").get(mid) as
      | Row
      | undefined;
    if (!row) return noActions();
    return JSON.parse(
      fromUtf8(await this.local.open(`actions ${mid.toHex()}`, row.sealed as Uint8Array)),
    );
  }

  sealActions(mid: Uint8Array, a: MessageActions): Promise<Uint8Array> {
    return this.local.seal(`actions ${mid.toHex()}`, utf8(JSON.stringify(a)));
  }

  writeActions(mid: Uint8Array, sealed: Uint8Array): void {
    this.#s("INSERT OR REPLACE INTO message_actions (mid, sealed) VALUES (?, ?)").run(mid, sealed);
  }

  /** Replaces a stored message's text (an edit, or a deletion's blank). */
  setText(mid: Uint8Array, sealed: Uint8Array): void {
    this.#s("UPDATE messages SET sealed = ? WHERE mid = ?").run(sealed, mid);
  }

  /** The peer and direction of a stored message. */
  messageInfo(mid: Uint8Array): { peer: string; outgoing: boolean } | null {
    const row = this.#s("SELECT peer, outgoing FROM messages WHERE mid = ?").get(mid) as
      | Row
      | undefined;
    return row ? { peer: row.peer as string, outgoing: row.outgoing === 1 } : null;
  }
}
