/**
 * The logged-in half of the chat core: sessions with contacts, sending and receiving, receipts,
 * the outbox, contacts' identities and safety numbers. It holds the unlocked local store and
 * reaches the server only through the link the client gives it.
 *
 * Messages are exactly-once on screen: an incoming envelope is decrypted, stored with the new
 * session state in one local transaction, and only then acknowledged to the server; a
 * redelivered one is recognised by its id and acknowledged again without a second copy.
 * Outgoing envelopes wait in the outbox until the server has committed them.
 *
 * @module
 */

import {
  envelopeInitiation,
  formatSafetyNumber,
  type IdentityKeyPair,
  IdentityPublic,
  randomBytes,
  RecordOpenError,
  safetyNumber,
  Session,
  SessionRecord,
  sha256,
} from "../crypto/mod.ts";
import type { Deliver, RequestOf, RequestType, ResultOf } from "../protocol/messages.ts";
import { canonicalUsername } from "../protocol/username.ts";
import { ChatError, type ChatEvents, explainServer } from "./chat_types.ts";
import { ServerError } from "./connection.ts";
import {
  type ActionContent,
  type Content,
  decodeContent,
  encodeContent,
  MAX_RECEIPT_IDS,
  MAX_TEXT_CHARS,
  type RoomContent,
} from "./content.ts";
import {
  type Contact,
  type ConversationSummary,
  type LocalStore,
  MessageState,
  type StoredMessage,
} from "./local_store.ts";
import { ClientPrekeys } from "./prekeys.ts";
import { SessionLock, StepConflict, type StepResult } from "./session_lock.ts";

/** Delivery receipts wait this long to share one envelope. */
export const RECEIPT_DELAY_MS = 50;
/** What waits in the outbox is sent again this often until the server takes it. */
export const RESEND_INTERVAL_MS = 3_000;
/** A message the server has not taken after this long is shown as failed (and still resent). */
export const SEND_FAILED_AFTER_MS = 10_000;

/** What the messenger needs from the client around it. */
export interface MessengerLink {
  /** A request on the current connection; `ChatError("offline")` when there is none. */
  request<T extends RequestType>(type: T, body: RequestOf<T>): Promise<ResultOf<T>>;
  /** Acknowledges stored deliveries on the current connection. */
  ack(qids: number[]): void;
  isOnline(): boolean;
  emit<K extends keyof ChatEvents>(event: K, ...args: Parameters<ChatEvents[K]>): void;
  /** Something worth backing up changed. */
  changed(): void;
}

/** What rooms and message actions add to receiving (client/rooms_core.ts). In the lane. */
export interface RoomHooks {
  /** True for a room message (one ciphertext for every member), not a pairwise envelope. */
  isRoomBody(body: Uint8Array): boolean;
  /** Handles a room message, acknowledging it itself. */
  receiveRoom(d: Deliver): Promise<void>;
  /**
   * Prepares pairwise content other than text and receipts for the session's transaction: the
   * returned write stores it, so it is never lost between the session step and its handling.
   */
  stage(peer: string, content: ActionContent | RoomContent): Promise<() => void>;
  /** Handles the content staged so far, after the session's transaction. */
  drain(): Promise<void>;
  /** Notes a received text's reply, after it is stored. */
  replied(mid: Uint8Array, to: Uint8Array): Promise<void>;
}

/** One logged-in account's conversations. */
export class Messenger {
  /** Set by the rooms module once it is wired. */
  rooms: RoomHooks | null = null;
  readonly prekeys: ClientPrekeys;
  readonly sessions: SessionLock;
  /** Everything that touches sessions or the store runs through this lane, in order. */
  #lane: Promise<unknown> = Promise.resolve();
  #pendingReceipts = new Map<string, Uint8Array[]>();
  #receiptTimer: ReturnType<typeof setTimeout> | null = null;
  #checkedIdentities = new Set<string>();
  #flushing: Promise<void> | null = null;
  #flushAgain = false;
  #resendTimer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;

  constructor(
    readonly store: LocalStore,
    readonly identity: IdentityKeyPair,
    readonly username: string,
    readonly link: MessengerLink,
    now: () => number = Date.now,
  ) {
    this.prekeys = new ClientPrekeys(store, identity, now);
    this.sessions = new SessionLock(store);
  }

