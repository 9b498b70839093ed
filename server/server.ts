/**
 * The running server: the listener and its limits, the handshake, the registry of logged-in
 * connections, the group committer, and a clean shutdown.
 *
 * @module
 */

import { AesGcmKey, HmacKey, utf8 } from "../crypto/mod.ts";
import { fingerprint } from "../protocol/fingerprint.ts";
import {
  BUNDLE_WINDOW_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_REQUEST_BURST,
  DEFAULT_REQUESTS_PER_SECOND,
  HANDSHAKE_TIMEOUT_MS,
  MAX_ONE_TIME_BUNDLES_PER_REQUESTER,
  MAX_PENDING_PER_USER,
  MAX_RECORD_BYTES_PRELOGIN,
  MAX_SIGNUPS_PER_ADDRESS,
  WRITE_STALL_TIMEOUT_MS,
} from "../protocol/limits.ts";
import { serverHandshake } from "../protocol/transport.ts";
import { canonicalUsername } from "../protocol/username.ts";
import type { NewQueued, Store } from "../sql/store.ts";
import { Cluster } from "./cluster.ts";
import { ClientConnection } from "./connection.ts";
import { GroupCommitter } from "./group_commit.ts";
import type { KeystoreSecrets } from "./keystore.ts";
import type { Logger } from "./log.ts";
import { LoginThrottle, WindowCounter } from "./rate_limit.ts";
import { HandshakeSlots } from "./handshake_slots.ts";
import { Registration, type RegistrationMode } from "./registration.ts";

/** Limits an operator can raise or lower. */
export interface ServerLimits {
  requestsPerSecond: number;
  requestBurst: number;
  maxConnections: number;
  /** Undelivered messages one user may have queued. */
  maxPendingPerUser: number;
  /** A connection that reads none of its pending replies for this long is closed. */
  writeStallMs: number;
  /** Sign-ups accepted from one address (IPv6: one /64) an hour. */
  signupsPerAddress: number;
}

/** The default limits. */
export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  requestsPerSecond: DEFAULT_REQUESTS_PER_SECOND,
  requestBurst: DEFAULT_REQUEST_BURST,
  maxConnections: DEFAULT_MAX_CONNECTIONS,
  maxPendingPerUser: MAX_PENDING_PER_USER,
  writeStallMs: WRITE_STALL_TIMEOUT_MS,
  signupsPerAddress: MAX_SIGNUPS_PER_ADDRESS,
});

/** Options of {@linkcode PesuchatServer.start}. */
export interface ServerOptions {
  store: Store;
  secrets: KeystoreSecrets;
  hostname: string;
  port: number;
  logger: Logger;
  limits?: Partial<ServerLimits>;
  version: string;
  /** Join a cluster: the bus URL and the subject this cluster's nodes share. */
  cluster?: { bus: string; subject: string; sweepMs?: number };
  /** Called last at shutdown (the node's lock on the database). */
  release?: () => Promise<void>;
  /** Who may sign up (default open). */
  registration?: RegistrationMode;
}

/** Usernames remembered for sends (name → id); bounded, oldest forgotten first. */
const MAX_CACHED_USERS = 100_000;
/** A connection's run handles its own errors; nothing is left to do with a rejection. */
function ignore(): void {}
/**
 * In a cluster, a cached pending count is read again from the database after this long: other
 * nodes' acknowledgements lower it without a notice.
 */
export const CLUSTER_PENDING_CACHE_MS = 5000;

/** A running pesuchat server. */
export class PesuchatServer {
  readonly store: Store;
  readonly logger: Logger;
  readonly limits: ServerLimits;
  readonly committer: GroupCommitter;
  readonly throttle: LoginThrottle;
  /** This node's part in a cluster, when it runs on a bus. */
  readonly cluster: Cluster | null;
  /** Bundles with one-time keys handed to each (requester, target) pair. */
  readonly bundleFetches = new WindowCounter(MAX_ONE_TIME_BUNDLES_PER_REQUESTER, BUNDLE_WINDOW_MS);
  readonly registration: Registration;
  readonly fingerprint: string;
  readonly hostname: string;
  readonly port: number;
  /** Seals profiles at rest. */
  readonly dataKey: AesGcmKey;
  /** Keys fake prelogin salts. */
  readonly pepperKey: HmacKey;

  readonly #secrets: KeystoreSecrets;
  readonly #listener: Deno.TcpListener;
  readonly #version: string;
  readonly #release: (() => Promise<void>) | undefined;
  #connections = new Set<ClientConnection>();
  #online = new Map<number, ClientConnection>();
  #userIds = new Map<string, number>();
  #pending = new Map<number, number>();
  #pendingRead = new Map<number, number>();
  #slots = new HandshakeSlots();
  #quiet = new Map<string, { count: number; logged: number }>();
  #open = 0;
  #stopping = false;
  #accepting: Promise<void>;

