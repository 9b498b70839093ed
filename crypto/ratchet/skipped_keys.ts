/**
 * The store of skipped message keys: keys derived for messages that have not arrived yet (sent
 * out of order, or lost), so they can still be read when they come.
 *
 * Every kept key is a key an attacker who later steals the state could use, so the store is
 * bounded twice: at most {@linkcode MAX_SKIPPED_KEYS} keys (the oldest evicted first), and a key
 * lives {@linkcode SKIPPED_KEY_MAX_STEPS} DH ratchet steps after it was stored. A used key is
 * removed at once.
 *
 * @module
 */

import { equalBytes } from "../bytes.ts";
import type { MessageKey } from "./message_key.ts";

const INSPECT = Symbol.for("Deno.customInspect");

/** Most skipped keys kept across all chains; beyond it the oldest are evicted. */
export const MAX_SKIPPED_KEYS = 1000;

/**
 * DH ratchet steps a skipped key survives: stored at step s, it is kept while the state's step
 * count is at most s + SKIPPED_KEY_MAX_STEPS. A message that late is treated as lost.
 */
export const SKIPPED_KEY_MAX_STEPS = 10;

/** One stored key. */
export interface SkippedKey {
  /** The peer's ratchet key of the chain the key belongs to. */
  ratchetKey: Uint8Array;
  key: MessageKey;
  /** The state's DH ratchet step count when the key was stored. */
  step: number;
}

/** An immutable store of skipped keys, oldest first. */
export class SkippedKeys {
  /** The empty store. */
  static readonly empty: SkippedKeys = new SkippedKeys([]);

  private constructor(readonly entries: readonly SkippedKey[]) {}

  /** Rebuilds a stored list, keeping the newest MAX_SKIPPED_KEYS. */
  static restore(entries: readonly SkippedKey[]): SkippedKeys {
    return new SkippedKeys(entries.slice(-MAX_SKIPPED_KEYS));
  }

  /** Number of keys held. */
  get size(): number {
    return this.entries.length;
  }

  /** The key for message `index` of the chain under `ratchetKey`, if held. */
  find(ratchetKey: Uint8Array, index: number): MessageKey | null {
    for (const e of this.entries) {
      if (e.key.index === index && equalBytes(e.ratchetKey, ratchetKey)) return e.key;
    }
    return null;
  }

  /** The store without that key (after it opened its message). */
  remove(ratchetKey: Uint8Array, index: number): SkippedKeys {
    return new SkippedKeys(
      this.entries.filter((e) => !(e.key.index === index && equalBytes(e.ratchetKey, ratchetKey))),
    );
  }

  /** The store with `keys` added at `step`, evicting the oldest beyond MAX_SKIPPED_KEYS. */
  add(ratchetKey: Uint8Array, keys: readonly MessageKey[], step: number): SkippedKeys {
    if (keys.length === 0) return this;
    const added = keys.map((key) => ({ ratchetKey, key, step }));
    return new SkippedKeys([...this.entries, ...added].slice(-MAX_SKIPPED_KEYS));
  }

  /** The store without keys older than SKIPPED_KEY_MAX_STEPS steps at step count `step`. */
  expire(step: number): SkippedKeys {
    const kept = this.entries.filter((e) => step - e.step <= SKIPPED_KEY_MAX_STEPS);
    return kept.length === this.entries.length ? this : new SkippedKeys(kept);
  }

  [INSPECT](): string {
    return `SkippedKeys { size: ${this.size}, keys: [redacted] }`;
  }
  toJSON(): unknown {
    return { size: this.size, keys: "[redacted]" };
  }
}
