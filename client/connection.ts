/**
 * The client's end of one connection: the handshake (with the server key check the caller
 * supplies), requests matched to their replies by id, deliveries handed to a callback, and a
 * reason when the connection ends. No terminal I/O.
 *
 * @module
 */

import type { X25519KeyPair } from "../crypto/mod.ts";
import { decodeServerMessage, encodeAck, encodeRequest, parseResult } from "../protocol/codec.ts";
import { ProtocolError, type ProtocolErrorCode } from "../protocol/errors.ts";
import { MAX_OUTSTANDING_REQUESTS, REQUEST_TIMEOUT_MS } from "../protocol/limits.ts";
import type { Deliver, RequestOf, RequestType, ResultOf } from "../protocol/messages.ts";
import type { ByteStream } from "../protocol/framing.ts";
import { clientHandshake, type SecureChannel } from "../protocol/transport.ts";

/** Time allowed to open the TCP connection and finish the handshake. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** A connection that has been silent this long is asked for a sign of life (a ping). */
export const KEEPALIVE_INTERVAL_MS = 5_000;
/**
 * A ping unanswered this long means the connection is dead (a hung server, a network path that
 * drops everything): it is closed, so the client reconnects and resends what waits.
 */
export const KEEPALIVE_TIMEOUT_MS = 10_000;

/** The server answered a request with an error. `code` is the wire code. */
export class ServerError extends Error {
  override name = "ServerError";
  constructor(readonly code: ProtocolErrorCode | string, message: string) {
    super(message);
  }
}

/** Why a connection ended. */
export interface CloseReason {
  /** "bye" codes from the server (shutdown, logged_in_elsewhere, …), or "closed" / a protocol code. */
  code: string;
  message: string;
}

interface Pending {
  type: RequestType;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  /** performance.now() after which the request has timed out. */
  deadline: number;
}

/** Options of {@linkcode ServerConnection.open}. */
export interface OpenOptions {
  staticKey: X25519KeyPair;
  /** Throw to refuse the server's key (unknown or changed); see known_hosts. */
  verifyServerKey?: (key: Uint8Array) => void | Promise<void>;
  onDeliver?: (d: Deliver) => void;
  onClose?: (reason: CloseReason) => void;
  timeoutMs?: number;
}

/** An open, encrypted connection to a pesuchat server. */
export class ServerConnection {
  readonly #channel: SecureChannel;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  #waiters: (() => void)[] = [];
  #closeReason: CloseReason | null = null;
  readonly #closed: Promise<CloseReason>;
  #lastHeard = Date.now();
  #probing = false;
  readonly #keepalive: ReturnType<typeof setInterval>;
  onDeliver: (d: Deliver) => void;
  onClose: (reason: CloseReason) => void;
  /** What the server said about itself in the handshake. */
  readonly serverInfo: { server?: string; version?: string; registration?: string };

  private constructor(
    channel: SecureChannel,
    serverInfo: { server?: string; version?: string },
    o: OpenOptions,
  ) {
    this.#channel = channel;
    this.serverInfo = serverInfo;
    this.onDeliver = o.onDeliver ?? (() => {});
    this.onClose = o.onClose ?? (() => {});
    this.#closed = this.#readLoop();
    this.#keepalive = setInterval(() => this.#probe(), KEEPALIVE_INTERVAL_MS);
  }