  private constructor(
    o: ServerOptions,
    listener: Deno.TcpListener,
    fp: string,
    dataKey: AesGcmKey,
    pepperKey: HmacKey,
  ) {
    this.store = o.store;
    // Failed logins are counted in the database, so every node of a cluster sees the same counts.
    this.throttle = new LoginThrottle(o.store);
    this.logger = o.logger;
    this.limits = { ...DEFAULT_LIMITS, ...o.limits };
    this.registration = new Registration(
      o.registration ?? "open",
      o.store,
      this.limits.signupsPerAddress,
    );
    this.#secrets = o.secrets;
    this.#listener = listener;
    this.#version = o.version;
    this.#release = o.release;
    this.fingerprint = fp;
    this.dataKey = dataKey;
    this.pepperKey = pepperKey;
    this.hostname = listener.addr.hostname;
    this.port = listener.addr.port;
    this.committer = new GroupCommitter(
      o.store,
      (items, qids) => this.#committed(items, qids),
      (e) => this.logger.info("delivery error", { error: (e as Error)?.message ?? String(e) }),
    );
    this.cluster = o.cluster
      ? new Cluster(o.cluster.bus, o.cluster.subject, {
        logger: this.logger,
        store: this.store,
        pepperKey: this.pepperKey,
        online: (id) => this.#online.get(id),
        onlineConnections: () => this.#online.values(),
        pendingChanged: (id) => this.#pendingForget(id),
        usernameGone: (name) => this.#forgetName(name),
        takenOver: (c) => this.#evict(c),
      }, o.cluster.sweepMs)
      : null;
    this.#accepting = this.#acceptLoop();
  }

  /** Listens and starts serving; the store must be migrated already. */
  static async start(o: ServerOptions): Promise<PesuchatServer> {
    const [fp, dataKey, pepperKey] = await Promise.all([
      fingerprint(o.secrets.serverKey.publicKey),
      AesGcmKey.import(o.secrets.dataKey),
      HmacKey.import(o.secrets.pepper),
    ]);
    const listener = Deno.listen({ hostname: o.hostname, port: o.port, transport: "tcp" });
    return new PesuchatServer(o, listener, fp, dataKey, pepperKey);
  }

