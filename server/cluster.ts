/**
 * A node among several: the notices it sends to the others over the bus, and what it does with
 * theirs. The database is the one source of truth; a notice only says where to look:
 *
 * - `q`: messages were queued for (or acknowledged by) these users. A node with one of them
 *   online reads its queue; every node adjusts its cached pending counts.
 * - `login`: a user logged in on that node; an older connection of theirs here is told to go.
 * - `hello`: after the bus comes back, the users online on that node and since when, so a
 *   takeover missed during the outage still happens (the newer login wins).
 * - `gone`: an account was deleted; its name leaves every node's cache.
 *
 * Failed logins need no notice: they are counted in the database, which every node reads.
 *
 * A notice the bus loses only delays: every CLUSTER_SWEEP_MS each node looks at the queues of
 * its connections anyway, and while the bus is down it does so every BUS_DOWN_POLL_MS and checks
 * for takeovers in the database (a login elsewhere rebinds the account's device).
 *
 * @module
 */

import type { HmacKey } from "../crypto/mod.ts";
import { type Bus, openBus } from "./bus/mod.ts";
import type { ClientConnection } from "./connection.ts";
import type { Logger } from "./log.ts";
import { MAX_NOTICE_SKEW_MS, NoticeSeal } from "./notice_seal.ts";
import type { Store } from "../sql/store.ts";

/** While the bus is down, each node reads its connections' queues this often. */
export const BUS_DOWN_POLL_MS = 1000;
/**
 * Even with the bus up, each node reads its connections' queues this often, for notices the bus
 * lost (`server run --sweep-seconds`; 0 turns it off).
 */
export const CLUSTER_SWEEP_MS = 10_000;
/** A bus still down this long after start is logged as down. */
export const BUS_START_GRACE_MS = 3000;
/** Two logins of one account closer than this are ordered by time and node id, not arrival. */
export const TAKEOVER_RACE_MS = 1000;
/** Users named in one notice at most (a notice stays well under the bus's size limit). */
export const MAX_USERS_PER_NOTICE = 2000;

/** What the cluster needs from the server it belongs to. */
export interface ClusterHost {
  readonly logger: Logger;
  readonly store: Store;
  /** The keystore's pepper, from which every node derives the same notice key. */
  readonly pepperKey: HmacKey;
  /** The connection logged in as `userId` here, if any. */
  online(userId: number): ClientConnection | undefined;
  /** Every logged-in connection here. */
  onlineConnections(): Iterable<ClientConnection>;
  /** Messages for `userId` were queued on another node. */
  pendingChanged(userId: number): void;
  /** The account named `name` was deleted on another node. */
  usernameGone(name: string): void;
  /** `c`'s account logged in on another node. */
  takenOver(c: ClientConnection): void;
}

/** Every notice names its node (`n`) and when it was sent (`ts`, ms since the epoch). */
type Notice =
  & { n: string; ts: number }
  & (
    | { t: "q"; u: number[]; c: number[] }
    | { t: "login"; u: number; at: number }
    | { t: "hello"; s: [number, number][] }
    | { t: "gone"; name: string }
  );

const isInt = (v: unknown): v is number => Number.isSafeInteger(v);
const isStr = (v: unknown): v is string => typeof v === "string" && v.length <= 256;

/** Reads a notice from the bus; null for anything malformed (ignored, never trusted). */
export function parseNotice(payload: Uint8Array): Notice | null {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(new TextDecoder().decode(payload));
  } catch {
    return null;
  }
  if (typeof v !== "object" || v === null || !isStr(v.n) || !isInt(v.ts)) return null;
  const ints = (a: unknown) =>
    Array.isArray(a) && a.length <= MAX_USERS_PER_NOTICE && a.every(isInt);
  switch (v.t) {
    case "q":
      return ints(v.u) && ints(v.c) && (v.u as number[]).length === (v.c as number[]).length
        ? v as Notice
        : null;
    case "login":
      return isInt(v.u) && isInt(v.at) ? v as Notice : null;
    case "hello":
      return Array.isArray(v.s) && v.s.length <= MAX_USERS_PER_NOTICE &&
          v.s.every((p) => Array.isArray(p) && p.length === 2 && isInt(p[0]) && isInt(p[1]))
        ? v as Notice
        : null;
    case "gone":
      return isStr(v.name) ? v as Notice : null;
    default:
      return null;
  }
}