  /** Runs `fn` in the lane: after everything queued before it. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#lane.then(fn);
    this.#lane = p.catch(() => {});
    return p;
  }

  /** Work after every (re)connection: the outbox flushes and prekeys are topped up. */
  async afterConnect(): Promise<void> {
    try {
      await this.flushOutbox();
      await this.maintainPrekeys();
    } catch (e) {
      // A connection that ends meanwhile is no problem to report: the next one does this again.
      if (!offline(e)) this.link.emit("problem", `background work failed: ${(e as Error).message}`);
    }
  }

  /** Replenishes one-time prekeys and rotates the signed prekey when due. */
  async maintainPrekeys(): Promise<void> {
    const counts = await this.link.request("prekey_count", {});
    const more = await this.run(() => this.prekeys.replenish(counts));
    const rotated = await this.run(() => this.prekeys.rotateIfDue());
    if (more || rotated) {
      await this.link.request("prekeys_put", { ...more, ...rotated });
      this.link.changed();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Contacts, identities, safety numbers

  /** A user's public face on the server; throws `ChatError("no_such_user")`. */
  async lookup(username: string): Promise<{ username: string; fullName: string }> {
    const canonical = canonicalUsername(username);
    if (!canonical) {
      throw new ChatError("no_such_user", `there is no user ${JSON.stringify(username)}`);
    }
    const r = await explainServer(this.link.request("lookup", { username: canonical }));
    if (r.username !== canonical) {
      throw new ChatError(
        "bad_identity",
        `the server answered for ${r.username}, not ${canonical}`,
      );
    }
    // The server could hand out any bytes as the identity: only one whose Ed25519 key signed its
    // X25519 key is stored (a session would refuse it later anyway; a contact must not hold it).
    try {
      await IdentityPublic.decode(r.identity);
    } catch (e) {
      throw new ChatError(
        "bad_identity",
        `the server sent ${canonical}'s identity with a bad signature (${(e as Error).message}); ` +
          "it was not stored",
      );
    }
    await this.run(() => this.#noteIdentity(r.username, r.fullName, r.identity));
    return { username: r.username, fullName: r.fullName };
  }

  /** Checks a contact's identity with the server once per run (used when a chat is opened). */
  async checkContact(username: string): Promise<void> {
    if (this.#checkedIdentities.has(username) || !this.link.isOnline()) return;
    try {
      await this.lookup(username);
      this.#checkedIdentities.add(username);
    } catch (e) {
      if (e instanceof ChatError && e.code === "no_such_user") throw e;
    }
  }

  /** Records the identity a contact presents; a change from the accepted one is held for acknowledgement. */
  async #noteIdentity(
    username: string,
    fullName: string | null,
    identity: Uint8Array,
  ): Promise<Contact> {
    const s = this.store;
    const c = await s.getContact(username) ??
      {
        username,
        fullName: fullName ?? "",
        identity: null,
        verified: false,
        pendingIdentity: null,
      };
    // A name learnt late (a lookup after the first message) must reach lists already drawn.
    const renamed = !!fullName && c.fullName !== fullName;
    if (fullName) c.fullName = fullName;
    if (!c.identity) {
      c.identity = identity;
    } else if (
      !equalIdentity(c.identity, identity) &&
      !(c.pendingIdentity && equalIdentity(c.pendingIdentity, identity))
    ) {
      c.pendingIdentity = identity;
      c.verified = false;
      await s.putContact(c);
      // The old sessions belong to the old identity: the next send starts a new one.
      await this.sessions.run(
        username,
        (record) =>
          Promise.resolve({ record: record.isEmpty ? null : SessionRecord.empty(), result: null }),
      );
      this.link.emit("identityChanged", username);
      this.link.changed();
      return c;
    }
    await s.putContact(c);
    if (renamed) this.link.changed();
    return c;
  }

  /** A contact as stored. */
  contact(username: string): Promise<Contact | null> {
    return this.store.getContact(username);
  }

  /** Accepts a contact's new identity after the user saw the notice. */
  acceptIdentity(username: string): Promise<void> {
    return this.run(async () => {
      const c = await this.store.getContact(username);
      if (!c?.pendingIdentity) return;
      c.identity = c.pendingIdentity;
      c.pendingIdentity = null;
      c.verified = false;
      await this.store.putContact(c);
      this.link.changed();
    });
  }

  /**
   * Rejects a contact's new identity: the accepted one stays, the new one is dropped, and nothing
   * is sent to the new one. While the server keeps presenting it, sending stays blocked and the
   * change is announced again.
   */
  rejectIdentity(username: string): Promise<void> {
    return this.run(async () => {
      const c = await this.store.getContact(username);
      if (!c?.pendingIdentity) return;
      c.pendingIdentity = null;
      await this.store.putContact(c);
      // A session the new identity started stays in the record to read with, never to send
      // with: #sendContent starts a new one when the sendable session is not the accepted
      // identity's.
      this.link.changed();
    });
  }

  /** The 60-digit safety number with a contact, grouped in fives. */
  async safetyNumber(username: string): Promise<string> {
    const c = await this.store.getContact(username);
    const theirs = c?.pendingIdentity ?? c?.identity;
    if (!theirs) throw new ChatError("no_such_user", `no identity known for ${username} yet`);
    const digits = await safetyNumber(
      { identity: this.identity.publicIdentity, username: this.username },
      { identity: IdentityPublic.restore(theirs), username },
    );
    return formatSafetyNumber(digits);
  }

  /** Marks a contact verified (after comparing safety numbers). */
  markVerified(username: string, verified = true): Promise<void> {
    return this.run(async () => {
      const c = await this.store.getContact(username);
      if (!c) throw new ChatError("no_such_user", `no contact ${username}`);
      c.verified = verified;
      await this.store.putContact(c);
      this.link.changed();
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Conversations and sending

  /** The chat list. */
  conversations(): Promise<ConversationSummary[]> {
    return this.store.conversations();
  }

  /** Recent history with `peer`, oldest first. */
  history(peer: string, limit = 50): Promise<StoredMessage[]> {
    return this.store.history(peer, limit);
  }

  /** Marks `peer`'s messages read here and tells them (a read receipt). */
  markRead(peer: string): Promise<void> {
    return this.run(async () => {
      const mids = this.store.markSeen(peer);
      // Rooms (peer `#id`) have no read receipts.
      if (peer.startsWith("#")) return;
      for (let i = 0; i < mids.length; i += MAX_RECEIPT_IDS) {
        const chunk = mids.slice(i, i + MAX_RECEIPT_IDS);
        await this.#sendContent(peer, { t: "receipt", kind: "read", mids: chunk }, null);
      }
    }).then(() => this.flushOutbox()).catch((e) => {
      if (!(e instanceof ChatError && e.code === "offline")) throw e;
    });
  }

  /**
   * Sends content other than text (an action, a room change) to `peer` over the pairwise
   * session; resolves once it is in the outbox.
   */
  async sendControl(peer: string, content: ActionContent | RoomContent): Promise<void> {
    await this.run(async () => {
      if ((await this.store.getContact(peer))?.pendingIdentity) throw identityChanged(peer);
      await this.#sendContent(peer, content, null);
    });
    void this.flushOutbox().catch(() => {});
  }

  /** {@linkcode sendControl} for code already running in the lane. */
  async sendControlInLane(peer: string, content: ActionContent | RoomContent): Promise<void> {
    if ((await this.store.getContact(peer))?.pendingIdentity) throw identityChanged(peer);
    await this.#sendContent(peer, content, null);
  }

  /** True while envelopes wait in the outbox (room messages wait for them: keys go first). */
  hasOutbox(): boolean {
    return this.store.outboxCount() > 0;
  }

  /** Sends a text message. Resolves once it is stored locally (state pending or sent). */
  async send(peer: string, text: string, reply?: Uint8Array): Promise<StoredMessage> {
    const to = canonicalUsername(peer);
    if (!to) throw new ChatError("no_such_user", `there is no user ${JSON.stringify(peer)}`);
    // The server would queue it for our own device, which takes it as from a stranger.
    if (to === this.username) throw new ChatError("bad_input", "that is you; choose someone else");
    if (text.length === 0 || text.length > MAX_TEXT_CHARS) {
      throw new ChatError("bad_input", `a message has 1 to ${MAX_TEXT_CHARS} characters`);
    }
    const ts = Date.now();
    const message = await this.run(async () => {
      if ((await this.store.getContact(to))?.pendingIdentity) throw identityChanged(to);
      const m = await this.#sendContent(to, { t: "text", text, ts, reply }, text);
      if (reply) await this.rooms?.replied(m!.mid, reply);
      return m;
    });
    this.link.emit("message", message!);
    void this.flushOutbox().catch(() => {});
    return message!;
  }

  /**
   * Encrypts content for `peer`, stores it (and the message, for text) and queues it, all in the
   * session's one transaction. In the lane.
   */
  async #sendContent(
    peer: string,
    content: Content,
    text: string | null,
  ): Promise<StoredMessage | null> {
    const s = this.store;
    const mid = randomBytes(16);
    const stored: StoredMessage = {
      seq: 0,
      mid,
      peer,
      outgoing: true,
      ts: content.t === "text" ? content.ts : Date.now(),
      state: MessageState.pending,
      text: text ?? "",
    };
    const plaintext = encodeContent(content);
    // Nothing goes to an identity the user has not accepted: not a message, not a receipt (a
    // receipt for such a contact is dropped).
    const contact = await s.getContact(peer);
    if (contact?.pendingIdentity) {
      if (text === null) return null;
      throw identityChanged(peer);
    }
    try {
      await this.#encryptStep(peer, mid, stored, plaintext, text, contact?.identity ?? null);
    } catch (e) {
      if (text === null && e instanceof ChatError && e.code === "identity_changed") return null;
      throw e;
    }
    this.link.changed();
    return text === null ? null : stored;
  }

  /** One encryption in the session lock: from the record's session, or a new one to `accepted`. */
  async #encryptStep(
    peer: string,
    mid: Uint8Array,
    stored: StoredMessage,
    plaintext: Uint8Array,
    text: string | null,
    accepted: Uint8Array | null,
  ): Promise<void> {
    const s = this.store;
    await this.sessions.run(peer, async (record) => {
      let r = record;
      // A session the user never accepted (one a new identity started) is not sent on.
      const foreign = accepted !== null && r.sendable !== null &&
        !equalIdentity(r.sendable.remoteIdentity.encode(), accepted);
      if (!r.sendable || foreign) {
        // No session, or the last one was retired (restore, repair): a new PQXDH session.
        const b = await explainServer(this.link.request("bundle", { username: peer }));
        const session = await Session.initiate(this.identity, {
          identityKey: b.identity,
          signedPrekey: b.signedPrekey,
          oneTimePrekey: b.oneTimePrekey,
          kyberPrekey: b.kyberPrekey,
          kyberLastResort: b.kyberLastResort,
        });
        const contact = await this.#noteIdentity(peer, null, session.remoteIdentity.encode());
        if (contact.pendingIdentity) throw identityChanged(peer);
        r = r.promote(session);
      }
      const { envelope, record: next } = await r.encrypt(plaintext);
      const [sealedEnvelope, sealedText] = await Promise.all([
        s.sealEnvelope(mid, envelope),
        text === null ? null : s.sealText(mid, text),
      ]);
      return {
        record: next,
        write: () => {
          s.writeOutbox(mid, peer, sealedEnvelope);
          if (sealedText) s.insertMessage(stored, sealedText);
        },
        result: null,
      };
    });
  }

  /** Sends everything in the outbox, oldest first; stops quietly when offline. */
  flushOutbox(): Promise<void> {
    // A message queued while a flush runs may have missed its read of the outbox: note it, and
    // the running flush reads the outbox once more before it ends.
    this.#flushAgain = true;
    this.#flushing ??= this.#flush().finally(() => {
      this.#flushing = null;
    });
    return this.#flushing;
  }

  async #flush(): Promise<void> {
    const s = this.store;
    let waiting = 0;
    try {
      for (;;) {
        this.#flushAgain = false;
        const items = await s.outbox();
        waiting = items.length;
        if (items.length === 0) {
          if (this.#flushAgain) continue;
          return;
        }
        if (!this.link.isOnline()) {
          for (const it of items) this.#failIfOverdue(it, "not connected to the server");
          return;
        }
        const results = await Promise.allSettled(
          items.map((it) =>
            this.link.request("send", { to: it.peer, mid: it.mid, body: it.envelope })
          ),
        );
        const sent = new Map<string, Uint8Array[]>();
        let progress = false;
        for (let i = 0; i < items.length; i++) {
          const r = results[i]!;
          const it = items[i]!;
          if (r.status === "fulfilled") {
            s.transaction(() => {
              s.deleteOutbox(it.mid);
              s.raiseState([it.mid], MessageState.sent);
              s.clearFailure(it.mid);
            });
            sent.set(it.peer, [...(sent.get(it.peer) ?? []), it.mid]);
            progress = true;
            waiting--;
            continue;
          }
          const why = sendFailure(it.peer, r.reason);
          if (r.reason instanceof ServerError && PERMANENT_SEND_CODES.has(r.reason.code)) {
            // Refused for good: this envelope can never go; the text stays, marked failed.
            s.transaction(() => {
              s.deleteOutbox(it.mid);
              s.markFailed(it.mid, why);
            });
            this.link.emit("failed", it.peer, it.mid, why);
            progress = true;
            waiting--;
          } else {
            this.#failIfOverdue(it, why);
          }
        }
        for (const [peer, mids] of sent) this.link.emit("state", peer, mids, MessageState.sent);
        if (!progress && !this.#flushAgain) return;
      }
    } finally {
      // Whatever still waits goes again on a timer, with the same message id (the server keeps
      // one copy per id), not only when another message is sent or the connection comes back.
      if (waiting > 0) this.#scheduleResend();
    }
  }

  /** Shows a message that has waited too long as failed, with why; it stays in the outbox. */
  #failIfOverdue(it: { mid: Uint8Array; peer: string; createdAt: number }, why: string): void {
    if (Date.now() - it.createdAt < SEND_FAILED_AFTER_MS) return;
    if (this.store.markFailed(it.mid, why)) this.link.emit("failed", it.peer, it.mid, why);
  }

  #scheduleResend(): void {
    if (this.#stopped) return;
    this.#resendTimer ??= setTimeout(() => {
      this.#resendTimer = null;
      void this.flushOutbox().catch(() => {});
    }, RESEND_INTERVAL_MS);
  }

