/**
 * One client connection after its handshake: reads requests in order, answers each, and pushes
 * the user's queued messages with a bounded number unacknowledged at a time.
 *
 * A malformed record closes this connection only; the server goes on serving everyone else.
 *
 * @module
 */

import {
  decodeClientMessage,
  encodeDeliver,
  encodeError,
  encodeMessage,
  encodeOk,
  encodeSendOk,
  RequestError,
} from "../protocol/codec.ts";
import { ProtocolError, type ProtocolErrorCode } from "../protocol/errors.ts";
import {
  LOGIN_TIMEOUT_MS,
  MAX_RECORD_BYTES,
  MAX_REQUESTS_IN_FLIGHT,
  MAX_UNACKED_DELIVERIES,
  MAX_UNSENT_BYTES,
  PAUSE_READING_BYTES,
} from "../protocol/limits.ts";
import { PRELOGIN_REQUESTS, type RequestOf, type RequestType } from "../protocol/messages.ts";
import type { SecureChannel } from "../protocol/transport.ts";
import { StoreError } from "../sql/store.ts";
import type { QueuedMessage } from "../sql/store.ts";
import { TokenBucket } from "./rate_limit.ts";
import type { PesuchatServer } from "./server.ts";
import { handlers } from "./handlers.ts";

/** Messages fetched from the queue per read while draining a backlog. */
export const DRAIN_PAGE = 500;
/** What a client is told when the database fails its request. */
export const DATABASE_UNAVAILABLE = "the server's database is unavailable, try again";
/** Longest wait for replies already due before a broken connection is closed. */
const SETTLE_BEFORE_CLOSE_MS = 5_000;

/** The logged-in user of a connection. */
export interface SessionUser {
  id: number;
  username: string;
}

