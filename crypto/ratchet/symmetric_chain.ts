/**
 * A symmetric-key chain (sending or receiving) with its next message keys derived ahead.
 *
 * Every Web Crypto call costs a roughly fixed toll, and a message needs three in a row: KDF_CK
 * (HMAC), the message key's HKDF, then AES-GCM. The chain keeps the next message key derived
 * ("material") and the one after it as a seed, so using a key overlaps the three stages of three
 * consecutive messages: seal or open message n ∥ HKDF for n+1 ∥ KDF_CK for n+2.
 *
 * Why this costs no forward secrecy: everything held (the keys for n and n+1 and the chain key
 * for n+2) is derivable from chain key n, which the specification's state holds at the same
 * moment anyway; a used key leaves the state exactly as in the specification.
 *
 * Version 2 needs no prefetch: one chain derivation yields a batch of message keys
 * (crypto/ratchet/chain_key.ts), kept ahead of the head until used, and the root KDF yields a new
 * chain's first key. The same argument holds: the keys held are what the chain key they came from
 * would derive.
 *
 * @module
 */

import { CHAIN_BATCH_KEYS, ChainKey, MAX_CHAIN_INDEX } from "./chain_key.ts";
import type { MessageKey } from "./message_key.ts";

const INSPECT = Symbol.for("Deno.customInspect");

/** How many message keys a chain keeps derived ahead of its next index. */
export const PREFETCH_KEYS = 2;

/** What {@linkcode SymmetricChain.seek} found. */
export interface SeekResult {
  /** The key for the index sought, in derived form. */
  key: MessageKey;
  /** Keys passed over on the way, oldest first (for the skipped-key store). */
  passed: MessageKey[];
  /** The chain after the index sought, its prefetch running while the caller uses `key`. */
  rest: Promise<SymmetricChain>;
}

/** A chain key plus the message keys derived ahead of it. Immutable. */
export class SymmetricChain {
  private constructor(
    /** The chain key that derives the first key not yet in `ahead`. */
    readonly head: ChainKey,
    /** Keys for consecutive indexes ending just before `head.index`. */
    readonly ahead: readonly MessageKey[],
  ) {}

  /** A chain that starts at `chainKey` with nothing derived yet. */
  static start(chainKey: ChainKey): SymmetricChain {
    return new SymmetricChain(chainKey, []);
  }

  /** Version 2: a new chain as the root KDF yields it, its first key (index 0) ahead. */
  static startWithKey(chainKey: ChainKey, firstKey: MessageKey): SymmetricChain {
    return SymmetricChain.restore(chainKey, [firstKey]);
  }

  /** Rebuilds a stored chain, checking that the keys ahead are consecutive and end at `head`. */
  static restore(head: ChainKey, ahead: readonly MessageKey[]): SymmetricChain {
    const most = maxAhead(head);
    if (ahead.length > most) {
      throw new RangeError(`expected at most ${most} keys ahead, got ${ahead.length}`);
    }
    ahead.forEach((k, i) => {
      if (k.index !== head.index - ahead.length + i) {
        throw new RangeError(`key ahead ${i} has index ${k.index}, not consecutive with the head`);
      }
    });
    return new SymmetricChain(head, ahead);
  }

  /** The index of the next message key this chain yields. */
  get nextIndex(): number {
    return this.ahead[0]?.index ?? this.head.index;
  }

  /** This chain with `depth` keys derived ahead, the first in derived form. */
  prefetched(depth: number = PREFETCH_KEYS): Promise<SymmetricChain> {
    if (this.head.version === 2) return Promise.resolve(this);
    return refill(this.head, [...this.ahead], depth);
  }