  /** Sends what waits in the outbox now (the user asked to retry). */
  retry(): Promise<void> {
    if (this.#resendTimer) clearTimeout(this.#resendTimer);
    this.#resendTimer = null;
    return this.flushOutbox();
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  /** Takes a delivery into the lane: decrypted, stored, then acknowledged. */
  deliver(d: Deliver): void {
    void this.run(() => this.#receive(d)).catch((e) =>
      this.link.emit("problem", (e as Error).message)
    );
  }

  async #receive(d: Deliver): Promise<void> {
    if (this.rooms?.isRoomBody(d.body)) return await this.rooms.receiveRoom(d);
    const peer = d.from;
    const r = await this.sessions.run(peer, (record) => this.#open(d, record));
    this.link.ack([d.qid]);
    if (r.kind === "known") return;
    this.link.changed();
    if (r.kind === "refused") {
      this.link.emit("notice", peer, r.why);
      return;
    }
    if (r.fresh) {
      const c = await this.#noteIdentity(peer, null, r.fresh.remoteIdentity.encode());
      if (!c.fullName) void this.lookup(peer).catch(() => {});
      if (r.replaced && !c.pendingIdentity) {
        this.link.emit(
          "notice",
          peer,
          `${peer} started a new session; their identity is unchanged`,
        );
      }
      void this.maintainPrekeys().catch(() => {});
    }
    const content = r.content;
    if (content === null) {
      this.link.emit("notice", peer, `a message from ${peer} was not understood`);
    } else if (content.t === "text") {
      const stored = r.stored!;
      if (content.reply) await this.rooms?.replied(d.mid, content.reply);
      this.link.emit("message", stored);
      // No delivery receipt to an identity the user has not accepted.
      if (!(await this.store.getContact(peer))?.pendingIdentity) this.#queueReceipt(peer, d.mid);
    } else if (content.t === "receipt") {
      const state = content.kind === "read" ? MessageState.read : MessageState.delivered;
      this.link.emit("state", peer, content.mids, state);
    } else {
      await this.rooms?.drain();
    }
  }

  /**
   * One attempt at opening a delivery against `record`: what to store with the new record, in
   * one transaction. A message no session can open is recorded as seen and its current session
   * given up, so the next send starts a new one (the repair); a repeated one changes nothing.
   */
  async #open(d: Deliver, record: SessionRecord): Promise<StepResult<Received>> {
    const s = this.store;
    const peer = d.from;
    if (s.hasMessage(d.mid) || s.wasSeen(d.mid)) return { record: null, result: { kind: "known" } };
    const refuse = (why: string, next: SessionRecord | null): StepResult<Received> => ({
      record: next,
      write: () => s.markSeenId(d.mid),
      result: { kind: "refused", why },
    });
    const undecryptable = (e: unknown) =>
      refuse(
        `a message from ${peer} could not be decrypted (${(e as Error).message}); ` +
          "your next message starts a new session",
        record.current && !record.retired ? record.retire() : null,
      );
    const repeated = refuse(`a repeated message from ${peer} was ignored`, null);
    // A first message the server sends again under a new id is byte for byte one read before:
    // refused as a repeat, with no repair (which would give up the live session).
    let start: { baseKey: Uint8Array; signedPrekeyId: number } | null = null;
    try {
      start = envelopeInitiation(d.body);
    } catch (e) {
      return undecryptable(e);
    }
    const digest = start ? await sha256(d.body) : null;
    if (digest && s.prekeyEnvelopeSeen(digest)) return repeated;
    const remember = () => {
      if (digest) s.rememberPrekeyEnvelope(digest, start!.signedPrekeyId);
    };
    let plaintext: Uint8Array;
    let next: SessionRecord;
    let fresh: Session | null = null;
    let write: () => void = remember;
    try {
      ({ plaintext, record: next } = await record.decrypt(d.body));
    } catch (e) {
      if (!(e instanceof RecordOpenError)) return undecryptable(e);
      if (e.reason === "duplicate") return repeated;
      if (e.reason === "undecryptable") return undecryptable(e);
      // A prekey envelope no session here started from: a new session, unless its base key
      // started one before (a replay of a message not seen yet, or one whose session is gone).
      const init = start!;
      if (s.baseKeySeen(init.baseKey)) return repeated;
      let r: Awaited<ReturnType<typeof Session.respond>>;
      try {
        r = await Session.respond(this.identity, this.prekeys, d.body);
      } catch (e) {
        return undecryptable(e);
      }
      plaintext = r.plaintext;
      fresh = r.session;
      const known = await this.store.getContact(peer);
      // A new identity's session starts the record afresh: the old sessions were someone else's.
      const sameIdentity = known?.identity &&
        equalIdentity(known.identity, r.session.remoteIdentity.encode());
      next = sameIdentity || !known?.identity
        ? record.promote(r.session)
        : SessionRecord.empty().promote(r.session);
      write = () => {
        // The base key and the one-time prekeys go in the transaction that stores the message:
        // never consumed without it, never replayable once it is stored.
        if (!s.rememberBaseKey(init.baseKey, init.signedPrekeyId)) throw new StepConflict();
        remember();
        this.prekeys.consume(r.consumed);
      };
    }
    const replaced = fresh !== null && record.current !== null;
    let content: Content | null;
    try {
      content = decodeContent(plaintext);
    } catch {
      content = null;
    }
    if (content === null) {
      return {
        record: next,
        write: () => (write(), s.markSeenId(d.mid)),
        result: { kind: "opened", content, stored: null, fresh, replaced },
      };
    }
    if (content.t === "text") {
      const stored: StoredMessage = {
        seq: 0,
        mid: d.mid,
        peer,
        outgoing: false,
        ts: d.ts,
        state: MessageState.received,
        text: content.text,
      };
      const sealedText = await s.sealText(d.mid, content.text);
      return {
        record: next,
        write: () => {
          write();
          s.insertMessage(stored, sealedText);
        },
        result: { kind: "opened", content, stored, fresh, replaced },
      };
    }
    if (content.t !== "receipt") {
      const stage = this.rooms ? await this.rooms.stage(peer, content) : () => {};
      return {
        record: next,
        write: () => (write(), stage(), s.markSeenId(d.mid)),
        result: { kind: "opened", content, stored: null, fresh, replaced },
      };
    }
    const state = content.kind === "read" ? MessageState.read : MessageState.delivered;
    const mids = content.mids;
    return {
      record: next,
      write: () => {
        write();
        s.raiseState(mids, state);
        s.markSeenId(d.mid);
      },
      result: { kind: "opened", content, stored: null, fresh, replaced },
    };
  }

  #queueReceipt(peer: string, mid: Uint8Array): void {
    const list = this.#pendingReceipts.get(peer) ?? [];
    list.push(mid);
    this.#pendingReceipts.set(peer, list);
    this.#receiptTimer ??= setTimeout(() => {
      this.#receiptTimer = null;
      const all = this.#pendingReceipts;
      this.#pendingReceipts = new Map();
      void this.run(async () => {
        for (const [p, mids] of all) {
          for (let i = 0; i < mids.length; i += MAX_RECEIPT_IDS) {
            const chunk = mids.slice(i, i + MAX_RECEIPT_IDS);
            await this.#sendContent(p, { t: "receipt", kind: "delivered", mids: chunk }, null);
          }
        }
      }).then(() => this.flushOutbox()).catch(() => {});
    }, RECEIPT_DELAY_MS);
  }

  /** Resolves when everything received so far has been processed (for scripts and tests). */
  async settle(): Promise<void> {
    await this.#lane;
    await this.#flushing;
  }

  /** Stops timers; the store is closed by the client. */
  stop(): void {
    this.#stopped = true;
    if (this.#resendTimer) clearTimeout(this.#resendTimer);
    this.#resendTimer = null;
    if (this.#receiptTimer) clearTimeout(this.#receiptTimer);
    this.#receiptTimer = null;
    this.#pendingReceipts.clear();
  }
}

/**
 * Send errors that mean this envelope can never go (the recipient is gone, the server refuses
 * its form or size). Anything else (a busy or unavailable server, a connection that ended for
 * whatever reason) is retried with the same envelope.
 */
const PERMANENT_SEND_CODES: ReadonlySet<string> = new Set([
  "no_such_user",
  "bad_message",
  "record_too_large",
  "frame_too_large",
  "unknown_type",
]);

/** Why a send failed, in words for the chat. */
function sendFailure(peer: string, e: unknown): string {
  const code = e instanceof ServerError || e instanceof ChatError ? e.code : "";
  switch (code) {
    case "unavailable":
      return "the server's database is unavailable";
    case "queue_full":
      return `${peer} has too many undelivered messages`;
    case "rate_limited":
    case "server_busy":
      return "the server is busy";
    case "timeout":
      return "the server did not answer";
    case "closed":
    case "offline":
    case "logged_in_elsewhere":
    case "shutdown":
      return "not connected to the server";
    case "no_such_user":
      return `${peer} no longer exists`;
    default:
      return `the server refused it (${(e as Error).message})`;
  }
}

/** True for the errors of a connection that is gone (this work is redone on the next one). */
function offline(e: unknown): boolean {
  return (e instanceof ChatError && e.code === "offline") ||
    (e instanceof ServerError && (e.code === "closed" || e.code === "timeout"));
}

/** What became of one delivery. */
type Received =
  | { kind: "known" }
  | { kind: "refused"; why: string }
  | {
    kind: "opened";
    /** Null when it decrypted but was not understood. */
    content: Content | null;
    stored: StoredMessage | null;
    /** The session the delivery started, if it started one. */
    fresh: Session | null;
    /** True when that new session replaced a current one. */
    replaced: boolean;
  };

function identityChanged(peer: string): ChatError {
  return new ChatError(
    "identity_changed",
    `${peer}'s identity changed; acknowledge it before sending`,
  );
}

function equalIdentity(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
