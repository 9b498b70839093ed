/**
 * Session steps that never reuse a message key, however many processes share the profile.
 *
 * `connect`, `send` and `receive` may run at once on one profile. Each step (encrypt one
 * message, decrypt one delivery) reads the contact's session record, computes the next one, and
 * commits it in one local transaction together with what depends on it (the outbox entry, the
 * stored message, the consumed prekeys). The transaction commits only if the record's version is
 * still the one the step started from (compare-and-swap under SQLite's write lock, BEGIN
 * IMMEDIATE); otherwise another process advanced the session, and the step runs again on the new
 * record. Nothing leaves the process before the commit: ciphertext reaches the server only from
 * the outbox.
 *
 * Records stay in memory between steps (their keys already imported); a cached record is used only
 * while its version matches the row's, a single indexed read.
 *
 * @module
 */

import { SessionRecord } from "../crypto/mod.ts";
import type { LocalStore } from "./local_store.ts";

/** Attempts at one step before giving up: each lost attempt means another process committed. */
export const MAX_SESSION_ATTEMPTS = 100;

/** Thrown inside a step's writes to say "someone else got there first: run the step again". */
export class StepConflict extends Error {
  override name = "StepConflict";
}

/** The outcome of one attempt at a step. */
export interface StepResult<T> {
  /** The record to store, or null to leave it as it is. */
  record: SessionRecord | null;
  /** Writes that commit with the record, inside its transaction (synchronous; may throw). */
  write?: () => void;
  result: T;
}

/** The session records of one account, cached and written by compare-and-swap. */
export class SessionLock {
  #cache = new Map<string, { version: number; record: SessionRecord }>();

  constructor(readonly store: LocalStore) {}

  /** The record as stored now (from the cache when its version is current). */
  async current(peer: string): Promise<{ version: number; record: SessionRecord }> {
    const version = this.store.sessionVersion(peer);
    const cached = this.#cache.get(peer);
    if (cached && cached.version === version) return cached;
    const row = await this.store.getSession(peer);
    const fresh = row
      ? { version: row.version, record: SessionRecord.deserialize(row.record) }
      : { version: 0, record: SessionRecord.empty() };
    this.#cache.set(peer, fresh);
    return fresh;
  }

  /**
   * Runs `step` on `peer`'s record and commits its result in one transaction, again on the newer
   * record whenever another writer committed first. `step` may run several times: it must not
   * send anything itself.
   */
  async run<T>(
    peer: string,
    step: (record: SessionRecord) => Promise<StepResult<T>>,
  ): Promise<T> {
    const s = this.store;
    for (let attempt = 1;; attempt++) {
      const { version, record } = await this.current(peer);
      const out = await step(record);
      const sealed = out.record ? await s.sealSession(peer, out.record.serialize()) : null;
      try {
        s.transaction(() => {
          const unchanged = sealed
            ? s.writeSession(peer, sealed, version)
            : s.sessionVersion(peer) === version;
          if (!unchanged) throw new StepConflict();
          out.write?.();
        });
      } catch (e) {
        if (!(e instanceof StepConflict)) throw e;
        this.#cache.delete(peer);
        if (attempt >= MAX_SESSION_ATTEMPTS) {
          throw new Error(`the session with ${peer} kept changing under this process`);
        }
        continue;
      }
      if (out.record) this.#cache.set(peer, { version: version + 1, record: out.record });
      return out.result;
    }
  }
}