  /**
   * Fails the requests older than REQUEST_TIMEOUT_MS. Run from the keepalive timer rather than a
   * timer per request: requests wait in the order they were sent, so the oldest come first and
   * the scan stops at the first that is still in time; a timeout is noticed up to
   * KEEPALIVE_INTERVAL_MS late. A timer per request was a measurable share of a busy client's CPU.
   */
  #expire(): void {
    const now = performance.now();
    for (const [id, p] of this.#pending) {
      if (p.deadline > now) break;
      this.#pending.delete(id);
      this.#wakeOne();
      p.reject(
        new ServerError("timeout", `no answer to ${p.type} in ${REQUEST_TIMEOUT_MS / 1000} s`),
      );
    }
  }

  /** Pings a connection that has been silent; closes it when the ping goes unanswered. */
  #probe(): void {
    this.#expire();
    if (this.#closeReason || this.#probing) return;
    if (Date.now() - this.#lastHeard < KEEPALIVE_INTERVAL_MS) return;
    this.#probing = true;
    const dead = setTimeout(() =>
      this.#finish({
        code: "timeout",
        message: `the server did not answer for ${KEEPALIVE_TIMEOUT_MS / 1000} s`,
      }), KEEPALIVE_TIMEOUT_MS);
    this.request("ping", {}).catch(() => {}).finally(() => {
      clearTimeout(dead);
      this.#probing = false;
    });
  }

  /** Connects to `hostname:port` and runs the handshake. */
  static async open(hostname: string, port: number, o: OpenOptions): Promise<ServerConnection> {
    const timeout = o.timeoutMs ?? CONNECT_TIMEOUT_MS;
    let conn: Deno.TcpConn | null = null;
    let connectTimer: ReturnType<typeof setTimeout> | undefined;
    const silent = () =>
      new ProtocolError("timeout", `no answer from ${hostname}:${port} in ${timeout / 1000} s`);
    let timedOut = false;
    const timer = setTimeout(() => {
      // A port that accepts and never answers: the handshake's read is cut short here.
      timedOut = true;
      try {
        conn?.close();
      } catch {
        // closed already
      }
    }, timeout);
    try {
      conn = await Promise.race([
        Deno.connect({ hostname, port, transport: "tcp" }),
        new Promise<never>((_, reject) => {
          // Cleared below: a pending timer would keep a finished command alive until it fires.
          connectTimer = setTimeout(() => reject(silent()), timeout);
        }),
      ]);
      conn.setNoDelay(true);
      return await ServerConnection.over(conn, o);
    } catch (e) {
      try {
        conn?.close();
      } catch {
        // closed already
      }
      throw timedOut ? silent() : e;
    } finally {
      clearTimeout(timer);
      clearTimeout(connectTimer);
    }
  }

  /** Runs the handshake over a stream that is already connected (a TCP socket bound elsewhere). */
  static async over(stream: ByteStream, o: OpenOptions): Promise<ServerConnection> {
    const { channel, serverPayload } = await clientHandshake(stream, o);
    let info = {};
    try {
      info = JSON.parse(new TextDecoder().decode(serverPayload));
    } catch {
      // an unnamed server is still a server
    }
    return new ServerConnection(channel, info, o);
  }

  /** The server's static key, as verified during the handshake. */
  get serverKey(): Uint8Array {
    return this.#channel.remoteStaticKey;
  }

  /** True once the connection has ended. */
  get isClosed(): boolean {
    return this.#closeReason !== null;
  }

  /** Resolves with the reason once the connection has ended. */
  get closed(): Promise<CloseReason> {
    return this.#closed;
  }

  /** Sends a request and resolves with its validated result, or rejects with `ServerError`. */
  async request<T extends RequestType>(type: T, body: RequestOf<T>): Promise<ResultOf<T>> {
    while (this.#pending.size >= MAX_OUTSTANDING_REQUESTS && !this.#closeReason) {
      await new Promise<void>((r) => this.#waiters.push(r));
    }
    if (this.#closeReason) throw new ServerError(this.#closeReason.code, this.#closeReason.message);
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0xffffffff ? 1 : this.#nextId + 1;
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    try {
      this.#channel.send(encodeRequest(type, id, body));
    } catch (e) {
      // The channel closed before the read loop noticed: nothing was sent and nothing waits.
      throw e instanceof ProtocolError ? new ServerError(e.code, e.message) : e;
    }
    this.#pending.set(id, {
      type,
      resolve,
      reject,
      deadline: performance.now() + REQUEST_TIMEOUT_MS,
    });
    return promise as Promise<ResultOf<T>>;
  }

  /** Acknowledges stored deliveries so the server can delete them. */
  ack(qids: number[]): void {
    if (this.#closeReason || qids.length === 0) return;
    try {
      this.#channel.send(encodeAck(qids));
    } catch {
      // Closed meanwhile: the server keeps the messages and delivers them again.
    }
  }

  #wakeOne(): void {
    this.#waiters.shift()?.();
  }

  async #readLoop(): Promise<CloseReason> {
    let reason: CloseReason = { code: "closed", message: "the server closed the connection" };
    let said = false;
    try {
      for (;;) {
        const record = await this.#channel.receive();
        if (record === null) break;
        this.#lastHeard = Date.now();
        const m = decodeServerMessage(record);
        if (m.kind === "deliver") {
          this.onDeliver(m.deliver);
        } else if (m.kind === "bye") {
          reason = { code: m.code, message: m.message };
          said = true;
        } else if (m.re === undefined) {
          reason = {
            code: m.kind === "error" ? m.code : "closed",
            message: m.kind === "error" ? m.message : "",
          };
        } else {
          const p = this.#pending.get(m.re);
          if (!p) continue;
          this.#pending.delete(m.re);
          this.#wakeOne();
          if (m.kind === "error") p.reject(new ServerError(m.code, m.message));
          else {
            try {
              p.resolve(parseResult(p.type, m.raw));
            } catch (e) {
              p.reject(e);
            }
          }
        }
      }
    } catch (e) {
      // After a "bye" the server closes at once; a reset then is the close, not the reason.
      if (!said) {
        reason = e instanceof ProtocolError
          ? { code: e.code, message: e.message }
          : { code: "closed", message: (e as Error).message };
      }
    }
    this.#finish(reason);
    return reason;
  }

  #finish(reason: CloseReason): void {
    if (this.#closeReason) return;
    this.#closeReason = reason;
    clearInterval(this.#keepalive);
    this.#channel.close();
    for (const [, p] of this.#pending) {
      p.reject(new ServerError(reason.code, reason.message));
    }
    this.#pending.clear();
    for (const w of this.#waiters.splice(0)) w();
    this.onClose(reason);
  }

  /** Closes the connection; outstanding requests fail with "closed". */
  close(): void {
    this.#finish({ code: "closed", message: "closed by this client" });
  }
}
