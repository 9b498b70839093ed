/**
 * Group commit: sends that arrive while the database is busy wait and are written together in the
 * next transaction, so one fsync covers many messages. A sender's acknowledgement waits for the
 * commit that holds its message; acks from recipients are batched the same way.
 *
 * @module
 */

import { setImmediate } from "node:timers";
import {
  MAX_BATCH,
  type NewQueued,
  type NewRoomMessage,
  type Store,
  StoreError,
} from "../sql/mod.ts";

/** Messages written in one transaction at most (the store's own batch limit). */
export const MAX_COMMIT_BATCH = MAX_BATCH;
/** Messages waiting for a commit at most; beyond this senders are told the server is busy. */
export const MAX_COMMIT_QUEUE = 50_000;

interface Waiting {
  item: NewQueued;
  room?: undefined;
  resolve(qid: number): void;
  reject(e: unknown): void;
}

/** A room message waiting: one body, a qid per recipient. */
interface WaitingRoom {
  item?: undefined;
  room: NewRoomMessage;
  resolve(qids: number[]): void;
  reject(e: unknown): void;
}

/** Splits acks by recipient into lists of at most `limit` qids in all. */
export function chunkAcks(
  acks: Map<number, number[]>,
  limit: number,
): { recipientId: number; qids: number[] }[][] {
  const chunks: { recipientId: number; qids: number[] }[][] = [];
  let current: { recipientId: number; qids: number[] }[] = [];
  let size = 0;
  for (const [recipientId, all] of acks) {
    for (let i = 0; i < all.length;) {
      const take = Math.min(limit - size, all.length - i);
      current.push({ recipientId, qids: all.slice(i, i + take) });
      size += take;
      i += take;
      if (size === limit) {
        chunks.push(current);
        current = [];
        size = 0;
      }
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Serialises writes to the store and batches them. */
export class GroupCommitter {
  #items: (Waiting | WaitingRoom)[] = [];
  #acks = new Map<number, number[]>();
  #running: Promise<void> | null = null;
  #closed = false;
  /**
   * Commits that may overlap. SQLite writes synchronously in call order and only the fsync
   * overlaps, so the next batch is written while the last one is being made durable. MySQL
   * transactions on separate connections could finish out of qid order, so there it is one.
   */
  readonly #maxInFlight: number;

  /**
   * @param store where the batches go
   * @param onCommitted called with each batch's messages and their qids, after the commit
   * @param onError told when `onCommitted` throws (the commit stands)
   */
  constructor(
    readonly store: Store,
    readonly onCommitted: (items: NewQueued[], qids: number[]) => void,
    readonly onError: (e: unknown) => void = () => {},
  ) {
    this.#maxInFlight = store.kind === "sqlite" ? 2 : 1;
  }

  /** Messages waiting for a commit. */
  get backlog(): number {
    return this.#items.length;
  }

  /** Queues a message; resolves with its qid once it is durable. */
  submit(item: NewQueued): Promise<number> {
    if (this.#closed) {
      return Promise.reject(new StoreError("unavailable", "the server is shutting down"));
    }
    if (this.#items.length >= MAX_COMMIT_QUEUE) {
      return Promise.reject(
        new StoreError("unavailable", "too many messages waiting for the database"),
      );
    }
    const p = new Promise<number>((resolve, reject) => this.#items.push({ item, resolve, reject }));
    this.#kick();
    return p;
  }

  /**
   * Queues a room message (one body, a reference per recipient); resolves with each recipient's
   * qid once it is durable. It is committed in its turn among the other sends.
   */
  submitRoom(room: NewRoomMessage): Promise<number[]> {
    if (this.#closed) {
      return Promise.reject(new StoreError("unavailable", "the server is shutting down"));
    }
    if (this.#items.length >= MAX_COMMIT_QUEUE) {
      return Promise.reject(
        new StoreError("unavailable", "too many messages waiting for the database"),
      );
    }
    const p = new Promise<number[]>((resolve, reject) =>
      this.#items.push({ room, resolve, reject })
    );
    this.#kick();
    return p;
  }

  /** Queues the deletion of delivered messages; losing it in a crash only means a redelivery. */
  ack(recipientId: number, qids: number[]): void {
    if (qids.length === 0 || this.#closed) return;
    const list = this.#acks.get(recipientId);
    if (list) list.push(...qids);
    else this.#acks.set(recipientId, [...qids]);
    this.#kick();
  }

  #kick(): void {
    this.#running ??= this.#run().finally(() => {
      this.#running = null;
      if (this.#items.length > 0 || this.#acks.size > 0) this.#kick();
    });
  }

  async #run(): Promise<void> {
    // Wait for the end of this turn of the event loop, so that every send decoded from the
    // frames read in it joins the batch (one microtask let the first send go alone).
    await new Promise((r) => setImmediate(r));
    const inFlight = new Set<Promise<void>>();
    let last: Promise<void> = Promise.resolve();
    while (this.#items.length > 0 || this.#acks.size > 0 || inFlight.size > 0) {
      if (this.#items.length > 0 && inFlight.size < this.#maxInFlight) {
        const batch = this.#nextBatch();
        const done = batch[0]!.room === undefined
          ? this.#commit(batch as Waiting[], last)
          : this.#commitRooms(batch as WaitingRoom[], last);
        last = done;
        inFlight.add(done);
        void done.finally(() => inFlight.delete(done));
        continue;
      }
      if (this.#acks.size > 0) {
        const acks = this.#acks;
        this.#acks = new Map();
        // Every recipient's acks in as few transactions as the batch limit allows.
        for (const chunk of chunkAcks(acks, MAX_BATCH)) {
          try {
            await this.store.ackMany(chunk);
          } catch {
            // The messages stay queued and are delivered again; clients de-duplicate by id.
          }
        }
        continue;
      }
      await Promise.race(inFlight);
    }
  }

  /**
   * The next batch: waiting sends of one kind from the front, at most MAX_COMMIT_BATCH messages
   * or, for room messages, MAX_BATCH references in all.
   */
  #nextBatch(): (Waiting | WaitingRoom)[] {
    const room = this.#items[0]!.room !== undefined;
    let n = 0;
    let refs = 0;
    for (const w of this.#items) {
      if ((w.room !== undefined) !== room || n === MAX_COMMIT_BATCH) break;
      if (w.room !== undefined) {
        if (n > 0 && refs + w.room.recipientIds.length > MAX_BATCH) break;
        refs += w.room.recipientIds.length;
      }
      n++;
    }
    return this.#items.splice(0, n);
  }

  /** Commits a batch of room messages, like {@linkcode #commit}. */
  async #commitRooms(batch: WaitingRoom[], previous: Promise<void>): Promise<void> {
    let qids: number[][] | null = null;
    let error: unknown = null;
    try {
      qids = await this.store.enqueueRoom(batch.map((w) => w.room));
    } catch (e) {
      error = e;
    }
    await previous.catch(() => {});
    if (qids) {
      const items: NewQueued[] = [];
      const itemQids: number[] = [];
      for (let i = 0; i < batch.length; i++) {
        const { recipientIds, ...message } = batch[i]!.room;
        batch[i]!.resolve(qids[i]!);
        // A retry answers 0 for recipients who have it already: nothing to push to them.
        recipientIds.forEach((recipientId, j) => {
          if (qids![i]![j]! === 0) return;
          items.push({ ...message, recipientId });
          itemQids.push(qids![i]![j]!);
        });
      }
      try {
        this.onCommitted(items, itemQids);
      } catch (e) {
        this.onError(e);
      }
      return;
    }
    if (batch.length > 1 && error instanceof StoreError && error.code === "not_found") {
      for (const w of batch) await this.#commitRooms([w], Promise.resolve());
      return;
    }
    for (const w of batch) w.reject(error);
  }

  /**
   * Commits one batch. Results are handed out only after the batch before it (`previous`), so
   * senders and recipients see commits in the order they were made.
   */
  async #commit(batch: Waiting[], previous: Promise<void>): Promise<void> {
    const items = batch.map((w) => w.item);
    let qids: number[] | null = null;
    let error: unknown = null;
    try {
      qids = await this.store.enqueue(items);
    } catch (e) {
      error = e;
    }
    await previous.catch(() => {});
    if (qids) {
      for (let i = 0; i < batch.length; i++) batch[i]!.resolve(qids[i]!);
      try {
        this.onCommitted(items, qids);
      } catch (e) {
        // Delivery is best effort: the messages are durable and drain from the queue anyway.
        this.onError(e);
      }
      return;
    }
    // A recipient deleted a moment ago fails the whole batch; commit the others one by one so
    // only that message is refused. A database that is down fails them all.
    if (batch.length > 1 && error instanceof StoreError && error.code === "not_found") {
      for (const w of batch) await this.#commit([w], Promise.resolve());
      return;
    }
    for (const w of batch) w.reject(error);
  }

  /** Finishes everything queued, then refuses new work. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#running) await this.#running;
  }
}
