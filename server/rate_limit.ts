/**
 * Rate limits: a token bucket per connection, a windowed counter (bundle fetches per requester),
 * and failed logins counted per address and per account from an address, in the database.
 *
 * @module
 */

import {
  LOGIN_LOCKOUT_MS,
  LOGIN_WINDOW_MS,
  MAX_FAILED_LOGINS_PER_ACCOUNT_ADDRESS,
  MAX_FAILED_LOGINS_PER_ADDRESS,
} from "../protocol/limits.ts";
import type { LoginFailures, Store } from "../sql/store.ts";

/** The default clock, one function shared by every bucket (a server makes one per connection). */
function monotonicNow(): number {
  return performance.now();
}

/** A token bucket: `rate` tokens per second, at most `burst` saved up. */
export class TokenBucket {
  #tokens: number;
  #last: number;
  constructor(
    readonly rate: number,
    readonly burst: number,
    readonly now: () => number = monotonicNow,
  ) {
    this.#tokens = burst;
    this.#last = now();
  }

  /** Takes one token; false when the bucket is empty. */
  take(): boolean {
    const t = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((t - this.#last) * this.rate) / 1000);
    this.#last = t;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** Keys a WindowCounter tracks at most; the oldest are forgotten first so memory stays bounded. */
export const MAX_TRACKED_KEYS = 100_000;

/**
 * Counts events per key in a fixed window that starts at a key's first event: `take` says
 * whether the key is still within `max` in its window. Bounded in memory: the oldest keys are
 * forgotten first.
 */
export class WindowCounter {
  #entries = new Map<string, { count: number; first: number }>();
  constructor(
    readonly max: number,
    readonly windowMs: number,
    readonly maxKeys = MAX_TRACKED_KEYS,
    readonly now: () => number = Date.now,
  ) {}

  /** Counts one event for `key`; false once more than `max` fell in its window. */
  take(key: string): boolean {
    const t = this.now();
    let e = this.#entries.get(key);
    if (!e || e.first + this.windowMs <= t) {
      e = { count: 0, first: t };
      this.#entries.delete(key);
      if (this.#entries.size >= this.maxKeys) {
        this.#entries.delete(this.#entries.keys().next().value!);
      }
      this.#entries.set(key, e);
    }
    e.count++;
    return e.count <= this.max;
  }
}

/** Failed logins between prunes of expired counters from the database. */
export const PRUNE_EVERY_FAILURES = 100;

/**
 * The address a login is counted under: an IPv4 address as it is, an IPv6 address by its /64
 * prefix (one subscriber usually holds a whole /64, so counting single addresses would give a
 * guesser 2^64 fresh tries), an IPv4-mapped IPv6 address as its IPv4 address.
 */
export function throttleAddress(host: string): string {
  const h = host.replace(/^\[|\]$/g, "").replace(/%.*$/, "").toLowerCase();
  if (!h.includes(":")) return h;
  const mapped = /^(?:0{0,4}:){0,5}:?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(h) ??
    /^::(\d+\.\d+\.\d+\.\d+)$/.exec(h);
  if (mapped) return mapped[1]!;
  const [head = "", tail = ""] = h.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = h.includes("::")
    ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right]
    : left;
  return groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":") + "::/64";
}

/**
 * Counts failed logins in the database, so every server node and every restart sees the same
 * counts. Two counters:
 *
 * - per account from one address: after MAX_FAILED_LOGINS_PER_ACCOUNT_ADDRESS failures that
 *   address is locked out of that account, for LOGIN_LOCKOUT_MS doubling each time;
 * - per address: MAX_FAILED_LOGINS_PER_ADDRESS failures in LOGIN_WINDOW_MS, over any accounts.
 *
 * Nothing is counted per account alone: a stranger's failures must not lock the owner out when
 * the owner logs in from elsewhere.
 */
export class LoginThrottle {
  #failures = 0;
  constructor(
    readonly store: Pick<
      Store,
      "loginFailures" | "putLoginFailures" | "deleteLoginFailures" | "pruneLoginFailures"
    >,
    readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds to wait before trying this account from this address, or 0. */
  async check(account: string, host: string): Promise<number> {
    const t = this.now();
    const address = throttleAddress(host);
    const [pair, addr] = await Promise.all([
      this.store.loginFailures(pairKey(account, address)),
      this.store.loginFailures(addressKey(address)),
    ]);
    let wait = 0;
    if (pair && pair.lockedUntil > t) wait = pair.lockedUntil - t;
    if (addr && addr.first + LOGIN_WINDOW_MS > t && addr.count >= MAX_FAILED_LOGINS_PER_ADDRESS) {
      wait = Math.max(wait, addr.first + LOGIN_WINDOW_MS - t);
    }
    return wait;
  }

  /** Records a failure of `account` from `host`. */
  async fail(account: string, host: string): Promise<void> {
    const t = this.now();
    const address = throttleAddress(host);
    const pk = pairKey(account, address);
    const pair = bump(await this.store.loginFailures(pk), t);
    if (pair.count >= MAX_FAILED_LOGINS_PER_ACCOUNT_ADDRESS) {
      pair.lockedUntil = t + LOGIN_LOCKOUT_MS * 2 ** Math.min(pair.lockouts, 10);
      pair.lockouts++;
      pair.count = 0;
    }
    const ak = addressKey(address);
    const addr = bump(await this.store.loginFailures(ak), t);
    await Promise.all([
      this.store.putLoginFailures(pk, pair),
      this.store.putLoginFailures(ak, addr),
    ]);
    if (++this.#failures % PRUNE_EVERY_FAILURES === 0) {
      await this.store.pruneLoginFailures(t - LOGIN_WINDOW_MS);
    }
  }

  /** Forgets the account's failures from this address after a successful login there. */
  async succeed(account: string, host: string): Promise<void> {
    await this.store.deleteLoginFailures(pairKey(account, throttleAddress(host)));
  }
}

function pairKey(account: string, address: string): string {
  return `p:${account.slice(0, 64)}@${address.slice(0, 64)}`;
}

function addressKey(address: string): string {
  return `a:${address.slice(0, 64)}`;
}

/** One more failure: a new window when the last one ended (a lock's history is kept). */
function bump(f: LoginFailures | null, t: number): LoginFailures {
  const next = !f || (f.first + LOGIN_WINDOW_MS < t && f.lockedUntil < t)
    ? { count: 0, first: t, lockedUntil: f?.lockedUntil ?? 0, lockouts: f?.lockouts ?? 0 }
    : { ...f };
  next.count++;
  return next;
}