/** A connection's state as handlers see it. */
export class ClientConnection {
  user: SessionUser | null = null;
  readonly bucket: TokenBucket;
  #unacked = new Set<number>();
  #cursor = 0;
  #backlog = false;
  #draining = false;
  #offeredWhileDraining = false;
  #sendChain: Promise<void> = Promise.resolve();
  #inFlight = new Set<Promise<void>>();
  #due = new Set<Promise<void>>();
  #loginTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly server: PesuchatServer,
    readonly channel: SecureChannel,
    readonly address: string,
  ) {
    this.bucket = new TokenBucket(server.limits.requestsPerSecond, server.limits.requestBurst);
    channel.maxUnsentBytes = MAX_UNSENT_BYTES;
    this.#loginTimer = setTimeout(() => {
      if (!this.user) this.bye("timeout", "no login within the time allowed");
    }, LOGIN_TIMEOUT_MS);
  }

  /** The client's Noise static key: its device key. */
  get deviceKey(): Uint8Array {
    return this.channel.remoteStaticKey;
  }

  /** Reads and handles records until the peer leaves or breaks the protocol. */
  async run(): Promise<void> {
    try {
      for (;;) {
        await this.#roomToRead();
        const record = await this.channel.receive();
        if (record === null) break;
        if (!this.#handleRecord(record)) {
          // A broken client: replies already due and the error go out, nothing more is read.
          await this.#settle();
          await this.channel.end();
          break;
        }
      }
    } catch (e) {
      const code = e instanceof ProtocolError ? e.code : "internal";
      this.server.quietLog("connection closed", {
        addr: this.address,
        user: this.user?.username,
        reason: code,
      });
      if (e instanceof ProtocolError && !this.channel.closed) {
        // Reading stopped (a frame that failed authentication, a record over the limit) but the
        // way back is intact: finish what was asked before, then say why, then close.
        await this.#settle();
        this.#reply(undefined, e.code, e.message);
        await this.channel.end();
      }
    } finally {
      this.close();
    }
  }

  /**
   * Waits while this connection has as many requests in hand as it may, or more replies unread
   * than PAUSE_READING_BYTES: a client that does not read its replies is not read either, so it
   * cannot make the server queue without bound.
   */
  async #roomToRead(): Promise<void> {
    while (this.#inFlight.size >= MAX_REQUESTS_IN_FLIGHT) await Promise.race(this.#inFlight);
    await this.channel.room(PAUSE_READING_BYTES, this.server.limits.writeStallMs);
  }

  /** Waits (bounded) for replies already due: requests in hand and sends awaiting commit. */
  async #settle(): Promise<void> {
    const all = Promise.allSettled([...this.#inFlight, this.#sendChain, ...this.#due]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([all, new Promise((r) => timer = setTimeout(r, SETTLE_BEFORE_CLOSE_MS))]);
    clearTimeout(timer);
  }

  /** Remembers a reply that will be sent later (a send's, after its commit) until it is sent. */
  due(p: Promise<unknown>): void {
    const settled = p.then(() => {}, () => {}).finally(() => this.#due.delete(settled));
    this.#due.add(settled);
  }

  /** Handles one record; false when the connection must end after the reply to it. */
  #handleRecord(record: Uint8Array): boolean {
    let msg;
    try {
      msg = decodeClientMessage(record);
    } catch (e) {
      // The record was authenticated by the transport, so the stream itself is intact: answer
      // with the error, then close, because a client that sends malformed messages is broken.
      const err = e as ProtocolError;
      const re = e instanceof RequestError ? e.requestId : undefined;
      if (err.code === "unknown_type") {
        // A newer client probing an older server: say so and carry on.
        if (!this.bucket.take()) this.#reply(re, "rate_limited", "too many requests; slow down");
        else this.#reply(re, err.code, err.message);
        return true;
      }
      this.#reply(re, err.code, err.message);
      this.server.quietLog("bad message", {
        addr: this.address,
        user: this.user?.username,
        code: err.code,
      });
      return false;
    }
    if (msg.kind === "ack") {
      // Acks of what this connection delivered are never throttled (dropping one would mean a
      // redelivery); acks naming anything else cost a request like any other.
      if (this.user && (msg.ack.qids.every((q) => this.#unacked.has(q)) || this.bucket.take())) {
        this.#acked(msg.ack.qids);
      }
      return true;
    }
    if (!this.bucket.take()) {
      this.#reply(msg.id, "rate_limited", "too many requests; slow down");
      return true;
    }
    const { type, id, body } = msg;
    if (!this.user && !PRELOGIN_REQUESTS.has(type)) {
      this.#reply(id, "not_allowed", `${type} needs a login first`);
      return true;
    }
    if (type === "send" || type === "send_room") {
      // Sends are chained so that a sender's messages are queued in the order they were sent,
      // even when resolving a recipient waits on the database. The chain does not wait for the
      // commit itself, so many sends share one.
      this.#sendChain = this.#sendChain.then(() => this.#dispatch(type, id, body));
      return true;
    }
    const p: Promise<void> = this.#dispatch(type, id, body).finally(() => this.#inFlight.delete(p));
    this.#inFlight.add(p);
    return true;
  }

  async #dispatch(type: RequestType, id: number, body: RequestOf<RequestType>): Promise<void> {
    try {
      const handler = handlers[type] as (
        c: ClientConnection,
        b: typeof body,
        id: number,
      ) => Promise<Record<string, unknown> | null>;
      const result = await handler(this, body, id);
      if (result !== null && !this.channel.closed) this.channel.send(encodeOk(id, result));
    } catch (e) {
      this.#replyError(id, e);
    }
  }

  /** Answers request `id` with the error `e`, logging faults that are the server's. */
  #replyError(id: number, e: unknown): void {
    if (e instanceof ProtocolError) return this.#reply(id, e.code, e.message);
    if (e instanceof StoreError) {
      // Whatever the database's trouble (gone, full, damaged), the client can only wait and
      // retry; the details are for the operator's log.
      this.server.logger.info("database error", { code: e.code, error: e.message });
      return this.#reply(id, "unavailable", DATABASE_UNAVAILABLE);
    }
    this.server.logger.info("internal error", {
      addr: this.address,
      error: (e as Error)?.message ?? String(e),
    });
    this.#reply(id, "internal", "the server failed to handle this request");
  }

  #reply(id: number | undefined, code: ProtocolErrorCode, message: string): void {
    if (!this.channel.closed) this.channel.send(encodeError(id, code, message));
  }

  /** Sends a reply from outside the request path (the relay answers sends after commit). */
  sendOk(id: number, result: Record<string, unknown>): void {
    if (!this.channel.closed) this.channel.send(encodeOk(id, result));
  }

  /** The reply to a send, after its commit. */
  sendSendOk(id: number, qid: number, ts: number): void {
    if (!this.channel.closed) this.channel.send(encodeSendOk(id, qid, ts));
  }

  /** Sends an error reply from outside the request path. */
  sendError(id: number, e: unknown): void {
    this.#replyError(id, e);
  }

  /** Marks the connection logged in and starts delivering the user's queue. */
  loggedIn(user: SessionUser): void {
    this.user = user;
    clearTimeout(this.#loginTimer);
    // Dropped, not only cleared: the timer and its closure would stay for the connection's life.
    this.#loginTimer = undefined;
    this.channel.maxRecordBytes = MAX_RECORD_BYTES;
    this.server.attach(this);
    this.#unacked.clear();
    this.#cursor = 0;
    this.#backlog = true;
    void this.#drain();
  }

  /** Forgets the login (logout, account deleted); the connection stays open. */
  loggedOut(): void {
    if (this.user) this.server.detach(this);
    this.user = null;
    this.#backlog = false;
    this.#unacked.clear();
  }

  /** A message was committed for this connection's user; push it now if the window allows. */
  offer(m: QueuedMessage): void {
    if (!this.user || this.channel.closed) return;
    if (
      this.#backlog || this.#unacked.size >= MAX_UNACKED_DELIVERIES ||
      this.channel.queuedBytes > PAUSE_READING_BYTES
    ) {
      // Left in the queue; the drain picks it up once the window and the socket have room.
      this.wake();
      return;
    }
    this.#push(m);
  }

  /** The user may have messages in the database that this connection has not pushed. */
  wake(): void {
    if (!this.user) return;
    this.#backlog = true;
    if (this.#draining) this.#offeredWhileDraining = true;
    else void this.#drain();
  }

  #push(m: QueuedMessage): void {
    if (m.qid <= this.#cursor) return;
    this.#cursor = m.qid;
    this.#unacked.add(m.qid);
    this.channel.send(
      encodeDeliver({ qid: m.qid, from: m.senderName, mid: m.mid, ts: m.sentAt, body: m.body }),
    );
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#backlog && this.user && !this.channel.closed) {
        const room = MAX_UNACKED_DELIVERIES - this.#unacked.size;
        if (room <= 0) return;
        await this.channel.room(PAUSE_READING_BYTES, this.server.limits.writeStallMs);
        if (!this.user || this.channel.closed) return;
        this.#offeredWhileDraining = false;
        const rows = await this.server.store.pending(
          this.user.id,
          this.#cursor,
          Math.min(room, DRAIN_PAGE),
        );
        for (const m of rows) this.#push(m);
        if (rows.length < Math.min(room, DRAIN_PAGE) && !this.#offeredWhileDraining) {
          this.#backlog = false;
        }
      }
    } catch (e) {
      this.server.logger.info("database error", { during: "drain", error: (e as Error).message });
      // Try again on the next ack or offer.
    } finally {
      this.#draining = false;
    }
  }

  #acked(qids: number[]): void {
    const user = this.user!;
    let known = 0;
    for (const q of qids) if (this.#unacked.delete(q)) known++;
    this.server.delivered(user.id, known);
    this.server.committer.ack(user.id, qids);
    if (this.#backlog) void this.#drain();
  }

  /** Tells the client why it is being disconnected, then closes. */
  bye(code: string, message: string): void {
    if (this.channel.closed) return;
    try {
      this.channel.send(encodeMessage({ t: "bye", code, message }));
    } catch {
      // closed meanwhile
    }
    void this.channel.end().then(() => this.close());
  }

  /** Closes the connection and forgets it. */
  close(): void {
    clearTimeout(this.#loginTimer);
    this.channel.close();
    if (this.user) this.server.detach(this);
    this.server.forget(this);
  }
}
