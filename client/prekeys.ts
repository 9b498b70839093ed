/**
 * The client's prekeys: made at sign-up, looked up by id when a contact starts a session,
 * replenished when the server runs low, and the signed prekey rotated on a schedule (the old one
 * kept a while for messages already on their way).
 *
 * @module
 */

import {
  type ConsumedPrekeys,
  type IdentityKeyPair,
  KyberPrekey,
  OneTimePrekey,
  type PrekeyLookup,
  SignedPrekey,
} from "../crypto/mod.ts";
import type { PrekeySet } from "../sql/store.ts";
import { type LocalStore, PrekeyKind } from "./local_store.ts";

/** One-time X25519 prekeys made at a time, and the server count that triggers more. */
export const ONE_TIME_BATCH = 50;
export const ONE_TIME_LOW = 20;
/** One-time ML-KEM prekeys made at a time, and the count that triggers more. */
export const KYBER_BATCH = 20;
export const KYBER_LOW = 10;
/** The signed prekey is replaced after this long… */
export const SIGNED_PREKEY_ROTATE_MS = 7 * 24 * 3600_000;
/** …and an old one is kept this long for messages that were started with it. */
export const SIGNED_PREKEY_KEEP_MS = 30 * 24 * 3600_000;
/** The last-resort ML-KEM key is replaced on the same schedule… */
export const LAST_RESORT_ROTATE_MS = SIGNED_PREKEY_ROTATE_MS;
/** …and a replaced one is kept this long after it was replaced. */
export const LAST_RESORT_KEEP_MS = SIGNED_PREKEY_KEEP_MS;

/** The prekeys of one account, backed by its local store. */
export class ClientPrekeys implements PrekeyLookup {
  constructor(
    readonly store: LocalStore,
    readonly identity: IdentityKeyPair,
    /** The clock rotation follows (moved by tests). */
    readonly now: () => number = Date.now,
  ) {}

