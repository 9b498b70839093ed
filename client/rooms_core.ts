/**
 * Rooms in the chat core: groups and broadcast channels built on the pairwise sessions. Room
 * changes and sender keys travel to each member over their pairwise session; a room message is
 * encrypted once under our sender key, signed, and sent once (`send_room`) to every member.
 *
 * Order matters and is kept: sender keys and changes go out (and are committed by the server)
 * before the room message that needs them, because the room outbox waits for the pairwise one.
 * When a member leaves or is removed, our sender key is replaced before our next message, and the
 * one who left is not given it.
 *
 * @module
 */

import {
  concat,
  decodeDistribution,
  fromUtf8,
  IdentityPublic,
  randomBytes,
  SenderKeyRecord,
  SenderKeyState,
  toHex,
  utf8,
} from "../crypto/mod.ts";
import type { Deliver } from "../protocol/messages.ts";
import { canonicalUsername } from "../protocol/username.ts";
import { ChatError } from "./chat_types.ts";
import {
  type ActionContent,
  type Content,
  decodeContent,
  decodeRoomHead,
  encodeContent,
  MAX_TEXT_CHARS,
  type RoomContent,
  type RoomHead,
} from "./content.ts";
import { MessageState, type StoredMessage } from "./local_store.ts";
import type { Messenger, RoomHooks } from "./messenger.ts";
import { applyAction, noteReply } from "./room_actions.ts";
import { actionFromWire, actionToWire } from "./content_actions.ts";
import type { MessageActions, RoomStore } from "./room_store.ts";
import { MAX_SESSION_ATTEMPTS, StepConflict } from "./session_lock.ts";
import {
  type GroupAction,
  GroupLog,
  identityField,
  inviteMatches,
  MAX_CHANGE_LAG,
  newInvite,
  parseInvite,
  readChange,
  REVOKE_INVITE,
  type RoomKind,
  type SignedChange,
} from "./rooms/mod.ts";

/** The first bytes of a room message body: envelope version 1, type 3 (room). */
export const ROOM_ENVELOPE = Uint8Array.of(0x01, 0x03);

/** A room as a front end shows it. */
export interface RoomInfo {
  id: string;
  /** The conversation key of its messages: `#<id>`. */
  peer: string;
  name: string;
  kind: RoomKind;
  version: number;
  member: boolean;
  admin: boolean;
  joinedAt: number;
  members: { username: string; admin: boolean; verified: boolean; addedAt: number }[];
}

const roomPeer = (id: string) => `#${id}`;
const ad = (room: string, from: string) => utf8(`pesuchat room ${room} from ${from}`);

/** Sync requests this process remembers having sent, so one gap is asked about once. */
export const MAX_REMEMBERED_SYNCS = 10_000;
/**
 * How long a member waits before it acts on a gap a room message or a change shows: a change in
 * flight from another admin usually lands meanwhile, and then nobody is asked for anything.
 */
export const SYNC_DELAY_MS = 2_000;
/**
 * How long one gap, once asked about (or one request, once answered), is not acted on again: a
 * request or answer lost on the way goes again after it, and a peer asking without end is
 * answered at this pace.
 */
export const SYNC_REPEAT_MS = 60_000;

/** The clock gap repair reads: the real one, or one a test moves by hand. */
export interface SyncClock {
  now(): number;
  /** Runs `fn` once after `ms`; the returned function cancels it. */
  after(ms: number, fn: () => void): () => void;
}

const REAL_CLOCK: SyncClock = {
  now: () => Date.now(),
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
};

/** What was sent for one gap in the current SYNC_REPEAT_MS: changes from `from` on, the key. */
interface Synced {
  at: number;
  from: number;
  key: boolean;
}

/** One account's rooms. */
export class Rooms implements RoomHooks {
  /** The clock of gap repair; tests replace it to step through SYNC_DELAY_MS and SYNC_REPEAT_MS. */
  clock: SyncClock = REAL_CLOCK;
  /** How many gaps are remembered at most (MAX_REMEMBERED_SYNCS; tests lower it). */
  maxRememberedSyncs = MAX_REMEMBERED_SYNCS;
  /**
   * Each room's log with the sealed row it was read from. It is used only while the row still
   * holds those bytes: a read outside the lane (a front end asking for room info) or another
   * process on this profile may have loaded or written another version meanwhile, and a stale
   * log taken as current would drop the changes it lacks at the next write.
   */
  #logs = new Map<string, { sealed: Uint8Array; log: GroupLog }>();
  #flushing: Promise<void> | null = null;
  #flushAgain = false;
  /**
   * Gaps asked about, offered and answered, by what, room, peer and our head, with what was sent
   * for them: a peer chooses the version and key flag of its requests and the head of its
   * messages, so these stay out of the key, and it cannot make us send one change twice in
   * SYNC_REPEAT_MS by varying them.
   */
  #synced = new Map<string, Synced>();
  /** Gaps waiting SYNC_DELAY_MS before they are looked at again, by key. */
  #waiting = new Map<string, () => void>();
  #stopped = false;