  /** Bytes of replies and deliveries queued for clients and not yet written to their sockets. */
  get unsentBytes(): number {
    let n = 0;
    for (const c of this.#connections) n += c.channel.queuedBytes;
    return n;
  }

  /** Connections open now (handshaking or established). */
  get connectionCount(): number {
    return this.#open;
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (e) {
        if (this.#stopping) return;
        this.logger.info("accept failed", { error: (e as Error).message });
        // Out of file descriptors and the like: pause rather than spin.
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      void this.#serve(conn);
    }
  }

  /**
   * Logs an event that a flood could repeat thousands of times a second: at most one line a
   * second per event, with how many there have been.
   */
  quietLog(event: string, fields: Record<string, string | undefined>): void {
    const q = this.#quiet.get(event) ?? { count: 0, logged: 0 };
    q.count++;
    this.#quiet.set(event, q);
    const now = Date.now();
    if (now - q.logged >= 1000) {
      this.logger.info(event, { ...fields, total: q.count });
      q.logged = now;
    }
  }

  async #serve(conn: Deno.TcpConn): Promise<void> {
    const host = conn.remoteAddr.hostname;
    const addr = `${host}:${conn.remoteAddr.port}`;
    const abort = () => {
      try {
        conn.close();
      } catch {
        // closed already
      }
    };
    const slot = this.#open >= this.limits.maxConnections
      ? "max_connections"
      : this.#slots.take(host, abort);
    if (typeof slot === "string") {
      this.quietLog("connection refused", { addr, reason: slot });
      conn.close();
      return;
    }
    this.#open++;
    let handshaking = true;
    const handshakeDone = () => {
      handshaking = false;
      slot.release();
    };
    let timedOut = false;
    const timer = setTimeout(() => {
      if (handshaking) {
        timedOut = true;
        abort();
      }
    }, HANDSHAKE_TIMEOUT_MS);
    try {
      conn.setNoDelay(true);
      const channel = await serverHandshake(conn, {
        staticKey: this.#secrets.serverKey,
        payload: utf8(JSON.stringify({
          server: "pesuchat",
          version: this.#version,
          registration: this.registration.mode,
        })),
        maxRecordBytes: MAX_RECORD_BYTES_PRELOGIN,
      });
      handshakeDone();
      clearTimeout(timer);
      if (this.#stopping) {
        channel.close();
        this.#open--;
        return;
      }
      // From here the connection is its own: this function returns and nothing of the handshake
      // (its closures, the slot, the timer) stays with an idle connection. The connection's run
      // ends in close(), and forget() counts it out of #open.
      const client = new ClientConnection(this, channel, addr);
      this.#connections.add(client);
      client.run().catch(ignore);
    } catch (e) {
      const err = e as Error & { code?: string };
      if (slot.evicted) {
        this.quietLog("handshake evicted", { addr, reason: "max_handshakes" });
      } else if (timedOut) {
        // Closing the socket from the timer surfaces as an interrupted read (EINTR); say what it was.
        this.quietLog("handshake timed out", { addr, after_ms: String(HANDSHAKE_TIMEOUT_MS) });
      } else if (err.code === "closed") {
        // The client hung up mid-handshake: typically a person who declined the server's key at
        // the first-contact question. Nothing failed.
        this.quietLog("left during the handshake", { addr });
      } else {
        this.quietLog("handshake failed", { addr, reason: err.code ?? err.name });
      }
      abort();
      handshakeDone();
      clearTimeout(timer);
      this.#open--;
    }
  }

  /** Registers a logged-in connection; an older connection of the same user is told to go. */
  attach(c: ClientConnection): void {
    const id = c.user!.id;
    const old = this.#online.get(id);
    if (old && old !== c) this.#evict(old);
    this.#online.set(id, c);
    this.cluster?.attached(c);
  }

  /** Tells a connection its account logged in elsewhere, and forgets its login. */
  #evict(c: ClientConnection): void {
    if (c.user && this.#online.get(c.user.id) === c) this.#online.delete(c.user.id);
    c.user = null;
    c.bye("logged_in_elsewhere", "this account logged in on another connection");
  }

  /** Unregisters a connection's login. */
  detach(c: ClientConnection): void {
    if (c.user && this.#online.get(c.user.id) === c) this.#online.delete(c.user.id);
  }

  /** Forgets a closed connection. */
  forget(c: ClientConnection): void {
    if (c.user) this.detach(c);
    if (this.#connections.delete(c)) this.#open--;
  }

  /** The id of the user named `name`, from a bounded cache or the store; null if none. */
  async resolveUser(name: string): Promise<number | null> {
    const canonical = canonicalUsername(name);
    if (canonical === null) return null;
    const cached = this.#userIds.get(canonical);
    if (cached !== undefined) return cached;
    const user = await this.store.userByName(canonical);
    if (!user) return null;
    if (this.#userIds.size >= MAX_CACHED_USERS) {
      this.#userIds.delete(this.#userIds.keys().next().value!);
    }
    this.#userIds.set(canonical, user.id);
    return user.id;
  }

  /** Drops a deleted user from the caches, on every node. */
  forgetUsername(name: string): void {
    this.#forgetName(name);
    this.cluster?.usernameGone(name);
  }

  #forgetName(name: string): void {
    const id = this.#userIds.get(name);
    this.#userIds.delete(name);
    if (id !== undefined) this.#pending.delete(id);
  }

  /** How many messages wait for `userId` (counted once from the store, then kept up to date). */
  async pendingFor(userId: number): Promise<number> {
    let n = this.#pending.get(userId);
    const stale = this.cluster !== null &&
      Date.now() - (this.#pendingRead.get(userId) ?? 0) > CLUSTER_PENDING_CACHE_MS;
    if (n === undefined || stale) {
      n = await this.store.pendingCount(userId);
      this.#pending.set(userId, n);
      if (this.cluster) this.#pendingRead.set(userId, Date.now());
    }
    return n;
  }

  /**
   * Another node queued messages for `userId`: the cached count is read again from the database
   * at the next send. (Adding the notice's count instead would count twice the messages that a
   * read made before the notice arrived already saw.)
   */
  #pendingForget(userId: number): void {
    this.#pending.delete(userId);
  }

  /** Lowers a user's pending count after acknowledged deliveries. */
  delivered(userId: number, count: number): void {
    const n = this.#pending.get(userId);
    if (n !== undefined) this.#pending.set(userId, Math.max(0, n - count));
  }

  #committed(items: NewQueued[], qids: number[]): void {
    const elsewhere = this.cluster ? new Map<number, number>() : null;
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      const n = this.#pending.get(item.recipientId);
      if (n !== undefined) this.#pending.set(item.recipientId, n + 1);
      const c = this.#online.get(item.recipientId);
      c?.offer({ ...item, qid: qids[i]! });
      // Every node keeps pending counts, so every recipient is named, online here or not.
      elsewhere?.set(item.recipientId, (elsewhere.get(item.recipientId) ?? 0) + 1);
    }
    if (elsewhere) this.cluster!.queued(elsewhere);
  }

  /**
   * Stops accepting, tells every client the server is going away, lets queued commits finish and
   * closes the store. Resolves when all of that is done.
   */
  async shutdown(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#listener.close();
    await this.#accepting;
    // Sends already queued are committed and acknowledged before the connections close.
    await this.committer.close();
    await this.cluster?.close();
    for (const c of this.#connections) c.bye("shutdown", "the server is shutting down");
    await new Promise((r) => setTimeout(r, 50));
    for (const c of [...this.#connections]) c.close();
    await this.store.close();
    await this.#release?.();
  }
}
