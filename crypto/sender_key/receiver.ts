/**
 * What a member holds to read another member's room messages: the sender's chains (the current
 * one and a few before it, so messages sent just before a rotation still open), each with its
 * signing key and a bounded store of keys for messages that have not arrived yet.
 *
 * A message is checked against the signing key before anything else, and the record changes only
 * after it decrypts: a forged or tampered message leaves it as it was.
 *
 * @module
 */

import { equalBytes } from "../bytes.ts";
import { ByteReader, ByteWriter } from "../codec.ts";
import { DecryptError, KeyError } from "../errors.ts";
import { AesGcmKey, ed25519Verify, KEY_BYTES } from "../subtle.ts";
import { chainStep } from "./chain.ts";
import {
  decodeDistribution,
  decodeMessage,
  DISTRIBUTION_ID_BYTES,
  SENDER_KEY_VERSION,
  type SenderKeyDistribution,
} from "./format.ts";
import { bind } from "./sender.ts";

const INSPECT = Symbol.for("Deno.customInspect");

/** Chains of one sender kept at most; a newer distribution evicts the oldest. */
export const MAX_SENDER_KEY_STATES = 5;
/** Iterations a message may be ahead of the chain; further is refused, not derived. */
export const MAX_SENDER_KEY_SKIP = 2000;
/** Keys of messages not yet arrived kept per chain; the oldest iterations go first. */
export const MAX_SKIPPED_SENDER_KEYS = 2000;

/** One chain of the sender, as received. */
interface ReceiverChain {
  distributionId: Uint8Array;
  chainId: number;
  /** The iteration `chainKey` is at: the next one that can be derived. */
  iteration: number;
  chainKey: Uint8Array;
  signingKey: Uint8Array;
  /** Message keys of iterations below `iteration` that have not arrived, by iteration. */
  skipped: ReadonlyMap<number, Uint8Array>;
}

/** An immutable set of one sender's chains in one room, newest first. */
export class SenderKeyRecord {
  /** Nothing received yet. */
  static readonly empty: SenderKeyRecord = new SenderKeyRecord([]);

  private constructor(readonly chains: readonly ReceiverChain[]) {}

  /**
   * The record with the distribution added. A chain already held is kept as it is (a repeated
   * distribution cannot wind a chain back to re-read messages).
   */
  withDistribution(distribution: Uint8Array | SenderKeyDistribution): SenderKeyRecord {
    const d = distribution instanceof Uint8Array ? decodeDistribution(distribution) : distribution;
    if (this.#find(d.distributionId, d.chainId) !== undefined) return this;
    const chain: ReceiverChain = { ...d, skipped: new Map() };
    return new SenderKeyRecord([chain, ...this.chains].slice(0, MAX_SENDER_KEY_STATES));
  }

  #find(distributionId: Uint8Array, chainId: number): ReceiverChain | undefined {
    return this.chains.find((c) =>
      c.chainId === chainId && equalBytes(c.distributionId, distributionId)
    );
  }