/** True when login (at, node) is newer than (otherAt, otherNode): later wins, ties by node id. */
function newer(at: number, node: string, otherAt: number, otherNode: string): boolean {
  return at !== otherAt ? at > otherAt : node > otherNode;
}

/** This node's part in a cluster: its bus, its notices, its polling when the bus is down. */
export class Cluster {
  readonly nodeId = crypto.getRandomValues(new Uint8Array(6)).toHex();
  readonly #bus: Bus;
  readonly #host: ClusterHost;
  readonly #since = new WeakMap<ClientConnection, number>();
  #downLogged = false;
  #everUp = false;
  #polling: ReturnType<typeof setInterval> | null = null;
  #sweep: ReturnType<typeof setInterval> | undefined;
  #grace: ReturnType<typeof setTimeout>;
  #pollBusy = false;
  readonly #seal: Promise<NoticeSeal>;
  /** Notices go out, and are taken in, one at a time and in order (sealing is asynchronous). */
  #outbox: Promise<void> = Promise.resolve();
  #inbox: Promise<void> = Promise.resolve();
  #skewLogged = new Set<string>();

  constructor(busUrl: string, subject: string, host: ClusterHost, sweepMs = CLUSTER_SWEEP_MS) {
    this.#host = host;
    this.#seal = NoticeSeal.fromPepper(host.pepperKey);
    this.#bus = openBus(busUrl, subject, {
      message: (p) => this.#received(p),
      state: (up) => this.#state(up),
    });
    this.#startPolling();
    if (sweepMs > 0) this.#sweep = setInterval(() => this.#wakeAll(), sweepMs);
    this.#grace = setTimeout(() => {
      if (!this.#bus.up) this.#logDown();
    }, BUS_START_GRACE_MS);
  }

  /** The bus's address, for logs. */
  get busUrl(): string {
    return this.#bus.url;
  }

  /** True while the bus is up. */
  get busUp(): boolean {
    return this.#bus.up;
  }

  #publish(n: Record<string, unknown>): void {
    const body = new TextEncoder().encode(JSON.stringify({ ...n, n: this.nodeId, ts: Date.now() }));
    this.#outbox = this.#outbox.then(async () => {
      this.#bus.publish(await (await this.#seal).seal(body));
    }).catch((e) => this.#host.logger.info("bus publish failed", { error: String(e) }));
  }

  /** Messages were committed (count > 0) or acknowledged (< 0) here for these users. */
  queued(counts: Map<number, number>): void {
    if (counts.size === 0) return;
    const u = [...counts.keys()];
    for (let i = 0; i < u.length; i += MAX_USERS_PER_NOTICE) {
      const part = u.slice(i, i + MAX_USERS_PER_NOTICE);
      this.#publish({ t: "q", u: part, c: part.map((id) => counts.get(id)!) });
    }
  }

  /** `c` logged in here: older connections of the account elsewhere must go. */
  attached(c: ClientConnection): void {
    const at = Date.now();
    this.#since.set(c, at);
    this.#publish({ t: "login", u: c.user!.id, at });
  }

  /** An account was deleted here. */
  usernameGone(name: string): void {
    this.#publish({ t: "gone", name });
  }

  #received(payload: Uint8Array): void {
    this.#inbox = this.#inbox.then(async () => {
      const body = await (await this.#seal).open(payload);
      // Not sealed with this cluster's key: not from a node of this cluster. Dropped unread.
      const n = body && parseNotice(body);
      if (!n || n.n === this.nodeId) return;
      const skew = Date.now() - n.ts;
      if (Math.abs(skew) > MAX_NOTICE_SKEW_MS) {
        if (!this.#skewLogged.has(n.n)) {
          this.#skewLogged.add(n.n);
          this.#host.logger.info("bus notices dropped", {
            node: n.n,
            reason: `sent ${Math.round(skew / 1000)} s from this node's clock; check the clocks`,
          });
        }
        return;
      }
      this.#apply(n);
    }).catch((e) => this.#host.logger.info("bus notice failed", { error: String(e) }));
  }

  #apply(n: Notice): void {
    const h = this.#host;
    switch (n.t) {
      case "q":
        for (let i = 0; i < n.u.length; i++) {
          h.pendingChanged(n.u[i]!);
          if (n.c[i]! > 0) h.online(n.u[i]!)?.wake();
        }
        return;
      case "login": {
        const c = h.online(n.u);
        if (!c) return;
        const mine = this.#since.get(c) ?? 0;
        // Arrival order decides, unless both logins were moments apart: then clocks and node
        // ids do, which both nodes compare alike.
        if (Date.now() - mine > TAKEOVER_RACE_MS || newer(n.at, n.n, mine, this.nodeId)) {
          h.takenOver(c);
        }
        return;
      }
      case "hello":
        for (const [u, at] of n.s) {
          const c = h.online(u);
          if (c && newer(at, n.n, this.#since.get(c) ?? 0, this.nodeId)) h.takenOver(c);
        }
        return;
      case "gone":
        h.usernameGone(n.name);
        return;
    }
  }

  #state(up: boolean): void {
    if (!up) {
      this.#logDown();
      this.#startPolling();
      return;
    }
    clearTimeout(this.#grace);
    if (this.#polling) clearInterval(this.#polling);
    this.#polling = null;
    this.#host.logger.info(this.#downLogged ? "bus back" : "bus up", {
      bus: this.#bus.url,
      node: this.nodeId,
    });
    this.#downLogged = false;
    // Notices sent while the bus was down are lost: look at every queue once, and tell the
    // others who is online here so a takeover missed meanwhile still happens.
    const since: [number, number][] = [];
    for (const c of this.#host.onlineConnections()) {
      if (c.user) since.push([c.user.id, this.#since.get(c) ?? 0]);
    }
    for (let i = 0; i < since.length; i += MAX_USERS_PER_NOTICE) {
      this.#publish({ t: "hello", s: since.slice(i, i + MAX_USERS_PER_NOTICE) });
    }
    if (this.#everUp) this.#wakeAll();
    this.#everUp = true;
  }

  #logDown(): void {
    if (this.#downLogged) return;
    this.#downLogged = true;
    this.#host.logger.info("bus down", {
      bus: this.#bus.url,
      reason: this.#bus.lastError ?? "no answer yet",
      fallback: `polling the database every ${BUS_DOWN_POLL_MS / 1000} s`,
    });
  }

  #startPolling(): void {
    if (this.#polling) return;
    this.#polling = setInterval(() => void this.#poll(), BUS_DOWN_POLL_MS);
  }

  #wakeAll(): void {
    for (const c of this.#host.onlineConnections()) c.wake();
  }

  /** One round of polling while the bus is down: queues, and logins elsewhere. */
  async #poll(): Promise<void> {
    if (this.#pollBusy) return;
    this.#pollBusy = true;
    try {
      this.#wakeAll();
      for (const c of [...this.#host.onlineConnections()]) {
        const id = c.user?.id;
        if (id === undefined) continue;
        const bound = await this.#host.store.userByDevice(c.deviceKey).catch(() => undefined);
        // undefined: the database did not answer; try again next round.
        if (bound !== undefined && bound?.id !== id && c.user?.id === id) this.#host.takenOver(c);
      }
    } finally {
      this.#pollBusy = false;
    }
  }

  /** Stops polling and closes the bus. */
  async close(): Promise<void> {
    clearInterval(this.#sweep);
    clearTimeout(this.#grace);
    if (this.#polling) clearInterval(this.#polling);
    this.#polling = null;
    await this.#bus.close();
  }
}
