/**
 * Contract tests for the message queue and backups, and for the store's life cycle.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MAX_BATCH, MAX_MID_BYTES, MAX_PENDING_PAGE } from "./limits.ts";
import { type ContractHarness, filled, makeUser, message, random } from "./_contract_fixtures.ts";
import { rejectsWith, using } from "./_contract_users.ts";

/** Senders writing to one recipient at once in the paging test. */
export const CONCURRENT_WRITERS = 6;

/** How many messages the long-queue test sends. */
export const LONG_QUEUE = 1_000;

/** Registers the queue, backup and life-cycle tests. */
export function queueContract(h: ContractHarness): void {
  const t = (name: string, fn: () => Promise<void>) => Deno.test(`${h.kind}: ${name}`, fn);

  t("enqueue() returns increasing qids in input order and is idempotent on retry", async () => {
    await using(h, async (s) => {
      const a = await makeUser(s, "qa");
      const b = await makeUser(s, "qb");
      const batch = [message(a.id, b.id, 1), message(b.id, a.id, 2), message(a.id, b.id, 3)];
      const qids = await s.enqueue(batch);
      assert.equal(qids.length, 3);
      assert.ok(qids[0]! < qids[1]! && qids[1]! < qids[2]!, `not increasing: ${qids}`);
      // A retry (the sender lost our ack) gets the same qids and queues nothing twice,
      // even mixed with new messages and with a repeat inside the batch.
      const fresh = message(a.id, b.id, 4);
      const retried = await s.enqueue([batch[2]!, fresh, batch[0]!, fresh]);
      assert.equal(retried[0], qids[2]);
      assert.equal(retried[2], qids[0]);
      assert.ok(retried[1]! > qids[2]!);
      assert.equal(retried[3], retried[1]);
      const forA = await s.pending(a.id, 0, 10);
      assert.deepEqual(forA.map((m) => m.qid), [qids[0], qids[2], retried[1]]);
      assert.deepEqual(forA[0], { ...batch[0], qid: qids[0] });
      assert.deepEqual(await s.enqueue([]), []);
    });
  });

  t("enqueue() to an unknown recipient fails with not_found and queues nothing", async () => {
    await using(h, async (s) => {
      const a = await makeUser(s, "qknown");
      const ok = message(a.id, a.id, 1);
      await rejectsWith(s.enqueue([ok, message(a.id + 1_000_000, a.id, 2)]), "not_found");
      assert.equal(await s.pendingCount(a.id), 0);
    });
  });

  t("enqueue() takes MAX_BATCH messages and mids of MAX_MID_BYTES, no more", async () => {
    await using(h, async (s) => {
      const a = await makeUser(s, "qlimit");
      const many = Array.from({ length: MAX_BATCH }, (_, i) => message(a.id, a.id, i));
      const qids = await s.enqueue(many);
      assert.equal(new Set(qids).size, MAX_BATCH);
      await assert.rejects(
        s.enqueue(Array.from({ length: MAX_BATCH + 1 }, (_, i) => message(a.id, a.id, i))),
        RangeError,
      );
      const long = { ...message(a.id, a.id, 0), mid: random(MAX_MID_BYTES) };
      const [qid] = await s.enqueue([long]);
      assert.deepEqual(await s.enqueue([long]), [qid]);
      await assert.rejects(
        s.enqueue([{ ...long, mid: random(MAX_MID_BYTES + 1) }]),
        RangeError,
      );
      assert.equal(await s.pendingCount(a.id), MAX_BATCH + 1);
    });
  });

  t("pending() pages through one recipient's messages in qid order", async () => {
    await using(h, async (s) => {
      const a = await makeUser(s, "pa");
      const b = await makeUser(s, "pb");
      const qids = await s.enqueue(
        Array.from({ length: 7 }, (_, i) => message(i % 2 === 0 ? a.id : b.id, b.id, i)),
      );
      const mine = qids.filter((_, i) => i % 2 === 0);
      const page1 = await s.pending(a.id, 0, 3);
      assert.deepEqual(page1.map((m) => m.qid), mine.slice(0, 3));
      assert.ok(page1.every((m) => m.recipientId === a.id));
      const page2 = await s.pending(a.id, page1[2]!.qid, 3);
      assert.deepEqual(page2.map((m) => m.qid), mine.slice(3));
      assert.deepEqual(await s.pending(a.id, mine[3]!, 3), []);
      assert.equal(await s.pendingCount(a.id), 4);
      assert.equal(await s.pendingCount(b.id), 3);
    });
  });

  t("pending() takes a limit of MAX_PENDING_PAGE and refuses one more", async () => {
    await using(h, async (s) => {
      const a = await makeUser(s, "plimit");
      assert.deepEqual(await s.pending(a.id, 0, MAX_PENDING_PAGE), []);
      await assert.rejects(s.pending(a.id, 0, MAX_PENDING_PAGE + 1), RangeError);
      await assert.rejects(s.pending(a.id, 0, 0), RangeError);
    });
  });

  t("ack() deletes only the recipient's own messages and counts them", async () => {
    await using(h, async (s) => {
      const a = await makeUser(s, "acka");
      const b = await makeUser(s, "ackb");
      const [forA1, forB, forA2] = await s.enqueue([
        message(a.id, b.id, 1),
        message(b.id, a.id, 2),
        message(a.id, b.id, 3),
      ]);
      // b cannot delete a's messages, even by naming their qids.
      assert.equal(await s.ack(b.id, [forA1!, forA2!]), 0);
      assert.equal(await s.ack(a.id, [forA1!, forB!, forA1!, forA1! + 1_000_000]), 1);
      assert.deepEqual((await s.pending(a.id, 0, 10)).map((m) => m.qid), [forA2]);
      assert.deepEqual((await s.pending(b.id, 0, 10)).map((m) => m.qid), [forB]);
      assert.equal(await s.ack(a.id, []), 0);
      await assert.rejects(s.ack(a.id, new Array(MAX_BATCH + 1).fill(forA2)), RangeError);
      assert.equal(await s.ack(a.id, new Array(MAX_BATCH).fill(forA2)), 1);
    });
  });

  t("ackMany() acknowledges for several recipients in one call, bounded at MAX_BATCH", async () => {
    await using(h, async (s) => {
      const a = await makeUser(s, "ackmanya");
      const b = await makeUser(s, "ackmanyb");
      const c = await makeUser(s, "ackmanyc");
      const [forA, forB] = await s.enqueue([message(a.id, c.id, 1), message(b.id, c.id, 2)]);
      // Each recipient deletes only its own rows, even when an entry names another's qid.
      assert.equal(
        await s.ackMany([{ recipientId: a.id, qids: [forA!, forB!] }, {
          recipientId: b.id,
          qids: [forB!],
        }]),
        2,
      );
      assert.equal(await s.pendingCount(a.id), 0);
      assert.equal(await s.pendingCount(b.id), 0);
      assert.equal(await s.ackMany([]), 0);
      const half = new Array(MAX_BATCH / 2).fill(forA);
      assert.equal(
        await s.ackMany([{ recipientId: a.id, qids: half }, { recipientId: b.id, qids: half }]),
        0,
      );
      await assert.rejects(
        s.ackMany([{ recipientId: a.id, qids: half }, {
          recipientId: b.id,
          qids: [...half, forB!],
        }]),
        RangeError,
      );
    });
  });
  t(`pending() returns ${LONG_QUEUE} queued messages in the order they were sent`, async () => {
    await using(h, async (s) => {
      const a = await makeUser(s, "long");
      const b = await makeUser(s, "longsender");
      const sent = Array.from({ length: LONG_QUEUE }, (_, i) => message(a.id, b.id, i));
      for (let i = 0; i < LONG_QUEUE; i += 100) await s.enqueue(sent.slice(i, i + 100));
      const got = [];
      let after = 0;
      for (let page = 0; page < LONG_QUEUE; page++) {
        const batch = await s.pending(a.id, after, 300);
        if (batch.length === 0) break;
        got.push(...batch);
        after = batch[batch.length - 1]!.qid;
      }
      assert.equal(got.length, LONG_QUEUE);
      assert.deepEqual(got.map((m) => m.body), sent.map((m) => m.body));
      assert.deepEqual(got.map((m) => m.mid), sent.map((m) => m.mid));
      assert.equal(await s.ack(a.id, got.slice(0, MAX_BATCH).map((m) => m.qid)), LONG_QUEUE);
      assert.equal(await s.pendingCount(a.id), 0);
    });
  });

  t(
    "pending() paging with afterQid never skips a message a concurrent enqueue commits",
    async () => {
      await using(h, async (s) => {
        // Several senders write to one recipient while a reader pages with a cursor, as the relay
        // does for an online recipient. A lower qid that became visible after a higher one would
        // be skipped for good.
        const r = await makeUser(s, "cursor");
        const senders = [];
        for (let i = 0; i < CONCURRENT_WRITERS; i++) senders.push(await makeUser(s, `cw${i}`));
        const sent: number[] = [];
        const writers = senders.map(async (w) => {
          for (let k = 0; k < 30; k++) {
            sent.push(...await s.enqueue([message(r.id, w.id, k), message(r.id, w.id, k + 100)]));
          }
        });
        const seen: number[] = [];
        let cursor = 0;
        const readPage = async () => {
          const page = await s.pending(r.id, cursor, 100);
          for (const m of page) seen.push(m.qid);
          if (page.length > 0) cursor = page[page.length - 1]!.qid;
          return page.length;
        };
        let writing = true;
        const reader = (async () => {
          for (let i = 0; i < 100_000 && writing; i++) await readPage();
        })();
        await Promise.all(writers);
        writing = false;
        await reader;
        for (let i = 0; i < 100 && await readPage() > 0; i++);
        assert.equal(sent.length, CONCURRENT_WRITERS * 60);
        assert.deepEqual(seen.toSorted((a, b) => a - b), sent.toSorted((a, b) => a - b));
      });
    },
  );

  t("putBackup(), getBackup() and deleteBackup() keep at most one backup per user", async () => {
    await using(h, async (s) => {
      const a = await makeUser(s, "backup");
      assert.equal(await s.getBackup(a.id), null);
      await s.deleteBackup(a.id);
      const first = { blob: filled(70_000, 2), updatedAt: 10 };
      await s.putBackup(a.id, first);
      assert.deepEqual(await s.getBackup(a.id), first);
      const second = { blob: filled(10, 4), updatedAt: 20 };
      await s.putBackup(a.id, second);
      assert.deepEqual(await s.getBackup(a.id), second);
      await s.deleteBackup(a.id);
      assert.equal(await s.getBackup(a.id), null);
      await rejectsWith(s.putBackup(a.id + 1_000_000, first), "not_found");
    });
  });

  t(
    "close() keeps committed data for the next open, and later calls fail unavailable",
    async () => {
      const s1 = await h.open();
      const a = await makeUser(s1, "durable");
      const [qid] = await s1.enqueue([message(a.id, a.id, 1)]);
      await s1.close();
      await s1.close(); // closing twice is harmless
      await rejectsWith(s1.userById(a.id), "unavailable");
      await rejectsWith(s1.enqueue([message(a.id, a.id, 2)]), "unavailable");
      await using(h, async (s2) => {
        assert.equal((await s2.userByDevice(a.deviceKey))?.id, a.id);
        assert.deepEqual((await s2.pending(a.id, 0, 10)).map((m) => m.qid), [qid]);
      });
    },
  );
}