  constructor(readonly m: Messenger, readonly store: RoomStore) {
    m.rooms = this;
  }

  get #me(): string {
    return this.m.username;
  }

  async #log(id: string): Promise<GroupLog | null> {
    return (await this.#held(id))?.log ?? null;
  }

  /** The room's log as stored now, with the sealed row it came from (its version). */
  async #held(id: string): Promise<{ sealed: Uint8Array; log: GroupLog } | null> {
    const sealed = this.store.roomSealed(id);
    if (!sealed) return null;
    const cached = this.#logs.get(id);
    if (cached && sameBytes(cached.sealed, sealed)) return cached;
    const held = { sealed, log: await GroupLog.fromWire(await this.store.openRoomLog(id, sealed)) };
    this.#logs.set(id, held);
    return held;
  }

  /**
   * Writes a room's log, only if the row still holds `was` (null: no row yet): otherwise another
   * writer (another process on this profile) got there first, and `StepConflict` says to read
   * the room again and redo the step, so no change it took in is lost.
   */
  async #save(
    id: string,
    log: GroupLog,
    rotate: boolean,
    joinedAt: number,
    was: Uint8Array | null,
  ): Promise<void> {
    const stored = { id, joinedAt, rotate, log: log.toWire() };
    const sealed = await this.store.sealRoom(stored);
    this.m.store.transaction(() => {
      if (!sameBytes(this.store.roomSealed(id), was)) throw new StepConflict();
      this.store.writeRoom(stored, sealed);
    });
    this.#logs.set(id, { sealed, log });
  }

  /** Runs a read-and-write step again while another process keeps writing first. */
  async #retrying<T>(what: string, step: () => Promise<T>): Promise<T> {
    for (let attempt = 1;; attempt++) {
      try {
        return await step();
      } catch (e) {
        if (!(e instanceof StepConflict)) throw e;
        if (attempt >= MAX_SESSION_ATTEMPTS) {
          throw new Error(`${what} kept changing under this process`);
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Reading

  /** Every room we are or were in, by the time we joined. */
  async list(): Promise<RoomInfo[]> {
    const out: RoomInfo[] = [];
    for (const id of this.store.roomIds()) {
      const info = await this.info(id);
      if (info.joinedAt > 0) out.push(info);
    }
    return out;
  }

  /** A room by id, id prefix, `#id` or name (case-insensitive); `ChatError("bad_input")`. */
  async find(text: string): Promise<RoomInfo> {
    const q = text.replace(/^#/, "").toLowerCase();
    const all = await this.list();
    const hits = all.filter((r) => r.id === q || r.name.toLowerCase() === q) ??
      [];
    const byPrefix = hits.length ? hits : all.filter((r) => q.length >= 4 && r.id.startsWith(q));
    if (byPrefix.length !== 1) {
      throw new ChatError(
        "bad_input",
        byPrefix.length ? `${text} names several rooms` : `no room ${text}`,
      );
    }
    return byPrefix[0]!;
  }

  /** Name, members (with verified state), admins, and when we joined. */
  async info(id: string): Promise<RoomInfo> {
    const log = await this.#log(id);
    const r = this.store.roomMeta(id);
    if (!log || !r) throw new ChatError("bad_input", `no room ${id}`);
    const s = log.state;
    const members = [];
    for (const [username, m] of s.members) {
      const c = username === this.#me ? null : await this.m.contact(username);
      members.push({
        username,
        admin: s.admins.has(username),
        verified: username === this.#me || (c?.verified ?? false),
        addedAt: m.addedAt,
      });
    }
    members.sort((a, b) => a.username.localeCompare(b.username));
    return {
      id,
      peer: roomPeer(id),
      name: s.name,
      kind: s.kind,
      version: s.version,
      member: s.members.has(this.#me),
      admin: s.admins.has(this.#me),
      joinedAt: r.joinedAt,
      members,
    };
  }

  /** The actions taken on a message (edits, deletion, pin, reactions, reply). */
  actions(mid: Uint8Array): Promise<MessageActions> {
    return this.store.actions(mid);
  }

  /** Who wrote a stored message (room messages carry their author). */
  author(m: StoredMessage): string {
    return m.outgoing ? this.#me : (this.store.author(m.mid) ?? m.peer);
  }

  // ---------------------------------------------------------------------------------------------
  // Changing rooms

  /** The identity we hold for `username`, asking the server for a new contact. */
  async #identityOf(username: string): Promise<{ u: string; id: string }> {
    const u = canonicalUsername(username);
    if (!u) throw new ChatError("no_such_user", `there is no user ${JSON.stringify(username)}`);
    let c = await this.m.contact(u);
    if (!c?.identity) {
      await this.m.lookup(u);
      c = await this.m.contact(u);
    }
    if (!c?.identity) throw new ChatError("no_such_user", `no identity known for ${u}`);
    if (c.pendingIdentity) {
      throw new ChatError("identity_changed", `${u}'s identity changed; acknowledge it first`);
    }
    return { u, id: identityField(IdentityPublic.restore(c.identity)) };
  }

  /** Creates a room with us as its admin; returns its id. */
  async create(name: string, kind: RoomKind, usernames: string[]): Promise<string> {
    const members: { u: string; id: string }[] = [];
    for (const u of new Set(usernames)) {
      if (canonicalUsername(u) !== this.#me) members.push(await this.#identityOf(u));
    }
    const id = toHex(randomBytes(16));
    await this.m.run(async () => {
      const { log, changes } = await GroupLog.create(this.m.identity, this.#me, {
        id,
        name,
        kind,
        members,
      });
      await this.#save(id, log, false, Date.now(), null);
      for (const u of log.state.members.keys()) {
        if (u !== this.#me) await this.#sendChanges(u, changes);
      }
    });
    this.m.link.emit("room", id);
    await this.flush();
    return id;
  }

  async #sendChanges(to: string, changes: readonly SignedChange[]): Promise<void> {
    for (const c of changes) {
      await this.m.sendControlInLane(to, { t: "room_change", bytes: c.bytes, sig: c.sig });
    }
  }

  /** Makes a change as an admin (or leaves), and sends it to everyone it concerns. In the lane. */
  async #change(id: string, acts: GroupAction[]): Promise<void> {
    const { before, next } = await this.#retrying(`room ${id}`, async () => {
      const held = await this.#held(id);
      if (!held) throw new ChatError("bad_input", `no room ${id}`);
      const before = new Set(held.log.state.members.keys());
      let next: { log: GroupLog; change: SignedChange };
      try {
        next = await held.log.propose(this.m.identity, this.#me, acts);
      } catch (e) {
        throw new ChatError("bad_input", (e as Error).message);
      }
      const after = next.log.state.members;
      const shrank = [...before].some((u) => !after.has(u));
      const r = this.store.roomMeta(id);
      const joinedAt = r?.joinedAt || Date.now();
      await this.#save(id, next.log, shrank || (r?.rotate ?? false), joinedAt, held.sealed);
      return { before, next };
    });
    const after = next.log.state.members;
    // Everyone before and after hears of it; a new member gets the whole history of changes.
    for (const u of new Set([...before, ...after.keys()])) {
      if (u === this.#me) continue;
      if (before.has(u)) await this.#sendChanges(u, [next.change]);
      else await this.#sendChanges(u, next.log.changes);
    }
    this.m.link.emit("room", id);
  }

  async #publicChange(id: string, acts: () => Promise<GroupAction[]>): Promise<void> {
    const list = await acts();
    await this.m.run(() => this.#change(id, list));
    await this.flush();
  }

  /** Adds members (admins only). */
  add(id: string, usernames: string[]): Promise<void> {
    return this.#publicChange(id, async () => {
      const acts: GroupAction[] = [];
      for (const u of usernames) {
        const m = await this.#identityOf(u);
        acts.push({ a: "add", u: m.u, id: m.id });
      }
      return acts;
    });
  }

  /** Removes a member (admins only). */
  remove(id: string, username: string): Promise<void> {
    return this.#publicChange(id, () => Promise.resolve([{ a: "remove", u: username }]));
  }

  /** Leaves the room. */
  leave(id: string): Promise<void> {
    return this.#publicChange(id, () => Promise.resolve([{ a: "leave" }]));
  }

  /** Promotes or demotes an admin (admins only). */
  setAdmin(id: string, username: string, on: boolean): Promise<void> {
    return this.#publicChange(id, () => Promise.resolve([{ a: "admin", u: username, on }]));
  }

  /** Renames the room (admins only). */
  rename(id: string, name: string): Promise<void> {
    return this.#publicChange(id, () => Promise.resolve([{ a: "rename", name }]));
  }

  /** Makes a new invite code (revoking the last one); admins only. */
  async invite(id: string): Promise<string> {
    const inv = await newInvite(id, this.#me);
    await this.#publicChange(id, () => Promise.resolve([inv.action]));
    return inv.code;
  }

  /** Revokes the room's invite code. */
  revokeInvite(id: string): Promise<void> {
    return this.#publicChange(id, () => Promise.resolve([REVOKE_INVITE]));
  }

  /** Asks the admin named in an invite code to let us in; their client admits us. */
  async join(code: string): Promise<string> {
    let inv;
    try {
      inv = parseInvite(code);
    } catch (e) {
      throw new ChatError("bad_input", (e as Error).message);
    }
    await this.#identityOf(inv.admin);
    await this.m.sendControl(inv.admin, { t: "join", room: inv.groupId, secret: inv.secret });
    return inv.groupId;
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  /** Our sender key for the room, new or rotated when due. In the lane. */
  async #ownKey(
    id: string,
  ): Promise<{ key: SenderKeyState; rotated: boolean; was: Uint8Array | null }> {
    const was = this.store.ownKeySealed(id);
    const bytes = was ? await this.store.openOwnKey(id, was) : null;
    const r = this.store.roomMeta(id);
    if (bytes && !r?.rotate) {
      return { key: await SenderKeyState.deserialize(bytes), rotated: false, was };
    }
    const old = bytes ? await SenderKeyState.deserialize(bytes) : null;
    return { key: await SenderKeyState.create(old?.distributionId), rotated: true, was };
  }

  /** Sends content to a room. In the lane. */
  async #send(id: string, content: Content, text: string | null): Promise<StoredMessage | null> {
    // Another process on this profile may step the same chain between our read and our commit;
    // the commit holds only if the stored key is still the one we stepped, else we step again,
    // so no two messages ever share an iteration (a message key).
    return await this.#retrying(
      `the sender key of room ${id}`,
      () => this.#sendOnce(id, content, text),
    );
  }

  /** The room's log if we may post `what` there now; else the sentence that says why not. */
  #mayPost(log: GroupLog | null, what: "message" | "reaction"): GroupLog {
    if (!log || !log.state.members.has(this.#me)) {
      throw new ChatError("bad_input", "you are not a member of this room");
    }
    if (!log.canPost(this.#me, what)) {
      throw new ChatError("bad_input", "only admins post in this channel");
    }
    return log;
  }

  async #sendOnce(
    id: string,
    content: Content,
    text: string | null,
  ): Promise<StoredMessage | null> {
    const log = this.#mayPost(await this.#log(id), content.t === "react" ? "reaction" : "message");
    const { key, rotated, was } = await this.#ownKey(id);
    const head = { v: log.state.version, h: await log.head() };
    const others = [...log.state.members.keys()].filter((u) => u !== this.#me);
    const has = this.store.keySentTo(id, key.chainId);
    for (const u of others) {
      if (has.has(u)) continue;
      await this.m.sendControlInLane(u, { t: "sender_key", room: id, dist: key.distribution() });
      this.store.markKeySent(id, u, key.chainId);
    }
    const { message, next } = await key.encrypt(encodeContent(content, head), ad(id, this.#me));
    const mid = randomBytes(16);
    const body = concat(ROOM_ENVELOPE, message);
    const [sealedKey, sealedOut, sealedText] = await Promise.all([
      this.store.sealOwnKey(id, next.serializeUnsafe()),
      this.store.sealOutgoing(mid, body, others),
      text === null ? null : this.m.store.sealText(mid, text),
    ]);
    const stored: StoredMessage = {
      seq: 0,
      mid,
      peer: roomPeer(id),
      outgoing: true,
      ts: Date.now(),
      state: MessageState.pending,
      text: text ?? "",
    };
    const local = this.m.store;
    local.transaction(() => {
      if (!sameBytes(this.store.ownKeySealed(id), was)) throw new StepConflict();
      this.store.writeOwnKey(id, sealedKey);
      if (others.length > 0) this.store.writeOutgoing(mid, id, sealedOut);
      if (sealedText) local.insertMessage(stored, sealedText);
      if (rotated) {
        local.statement("UPDATE rooms SET rotate = 0 WHERE id = ?").run(id);
      }
    });
    if (rotated) this.#logs.delete(id);
    this.m.link.changed();
    return text === null ? null : stored;
  }

  /** Sends a text to a room (optionally as a reply); resolves once it is stored locally. */
  async send(id: string, text: string, reply?: Uint8Array): Promise<StoredMessage> {
    if (text.length === 0 || text.length > MAX_TEXT_CHARS) {
      throw new ChatError("bad_input", `a message has 1 to ${MAX_TEXT_CHARS} characters`);
    }
    const m = await this.m.run(async () => {
      const stored = await this.#send(id, { t: "text", text, ts: Date.now(), reply }, text);
      if (reply) await noteReply(this.store, stored!.mid, reply);
      return stored!;
    });
    this.m.link.emit("message", m);
    void this.flush().catch(() => {});
    return m;
  }

  /**
   * Takes an action on a message in a 1:1 chat (`conversation` a username) or a room (`#id`):
   * applied here at once, then sent. `ChatError("bad_input")` when it is not ours to take.
   */
  async act(conversation: string, a: ActionContent): Promise<MessageActions> {
    const room = conversation.startsWith("#") ? conversation.slice(1) : null;
    const result = await this.m.run(async () => {
      const log = room ? await this.#log(room) : null;
      // What the room would refuse to carry is refused before anything is applied here, or the
      // action would show on this device alone.
      if (room) this.#mayPost(log, a.t === "react" ? "reaction" : "message");
      const applied = await applyAction(this.store, {
        conversation,
        from: this.#me,
        admin: log?.state.admins.has(this.#me) ?? false,
        me: this.#me,
      }, a);
      if (!applied) throw new ChatError("bad_input", "that action is not yours to take here");
      if (room) await this.#send(room, a, null);
      else await this.m.sendControlInLane(conversation, a);
      return applied;
    });
    this.m.link.emit("action", conversation, this.#me, a);
    void this.flush().catch(() => {});
    return result;
  }

  /** Sends pairwise envelopes first, then room messages, oldest first. */
  flush(): Promise<void> {
    this.#flushAgain = true;
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  async #flush(): Promise<void> {
    // Content staged before a crash is handled before anything new goes out.
    await this.m.run(() => this.drain());
    for (;;) {
      this.#flushAgain = false;
      await this.m.flushOutbox();
      // Keys and changes go before the room messages that need them.
      if (this.m.hasOutbox() || !this.m.link.isOnline()) return;
      const items = await this.store.outgoing();
      if (items.length === 0) {
        if (this.#flushAgain) continue;
        return;
      }
      let progress = false;
      for (const it of items) {
        try {
          await this.m.link.request("send_room", { to: it.to, mid: it.mid, body: it.body });
        } catch (e) {
          const code = (e as { code?: string }).code;
          if (code !== "no_such_user") {
            if (code === "queue_full") {
              this.m.link.emit("problem", "a room member has too many undelivered messages");
            }
            return;
          }
        }
        const local = this.m.store;
        local.transaction(() => {
          this.store.deleteOutgoing(it.mid);
          local.raiseState([it.mid], MessageState.sent);
        });
        this.m.link.emit("state", roomPeer(it.room), [it.mid], MessageState.sent);
        progress = true;
      }
      if (!progress && !this.#flushAgain) return;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving (RoomHooks, in the messenger's lane)

  isRoomBody(body: Uint8Array): boolean {
    return body.length > 2 && body[0] === ROOM_ENVELOPE[0] && body[1] === ROOM_ENVELOPE[1];
  }

  async receiveRoom(d: Deliver): Promise<void> {
    // Another process on this profile may open a message of the same sender at the same time:
    // a commit holds only if the member's stored chain is still the one this step read, else the
    // step runs again on the newer chain (and finds the message stored, if it was this one).
    const gap = await this.#retrying(
      `the sender key of ${d.from}`,
      () => this.#receiveRoomOnce(d),
    );
    if (gap) await this.#noticeGap(gap.id, d.from, gap.head, gap.key);
  }

  /** One attempt at a room message; what it says about the sender's room state, if anything. */
  async #receiveRoomOnce(
    d: Deliver,
  ): Promise<{ id: string | null; head: RoomHead | null; key: boolean } | null> {
    const local = this.m.store;
    if (local.hasMessage(d.mid) || local.wasSeen(d.mid)) {
      this.m.link.ack([d.qid]);
      return null;
    }
    const refuse = (why: string) => {
      local.markSeenId(d.mid);
      this.m.link.ack([d.qid]);
      this.m.link.emit("problem", why);
    };
    const message = d.body.subarray(2);
    const dist = toHex(message.subarray(1, 17));
    const id = this.store.roomOfDistribution(d.from, dist);
    const log = id ? await this.#log(id) : null;
    if (!id || !log) {
      // A sender key we never got (withheld, or lost with an undecryptable pairwise message):
      // the rooms shared with the sender are asked about, and the sender sends it again.
      refuse(`a room message from ${d.from} could not be decrypted`);
      return { id: null, head: null, key: true };
    }
    if (!log.state.members.has(d.from)) {
      refuse(`a room message from ${d.from}, who is not a member, was dropped`);
      return null;
    }
    const was = this.store.memberKeySealed(id, d.from);
    let opened;
    try {
      const record = SenderKeyRecord.deserialize(
        await this.store.openMemberKey(id, d.from, was!),
      );
      opened = await record.decrypt(message, ad(id, d.from));
    } catch (e) {
      refuse(`a room message from ${d.from} could not be decrypted (${(e as Error).message})`);
      // A repeat is no gap; a chain we lack is.
      return (e as { code?: string }).code === "duplicate" ? null : { id, head: null, key: true };
    }
    const sealedKey = await this.store.sealMemberKey(id, d.from, opened.next.serializeUnsafe());
    let content: Content | null = null;
    try {
      content = decodeContent(opened.plaintext);
    } catch {
      // Not understood: the key is used up all the same.
    }
    const head = decodeRoomHead(opened.plaintext);
    const gap = head ? { id, head, key: false } : null;
    const unchanged = () => {
      if (!sameBytes(this.store.memberKeySealed(id, d.from), was)) throw new StepConflict();
    };
    const allowed = content !== null &&
      log.canPost(d.from, content.t === "react" ? "reaction" : "message");
    if (content?.t === "text" && allowed) {
      const stored: StoredMessage = {
        seq: 0,
        mid: d.mid,
        peer: roomPeer(id),
        outgoing: false,
        ts: d.ts,
        state: MessageState.received,
        text: content.text,
      };
      const sealedText = await local.sealText(d.mid, content.text);
      local.transaction(() => {
        unchanged();
        this.store.writeMemberKey(id, d.from, dist, sealedKey);
        local.insertMessage(stored, sealedText);
        this.store.setAuthor(d.mid, d.from);
      });
      if (content.reply) await noteReply(this.store, d.mid, content.reply);
      this.m.link.ack([d.qid]);
      this.m.link.changed();
      this.m.link.emit("message", stored);
      return gap;
    }
    local.transaction(() => {
      unchanged();
      this.store.writeMemberKey(id, d.from, dist, sealedKey);
      local.markSeenId(d.mid);
    });
    if (content && allowed && isAction(content)) {
      const done = await applyAction(this.store, {
        conversation: roomPeer(id),
        from: d.from,
        admin: log.state.admins.has(d.from),
        me: this.#me,
      }, content);
      if (done) this.m.link.emit("action", roomPeer(id), d.from, content);
    } else if (content && !allowed) {
      this.m.link.emit(
        "problem",
        `${d.from} may not post in ${log.state.name}; their message was dropped`,
      );
    }
    this.m.link.ack([d.qid]);
    this.m.link.changed();
    return gap;
  }

  async stage(peer: string, content: ActionContent | RoomContent): Promise<() => void> {
    const sealed = await this.store.sealInbox(peer, utf8(JSON.stringify(actionToWire(content))));
    return () => this.store.writeInbox(peer, sealed);
  }

  async drain(): Promise<void> {
    for (;;) {
      const next = await this.store.nextInbox();
      if (!next) return;
      const content = actionFromWire(JSON.parse(fromUtf8(next.content)));
      if (content) await this.#pairwise(next.peer, content);
      this.store.deleteInbox(next.seq);
    }
  }

  /**
   * A pairwise message from `peer` could not be decrypted: whatever it carried (a room change,
   * a sender key) is lost, so every room shared with them is asked about, with their key.
   */
  async lost(peer: string): Promise<void> {
    await this.#noticeGap(null, peer, null, true);
  }

  async #pairwise(peer: string, content: ActionContent | RoomContent): Promise<void> {
    try {
      switch (content.t) {
        case "room_change":
          return await this.#receiveChange(peer, await readChange(content.bytes, content.sig));
        case "sender_key":
          return await this.#receiveKey(peer, content.room, content.dist);
        case "room_sync":
          return await this.#answerSync(peer, content.room, content.v, content.key);
        case "join":
          return await this.#admit(peer, content.room, content.secret);
        default: {
          const done = await applyAction(this.store, {
            conversation: peer,
            from: peer,
            admin: false,
            me: this.#me,
          }, content);
          if (done) this.m.link.emit("action", peer, peer, content);
        }
      }
    } catch (e) {
      this.m.link.emit(
        "problem",
        `a room update from ${peer} was refused: ${(e as Error).message}`,
      );
    }
  }

  replied(mid: Uint8Array, to: Uint8Array): Promise<void> {
    return noteReply(this.store, mid, to);
  }

  async #receiveChange(peer: string, change: SignedChange): Promise<void> {
    const id = change.body.g;
    const { next, applied, joinedAt } = await this.#retrying(`room ${id}`, async () => {
      const held = await this.#held(id);
      const log = held?.log ?? await GroupLog.fromWire([]);
      const before = new Set(log.state.members.keys());
      const { log: next, applied } = await log.receive(change);
      const r = this.store.roomMeta(id);
      const after = next.state.members;
      const shrank = [...before].some((u) => !after.has(u));
      const joinedAt = r?.joinedAt || (after.has(this.#me) ? Date.now() : 0);
      if (next !== log) {
        await this.#save(id, next, shrank || (r?.rotate ?? false), joinedAt, held?.sealed ?? null);
      }
      return { next, applied, joinedAt };
    });
    if (joinedAt > 0) this.m.link.emit("room", id);
    // A change that does not apply yet builds on changes we lack: its sender has them, unless
    // they land meanwhile.
    if (!applied && change.body.v > next.state.version) {
      this.#later(`change|${change.hash}`, async () => {
        const log = await this.#log(id);
        if (!log || log.applied.has(change.hash) || change.body.v <= log.state.version) return;
        try {
          await this.#askSync(id, peer, log, false);
        } catch (e) {
          this.m.link.emit(
            "problem",
            `could not ask ${peer} for a room's state: ${(e as Error).message}`,
          );
        }
      });
    }
  }

  async #receiveKey(peer: string, id: string, dist: Uint8Array): Promise<void> {
    const log = await this.#log(id);
    if (!log?.state.members.has(peer)) return;
    const d = decodeDistribution(dist);
    await this.#retrying(`the sender key of ${peer}`, async () => {
      const was = this.store.memberKeySealed(id, peer);
      const held = was ? await this.store.openMemberKey(id, peer, was) : null;
      const record = (held ? SenderKeyRecord.deserialize(held) : SenderKeyRecord.empty)
        .withDistribution(d);
      const sealed = await this.store.sealMemberKey(id, peer, record.serializeUnsafe());
      this.m.store.transaction(() => {
        if (!sameBytes(this.store.memberKeySealed(id, peer), was)) throw new StepConflict();
        this.store.writeMemberKey(id, peer, toHex(d.distributionId), sealed);
      });
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Gaps: a member that holds another state than a peer, or lost a message, gets what it lacks

  /** Runs `fn` in the lane after SYNC_DELAY_MS, once per `key` while it waits. */
  #later(key: string, fn: () => Promise<void>): void {
    if (this.#stopped || this.#waiting.has(key)) return;
    if (this.#waiting.size >= this.maxRememberedSyncs) return;
    this.#waiting.set(
      key,
      this.clock.after(SYNC_DELAY_MS, () => {
        this.#waiting.delete(key);
        if (!this.#stopped) void this.m.run(fn).catch(() => {});
      }),
    );
  }

  /** How many gaps are remembered now (asked, offered, answered, and waiting), for tests. */
  get rememberedSyncs(): number {
    return this.#synced.size + this.#waiting.size;
  }

  /** Stops the timers of gaps not looked at yet (the client is closing). */
  stop(): void {
    this.#stopped = true;
    for (const cancel of this.#waiting.values()) cancel();
    this.#waiting.clear();
  }

  /**
   * A room message from `peer` carried `head` (null: it could not be read, or a pairwise message
   * was lost; `id` null: the room is not known from it). When the peer is ahead, or holds
   * another state at our version, we ask for their changes; when they are behind, or differ, we
   * send them ours. In the lane.
   */
  async #noticeGap(
    id: string | null,
    peer: string,
    head: RoomHead | null,
    key: boolean,
    now = false,
  ): Promise<void> {
    if (id && head && !now) {
      // A head we do not hold may only be a change still on its way: look again a little later.
      const log = await this.#log(id);
      if (!log || (head.v === log.state.version && head.h === (await log.head()))) return;
      this.#later(
        `gap|${id}|${peer}|${head.v}|${head.h}`,
        () => this.#noticeGap(id, peer, head, key, true),
      );
      return;
    }
    try {
      await this.#noticeGapIn(id ? [id] : this.store.roomIds(), peer, head, key);
    } catch (e) {
      // Asked again at the next sign of the gap; nothing here may stop a delivery's handling.
      this.m.link.emit(
        "problem",
        `could not ask ${peer} for a room's state: ${(e as Error).message}`,
      );
    }
  }

  async #noticeGapIn(
    ids: string[],
    peer: string,
    head: RoomHead | null,
    key: boolean,
  ): Promise<void> {
    for (const room of ids) {
      const log = await this.#log(room);
      if (!log || !log.state.members.has(this.#me) || !log.state.members.has(peer)) continue;
      const mine = log.state.version;
      if (head?.v === mine && head.h === (await log.head())) continue;
      // Behind or ahead, the changes from the lower version on make up the difference. At one
      // version with another head (or not knowing what was lost), the difference may be a
      // concurrent change further back: from as far back as a change is still taken in.
      const deep = Math.max(0, mine - MAX_CHANGE_LAG);
      if (head === null || head.v >= mine) {
        await this.#askSync(room, peer, log, key, head === null || head.v === mine ? deep : mine);
      }
      if (head !== null && head.v <= mine) {
        await this.#offer(room, peer, log, head.v === mine ? deep : head.v);
      }
    }
  }

  /**
   * Sends, for the gap named by `parts`, what was not sent for it in the last SYNC_REPEAT_MS:
   * the changes from `from` on below the lowest version already sent, and the key once. So a
   * burst of messages showing one gap sends one request, and a peer varying what it asks for
   * makes us send each change at most once a period. Remembered once sent (a failed send is
   * tried again at the next sign of the gap), at most `maxRememberedSyncs`, the oldest dropped.
   */
  async #once(
    parts: (string | number)[],
    from: number,
    key: boolean,
    send: (from: number, below: number, key: boolean) => Promise<void>,
  ): Promise<void> {
    const k = parts.join("|");
    const now = this.clock.now();
    from = Math.max(0, Math.floor(from));
    const held = this.#synced.get(k);
    const was = held && now - held.at < SYNC_REPEAT_MS ? held : null;
    const below = was ? was.from : Infinity;
    const sendKey = key && !was?.key;
    if (from >= below && !sendKey) return;
    await send(from, below, sendKey);
    this.#synced.delete(k);
    while (this.#synced.size >= this.maxRememberedSyncs) {
      this.#synced.delete(this.#synced.keys().next().value!);
    }
    this.#synced.set(k, {
      at: was?.at ?? now,
      from: Math.min(from, below),
      key: sendKey || (was?.key ?? false),
    });
    void this.flush().catch(() => {});
  }

  /** Asks `peer` for their changes from version `v` on (and their sender key). */
  async #askSync(
    id: string,
    peer: string,
    log: GroupLog,
    key: boolean,
    v = log.state.version,
  ): Promise<void> {
    await this.#once(
      ["ask", id, peer, await log.head()],
      v,
      key,
      // Asked from `v` on again when only the key is new: the answer skips what it sent already.
      (from, _below, key) =>
        this.m.sendControlInLane(peer, { t: "room_sync", room: id, v: Math.min(from, v), key }),
    );
  }

  /** Sends `peer` (a member) every change we hold from version `from` on. */
  async #offer(id: string, peer: string, log: GroupLog, from: number): Promise<void> {
    await this.#once(
      ["offer", id, peer, await log.head()],
      from,
      false,
      (from, below) => this.#sendChanges(peer, changesIn(log, from, below)),
    );
  }

  /** A member asked for our changes from `v` on, and with `key` for our current sender key. */
  async #answerSync(peer: string, id: string, v: number, key: boolean): Promise<void> {
    const log = await this.#log(id);
    // Only a member of the room as we hold it hears of it: a removed one learns nothing new.
    if (!log || !log.state.members.has(peer) || !log.state.members.has(this.#me)) return;
    if (!Number.isFinite(v)) return;
    await this.#once(["answer", id, peer, await log.head()], v, key, async (from, below, key) => {
      await this.#sendChanges(peer, changesIn(log, from, below));
      const sealed = key ? this.store.ownKeySealed(id) : null;
      if (sealed) {
        const own = await SenderKeyState.deserialize(await this.store.openOwnKey(id, sealed));
        await this.m.sendControlInLane(peer, {
          t: "sender_key",
          room: id,
          dist: own.distribution(),
        });
      }
    });
  }

  /** An admin's client admits a holder of the current invite code, with no person acting. */
  async #admit(peer: string, id: string, secret: Uint8Array): Promise<void> {
    const log = await this.#log(id);
    if (!log || !log.state.admins.has(this.#me) || log.state.members.has(peer)) return;
    if (!(await inviteMatches(log.state, secret))) {
      this.m.link.emit("problem", `${peer} asked to join with an invite code that is not valid`);
      return;
    }
    const c = await this.m.contact(peer);
    if (!c?.identity || c.pendingIdentity) return;
    await this.#change(id, [{
      a: "add",
      u: peer,
      id: identityField(IdentityPublic.restore(c.identity)),
    }]);
    void this.flush().catch(() => {});
  }
}

/** The log's changes of versions in [from, below). */
function changesIn(log: GroupLog, from: number, below: number): SignedChange[] {
  return log.changes.filter((c) => c.body.v >= from && c.body.v < below);
}

function isAction(c: Content): c is ActionContent {
  return c.t === "edit" || c.t === "delete" || c.t === "pin" || c.t === "react";
}

/** Both absent, or the same bytes. */
function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