  /**
   * The key numbered `index` (at least {@linkcode nextIndex}), the keys passed over on the way,
   * and the rest of the chain, prefetched when `prefetch` is true. Passing over keys costs one
   * KDF_CK each, one after another: the caller bounds the gap before calling.
   */
  async seek(index: number, prefetch = true): Promise<SeekResult> {
    if (!Number.isInteger(index) || index < this.nextIndex || index > MAX_CHAIN_INDEX) {
      throw new RangeError(`seek: expected an index in [${this.nextIndex}, ${MAX_CHAIN_INDEX}]`);
    }
    if (this.head.version === 2) return this.#seekBatched(index);
    const ahead = [...this.ahead];
    const passed: MessageKey[] = [];
    while (ahead.length > 0 && ahead[0]!.index < index) passed.push(ahead.shift()!);
    let head = this.head;
    let key = ahead.shift();
    if (key === undefined) {
      while (head.index < index) {
        const step = await head.next();
        passed.push(step.messageKey);
        head = step.chainKey;
      }
      const step = await head.next();
      key = step.messageKey;
      head = step.chainKey;
    }
    const rest = prefetch
      ? refill(head, ahead, PREFETCH_KEYS)
      : Promise.resolve(SymmetricChain.restore(head, ahead));
    // A caller whose open fails drops `rest` unawaited; this keeps its failure from surfacing
    // as an unhandled rejection while callers that await it still see the error.
    rest.catch(() => {});
    return { key: await key.ready(), passed, rest };
  }

  /** Version 2's seek: whole batches derived until `index` is held; nothing prefetched. */
  async #seekBatched(index: number): Promise<SeekResult> {
    let ahead = this.ahead;
    let head = this.head;
    if (head.index <= index) {
      const grown = ahead.slice();
      while (head.index <= index) head = await head.batch(grown);
      ahead = grown;
    }
    const at = index - ahead[0]!.index;
    return {
      key: ahead[at]!,
      passed: ahead.slice(0, at),
      rest: Promise.resolve(new SymmetricChain(head, ahead.slice(at + 1))),
    };
  }

  /** The keys with index in [nextIndex, end), and nothing else (the old chain at a DH step). */
  async keysBefore(end: number): Promise<MessageKey[]> {
    const out = this.ahead.filter((k) => k.index < end);
    let head = this.head;
    if (head.version === 2) {
      const grown: MessageKey[] = [];
      while (head.index < end) head = await head.batch(grown);
      for (const k of grown) if (k.index < end) out.push(k);
      return out;
    }
    while (head.index < end) {
      const step = await head.next();
      out.push(step.messageKey);
      head = step.chainKey;
    }
    return out;
  }

  [INSPECT](): string {
    return `SymmetricChain { nextIndex: ${this.nextIndex}, keys: [redacted] }`;
  }
  toJSON(): unknown {
    return { nextIndex: this.nextIndex, keys: "[redacted]" };
  }
}

/** Keys a chain may hold ahead of its head: version 1's prefetch, version 2's batch. */
function maxAhead(head: ChainKey): number {
  return head.version === 1 ? PREFETCH_KEYS : CHAIN_BATCH_KEYS;
}

/**
 * Derives keys until `depth` (1 or 2) are ahead of the head, the first in derived form. In the
 * steady state this is one HKDF (for the key after next) beside one KDF_CK (for the one after
 * that), issued together.
 */
async function refill(
  head: ChainKey,
  ahead: MessageKey[],
  depth: number,
): Promise<SymmetricChain> {
  if (depth < 1) return SymmetricChain.restore(head, ahead);
  if (ahead.length === 0 && head.index <= MAX_CHAIN_INDEX) {
    const step = await head.next();
    ahead.push(step.messageKey);
    head = step.chainKey;
  }
  if (ahead.length === 0) return SymmetricChain.restore(head, ahead);
  const grow = ahead.length < Math.min(depth, PREFETCH_KEYS) && head.index <= MAX_CHAIN_INDEX;
  const [first, step] = await Promise.all([ahead[0]!.ready(), grow ? head.next() : null]);
  ahead[0] = first;
  if (step) {
    ahead.push(step.messageKey);
    head = step.chainKey;
  }
  return SymmetricChain.restore(head, ahead);
}