  #nextIds(n: number): number[] {
    const raw = this.store.getMetaText("next_prekey_id");
    // Ids start at a random point so a restored profile does not reuse the ids the server holds.
    const first = raw
      ? Number(raw)
      : 1 + (crypto.getRandomValues(new Uint32Array(1))[0]! % 0x7fff_0000);
    this.store.setMeta("next_prekey_id", String((first + n) % 0xffff_fff0));
    return Array.from({ length: n }, (_, i) => (first + i) % 0xffff_fff0);
  }

  /** A complete new set (sign-up, or a new identity): stored privately, returned as public records. */
  async initialSet(): Promise<PrekeySet> {
    const ids = this.#nextIds(2 + ONE_TIME_BATCH + KYBER_BATCH);
    const [signed, lastResort, oneTime, kyber] = await Promise.all([
      SignedPrekey.generate(this.identity, ids[0]!, this.now()),
      KyberPrekey.generate(this.identity, ids[1]!, true),
      Promise.all(ids.slice(2, 2 + ONE_TIME_BATCH).map((id) => OneTimePrekey.generate(id))),
      Promise.all(
        ids.slice(2 + ONE_TIME_BATCH).map((id) => KyberPrekey.generate(this.identity, id, false)),
      ),
    ]);
    const now = this.now();
    this.store.setMeta("last_resort_id", String(lastResort.id));
    await this.store.putPrekeys(PrekeyKind.signed, [{
      id: signed.id,
      createdAt: signed.createdAt,
      bytes: signed.serialize(),
    }]);
    await this.store.putPrekeys(
      PrekeyKind.kyber,
      [lastResort, ...kyber].map((k) => ({ id: k.id, createdAt: now, bytes: k.serialize() })),
    );
    await this.store.putPrekeys(
      PrekeyKind.oneTime,
      oneTime.map((k) => ({ id: k.id, createdAt: now, bytes: k.serialize() })),
    );
    return {
      signedPrekey: signed.record(),
      kyberLastResort: lastResort.record(),
      oneTimePrekeys: oneTime.map((k) => k.record()),
      kyberPrekeys: kyber.map((k) => k.record()),
    };
  }

  /** New one-time keys when the server's counts are low, or null when none are needed. */
  async replenish(counts: { oneTime: number; kyber: number }): Promise<Partial<PrekeySet> | null> {
    const needX = counts.oneTime < ONE_TIME_LOW ? ONE_TIME_BATCH - counts.oneTime : 0;
    const needK = counts.kyber < KYBER_LOW ? KYBER_BATCH - counts.kyber : 0;
    if (needX <= 0 && needK <= 0) return null;
    const ids = this.#nextIds(needX + needK);
    const now = this.now();
    const [oneTime, kyber] = await Promise.all([
      Promise.all(ids.slice(0, needX).map((id) => OneTimePrekey.generate(id))),
      Promise.all(ids.slice(needX).map((id) => KyberPrekey.generate(this.identity, id, false))),
    ]);
    await this.store.putPrekeys(
      PrekeyKind.oneTime,
      oneTime.map((k) => ({ id: k.id, createdAt: now, bytes: k.serialize() })),
    );
    await this.store.putPrekeys(
      PrekeyKind.kyber,
      kyber.map((k) => ({ id: k.id, createdAt: now, bytes: k.serialize() })),
    );
    const out: Partial<PrekeySet> = {};
    if (oneTime.length) out.oneTimePrekeys = oneTime.map((k) => k.record());
    if (kyber.length) out.kyberPrekeys = kyber.map((k) => k.record());
    return out;
  }

  /**
   * A new signed prekey and a new last-resort ML-KEM key when the current ones are older than
   * the rotation period (null when neither is due). Replaced keys stay for a grace period, so
   * messages made from the old bundle still open, then are deleted.
   */
  async rotateIfDue(
    now = this.now(),
  ): Promise<Partial<Pick<PrekeySet, "signedPrekey" | "kyberLastResort">> | null> {
    const out: Partial<Pick<PrekeySet, "signedPrekey" | "kyberLastResort">> = {};
    const signed = this.store.listPrekeys(PrekeyKind.signed);
    for (const old of signed.slice(1)) {
      if (now - old.createdAt > SIGNED_PREKEY_KEEP_MS) {
        this.store.transaction(() => {
          this.store.deletePrekey(PrekeyKind.signed, old.id);
          this.store.forgetBaseKeys(old.id);
        });
      }
    }
    if (!signed[0] || now - signed[0].createdAt >= SIGNED_PREKEY_ROTATE_MS) {
      const [id] = this.#nextIds(1);
      const next = await SignedPrekey.generate(this.identity, id!, now);
      await this.store.putPrekeys(PrekeyKind.signed, [{
        id: next.id,
        createdAt: next.createdAt,
        bytes: next.serialize(),
      }]);
      out.signedPrekey = next.record();
    }
    const lastResort = await this.#rotateLastResort(now);
    if (lastResort) out.kyberLastResort = lastResort;
    return out.signedPrekey || out.kyberLastResort ? out : null;
  }

  async #rotateLastResort(now: number): Promise<PrekeySet["kyberLastResort"] | null> {
    const retired = JSON.parse(this.store.getMetaText("last_resort_retired") ?? "[]") as {
      id: number;
      at: number;
    }[];
    const kept = retired.filter((r) => {
      if (now - r.at <= LAST_RESORT_KEEP_MS) return true;
      this.store.deletePrekey(PrekeyKind.kyber, r.id);
      return false;
    });
    const currentId = await this.#lastResortId();
    const current = this.store.listPrekeys(PrekeyKind.kyber).find((p) => p.id === currentId);
    let record: PrekeySet["kyberLastResort"] | null = null;
    if (current && now - current.createdAt >= LAST_RESORT_ROTATE_MS) {
      const [id] = this.#nextIds(1);
      const next = await KyberPrekey.generate(this.identity, id!, true);
      await this.store.putPrekeys(PrekeyKind.kyber, [{
        id: next.id,
        createdAt: now,
        bytes: next.serialize(),
      }]);
      this.store.setMeta("last_resort_id", String(next.id));
      kept.push({ id: current.id, at: now });
      record = next.record();
    }
    if (kept.length !== retired.length || record) {
      this.store.setMeta("last_resort_retired", JSON.stringify(kept));
    }
    return record;
  }

  /** The current last-resort key's id; profiles made before it was recorded are searched once. */
  async #lastResortId(): Promise<number | null> {
    const known = this.store.getMetaText("last_resort_id");
    if (known) return Number(known);
    let newest: { id: number; createdAt: number } | null = null;
    for (const p of this.store.listPrekeys(PrekeyKind.kyber)) {
      const k = await this.kyberPrekey(p.id);
      if (k?.lastResort && (!newest || p.createdAt >= newest.createdAt)) newest = p;
    }
    if (newest) this.store.setMeta("last_resort_id", String(newest.id));
    return newest?.id ?? null;
  }

  /** Deletes the one-time keys a new session used, so they can never be used again. */
  consume(consumed: ConsumedPrekeys): void {
    if (consumed.oneTimePrekeyId !== null) {
      this.store.deletePrekey(PrekeyKind.oneTime, consumed.oneTimePrekeyId);
    }
    if (consumed.kyberPrekeyId !== null) {
      this.store.deletePrekey(PrekeyKind.kyber, consumed.kyberPrekeyId);
    }
  }

  async signedPrekey(id: number): Promise<SignedPrekey | null> {
    const b = await this.store.getPrekey(PrekeyKind.signed, id);
    return b ? SignedPrekey.deserialize(b) : null;
  }

  async oneTimePrekey(id: number): Promise<OneTimePrekey | null> {
    const b = await this.store.getPrekey(PrekeyKind.oneTime, id);
    return b ? OneTimePrekey.deserialize(b) : null;
  }

  async kyberPrekey(id: number): Promise<KyberPrekey | null> {
    const b = await this.store.getPrekey(PrekeyKind.kyber, id);
    return b ? KyberPrekey.deserialize(b) : null;
  }
}
