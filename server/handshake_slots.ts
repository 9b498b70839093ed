/**
 * Handshakes in progress, counted overall and per address. When every slot is taken, a newcomer
 * from an address holding fewer handshakes than the greediest one takes that address's oldest
 * slot: a flood from a few addresses then only crowds out itself, never everyone else.
 *
 * @module
 */

import { MAX_CONCURRENT_HANDSHAKES, MAX_HANDSHAKES_PER_ADDRESS } from "../protocol/limits.ts";

/** One handshake in progress. */
export class HandshakeSlot {
  #released = false;
  /** True when a newcomer took this slot; the handshake was aborted. */
  evicted = false;
  constructor(
    readonly host: string,
    readonly abort: () => void,
    readonly onRelease: (s: HandshakeSlot) => void,
  ) {}

  /** Gives the slot back (handshake finished or failed); idempotent. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.onRelease(this);
  }
}

/** Why no slot was given. */
export type SlotRefusal = "max_handshakes" | "max_handshakes_per_address";

/** The server's handshake slots. */
export class HandshakeSlots {
  #count = 0;
  /** Per address, its slots oldest first (a Set keeps insertion order). */
  #byHost = new Map<string, Set<HandshakeSlot>>();

  constructor(
    readonly max: number = MAX_CONCURRENT_HANDSHAKES,
    readonly perAddress: number = MAX_HANDSHAKES_PER_ADDRESS,
  ) {}

  /** Handshakes in progress. */
  get size(): number {
    return this.#count;
  }

  /** A slot for a handshake from `host`; `abort` ends that handshake if it is evicted. */
  take(host: string, abort: () => void): HandshakeSlot | SlotRefusal {
    const mine = this.#byHost.get(host)?.size ?? 0;
    if (mine >= this.perAddress) return "max_handshakes_per_address";
    if (this.#count >= this.max && !this.#evictFor(mine)) return "max_handshakes";
    const slot = new HandshakeSlot(host, abort, (s) => this.#release(s));
    let set = this.#byHost.get(host);
    if (!set) this.#byHost.set(host, set = new Set());
    set.add(slot);
    this.#count++;
    return slot;
  }

  /** Frees the oldest slot of the address holding the most, if it holds more than `mine` + 1. */
  #evictFor(mine: number): boolean {
    let greediest: Set<HandshakeSlot> | null = null;
    for (const set of this.#byHost.values()) {
      if (!greediest || set.size > greediest.size) greediest = set;
    }
    // +1: taking one from an address that would then hold as many as the newcomer is no fairer.
    if (!greediest || greediest.size <= mine + 1) return false;
    const oldest = greediest.values().next().value!;
    oldest.evicted = true;
    oldest.release();
    oldest.abort();
    return true;
  }

  #release(s: HandshakeSlot): void {
    const set = this.#byHost.get(s.host);
    if (!set?.delete(s)) return;
    if (set.size === 0) this.#byHost.delete(s.host);
    this.#count--;
  }
}
