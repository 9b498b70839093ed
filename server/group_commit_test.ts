import assert from "node:assert/strict";
import { MAX_BATCH, type NewQueued, type Store, StoreError } from "../sql/mod.ts";
import { chunkAcks, GroupCommitter } from "./group_commit.ts";

/** A store that records its calls; recipient 99 does not exist. */
function recordingStore() {
  const enqueues: number[][] = [];
  const acks: number[][] = [];
  let next = 1;
  const store = {
    enqueue(items: NewQueued[]) {
      enqueues.push(items.map((i) => i.recipientId));
      if (items.some((i) => i.recipientId === 99)) {
        return Promise.reject(new StoreError("not_found", "no recipient"));
      }
      return Promise.resolve(items.map(() => next++));
    },
    ackMany(list: { recipientId: number; qids: number[] }[]) {
      const qids = list.flatMap((a) => a.qids);
      if (qids.length > MAX_BATCH) return Promise.reject(new RangeError("too many"));
      acks.push(qids);
      return Promise.resolve(qids.length);
    },
  } as unknown as Store;
  return { store, enqueues, acks };
}

function item(recipientId: number): NewQueued {
  return {
    recipientId,
    senderId: 1,
    senderName: "a",
    mid: new Uint8Array(16),
    body: new Uint8Array(1),
    sentAt: 0,
  };
}

Deno.test("GroupCommitter.submit() batches what arrives together into one enqueue", async () => {
  const { store, enqueues } = recordingStore();
  const committed: number[] = [];
  const g = new GroupCommitter(store, (_items, qids) => committed.push(...qids));
  const qids = await Promise.all([1, 2, 3].map((r) => g.submit(item(r))));
  assert.deepEqual(qids, [1, 2, 3]);
  assert.deepEqual(enqueues, [[1, 2, 3]]);
  assert.deepEqual(committed, [1, 2, 3]);
});

Deno.test("GroupCommitter.submit() refuses only the message whose recipient vanished", async () => {
  const { store } = recordingStore();
  const g = new GroupCommitter(store, () => {});
  const results = await Promise.allSettled([
    g.submit(item(1)),
    g.submit(item(99)),
    g.submit(item(2)),
  ]);
  assert.equal(results[0]!.status, "fulfilled");
  assert.equal(results[1]!.status, "rejected");
  assert.equal(results[2]!.status, "fulfilled");
});

Deno.test("chunkAcks() keeps each chunk within the limit across recipients", () => {
  const chunks = chunkAcks(new Map([[1, [1, 2, 3]], [2, [4, 5]], [3, [6]]]), 4);
  assert.deepEqual(chunks, [
    [{ recipientId: 1, qids: [1, 2, 3] }, { recipientId: 2, qids: [4] }],
    [{ recipientId: 2, qids: [5] }, { recipientId: 3, qids: [6] }],
  ]);
});

Deno.test("GroupCommitter.ack() splits acknowledgements at MAX_BATCH and N+1", async () => {
  const { store, acks } = recordingStore();
  const g = new GroupCommitter(store, () => {});
  g.ack(5, Array.from({ length: MAX_BATCH }, (_, i) => i));
  await g.close();
  assert.deepEqual(acks.map((a) => a.length), [MAX_BATCH]);
  const second = recordingStore();
  const g2 = new GroupCommitter(second.store, () => {});
  g2.ack(5, Array.from({ length: MAX_BATCH + 1 }, (_, i) => i));
  await g2.close();
  assert.deepEqual(second.acks.map((a) => a.length), [MAX_BATCH, 1]);
});
