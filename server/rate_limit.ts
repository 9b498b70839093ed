/**
 * Rate limits: a token bucket per connection, and a failed-login tracker per account and per
 * address with a lockout that doubles.
 *
 * @module
 */

import {
  LOGIN_LOCKOUT_MS,
  LOGIN_WINDOW_MS,
  MAX_FAILED_LOGINS_PER_ACCOUNT,
  MAX_FAILED_LOGINS_PER_ADDRESS,
} from "../protocol/limits.ts";

/** A token bucket: `rate` tokens per second, at most `burst` saved up. */
export class TokenBucket {
  #tokens: number;
  #last: number;
  constructor(
    readonly rate: number,
    readonly burst: number,
    readonly now: () => number = performance.now.bind(performance),
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
    readonly maxKeys = MAX_TRACKED_LOGIN_KEYS,
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

interface Failures {
  count: number;
  first: number;
  lockedUntil: number;
  lockouts: number;
}

/** Tracked entries at most; the oldest are forgotten first so memory stays bounded. */
export const MAX_TRACKED_LOGIN_KEYS = 100_000;

/** Counts failed logins; `check` says whether another attempt may be made now. */
export class LoginThrottle {
  #accounts = new Map<string, Failures>();
  #addresses = new Map<string, Failures>();
  constructor(readonly now: () => number = Date.now) {}

  /** Milliseconds to wait before trying this account from this address, or 0. */
  check(account: string, address: string): number {
    const t = this.now();
    const a = this.#accounts.get(account);
    const b = this.#addresses.get(address);
    let wait = 0;
    if (a && a.lockedUntil > t) wait = a.lockedUntil - t;
    if (b && b.first + LOGIN_WINDOW_MS > t && b.count >= MAX_FAILED_LOGINS_PER_ADDRESS) {
      wait = Math.max(wait, b.first + LOGIN_WINDOW_MS - t);
    }
    return wait;
  }

  /** Records a failure; after MAX_FAILED_LOGINS_PER_ACCOUNT the account locks, doubling each time. */
  fail(account: string, address: string): void {
    const t = this.now();
    const a = this.#bump(this.#accounts, account, t);
    if (a.count >= MAX_FAILED_LOGINS_PER_ACCOUNT) {
      a.lockedUntil = t + LOGIN_LOCKOUT_MS * 2 ** Math.min(a.lockouts, 10);
      a.lockouts++;
      a.count = 0;
    }
    this.#bump(this.#addresses, address, t);
  }

  /** Forgets an account's failures after a successful login. */
  succeed(account: string): void {
    this.#accounts.delete(account);
  }

  #bump(map: Map<string, Failures>, key: string, t: number): Failures {
    let f = map.get(key);
    if (!f || (f.first + LOGIN_WINDOW_MS < t && f.lockedUntil < t)) {
      f = { count: 0, first: t, lockedUntil: f?.lockedUntil ?? 0, lockouts: f?.lockouts ?? 0 };
      map.delete(key);
      if (map.size >= MAX_TRACKED_LOGIN_KEYS) map.delete(map.keys().next().value!);
      map.set(key, f);
    }
    f.count++;
    return f;
  }
}