  /**
   * Verifies and decrypts a room message bound to `ad`. Throws `DecryptError`: `no_sender_key`
   * for a chain not held, `auth_failed` for a bad signature or tag, `duplicate` for an
   * iteration already read (or too old to have a key), `too_many_skipped` for one too far ahead,
   * `bad_format` for bytes that are no message. The record is unchanged when it throws.
   */
  async decrypt(
    message: Uint8Array,
    ad: Uint8Array,
  ): Promise<{ plaintext: Uint8Array<ArrayBuffer>; next: SenderKeyRecord }> {
    const m = decodeMessage(message);
    const chain = this.#find(m.distributionId, m.chainId);
    if (chain === undefined) {
      throw new DecryptError("no_sender_key", "no sender key for this room message's chain");
    }
    if (!(await ed25519Verify(chain.signingKey, bind(m.signed, ad), m.signature))) {
      throw new DecryptError("auth_failed", "the room message's signature did not verify");
    }
    const skipped = new Map(chain.skipped);
    let chainKey = chain.chainKey;
    let iteration = chain.iteration;
    let messageKey: Uint8Array;
    if (m.iteration < chain.iteration) {
      const kept = skipped.get(m.iteration);
      if (kept === undefined) {
        throw new DecryptError("duplicate", `room message ${m.iteration} was already read`);
      }
      skipped.delete(m.iteration);
      messageKey = kept;
    } else {
      if (m.iteration - chain.iteration > MAX_SENDER_KEY_SKIP) {
        throw new DecryptError(
          "too_many_skipped",
          `room message ${m.iteration} is more than ${MAX_SENDER_KEY_SKIP} ahead of ${chain.iteration}`,
        );
      }
      for (; iteration < m.iteration; iteration++) {
        const step = await chainStep(chainKey);
        skipped.set(iteration, step.messageKey);
        chainKey = step.next;
      }
      const step = await chainStep(chainKey);
      messageKey = step.messageKey;
      chainKey = step.next;
      iteration++;
    }
    const key = await AesGcmKey.import(messageKey);
    const plaintext = await key.open(m.nonce, m.ciphertext, bind(m.header, ad));
    // Maps keep insertion order, which is iteration order here: evict from the front.
    for (const old of skipped.keys()) {
      if (skipped.size <= MAX_SKIPPED_SENDER_KEYS) break;
      skipped.delete(old);
    }
    const updated: ReceiverChain = { ...chain, iteration, chainKey, skipped };
    return {
      plaintext,
      next: new SenderKeyRecord(this.chains.map((c) => c === chain ? updated : c)),
    };
  }

  /** The record as bytes, keys included: store it only encrypted. */
  serializeUnsafe(): Uint8Array<ArrayBuffer> {
    const w = new ByteWriter().u8(SENDER_KEY_VERSION).u8(this.chains.length);
    for (const c of this.chains) {
      w.bytes(c.distributionId).u32(c.chainId).u32(c.iteration).bytes(c.chainKey)
        .bytes(c.signingKey).u32(c.skipped.size);
      for (const [i, k] of c.skipped) w.u32(i).bytes(k);
    }
    return w.finish();
  }

  /** The record {@linkcode serializeUnsafe} wrote; `KeyError("bad_encoding")` otherwise. */
  static deserialize(bytes: Uint8Array): SenderKeyRecord {
    const r = new ByteReader(bytes, (m) => new KeyError("bad_encoding", `sender key record: ${m}`));
    if (r.u8("version") !== SENDER_KEY_VERSION) {
      throw new KeyError("bad_encoding", "sender key record: unknown version");
    }
    const n = r.u8("chains");
    if (n > MAX_SENDER_KEY_STATES) {
      throw new KeyError("bad_encoding", `sender key record: ${n} chains, at most 5`);
    }
    const chains: ReceiverChain[] = [];
    for (let i = 0; i < n; i++) {
      const distributionId = r.bytes(DISTRIBUTION_ID_BYTES, "distribution id");
      const chainId = r.u32("chain id");
      const iteration = r.u32("iteration");
      const chainKey = r.bytes(KEY_BYTES, "chain key");
      const signingKey = r.bytes(KEY_BYTES, "signing key");
      const count = r.u32("skipped");
      if (count > MAX_SKIPPED_SENDER_KEYS) {
        throw new KeyError("bad_encoding", `sender key record: ${count} skipped keys`);
      }
      const skipped = new Map<number, Uint8Array>();
      for (let j = 0; j < count; j++) skipped.set(r.u32("iteration"), r.bytes(KEY_BYTES, "key"));
      chains.push({ distributionId, chainId, iteration, chainKey, signingKey, skipped });
    }
    r.end("sender key record");
    return new SenderKeyRecord(chains);
  }

  [INSPECT](): string {
    return `SenderKeyRecord { chains: ${this.chains.length}, keys: [redacted] }`;
  }
  toJSON(): unknown {
    return { chains: this.chains.length, keys: "[redacted]" };
  }
}
