/**
 * Contract tests for room messages: one body stored, a reference queued per recipient, each
 * deleted on its recipient's ack and the body with the last one.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MAX_BATCH } from "./limits.ts";
import type { NewRoomMessage, Store } from "./store.ts";
import {
  type ContractHarness,
  type EmptyDatabase,
  makeUser,
  message,
  random,
} from "./_contract_fixtures.ts";
import { rejectsWith } from "./_contract_users.ts";

/** A room message from `senderId` to `recipientIds` with a random mid and a body naming `n`. */
export function roomMessage(senderId: number, recipientIds: number[], n: number): NewRoomMessage {
  return {
    recipientIds,
    senderId,
    senderName: `sender${senderId}`,
    mid: random(16),
    body: new TextEncoder().encode(`room body ${n}`),
    sentAt: 1_700_000_000_000 + n,
  };
}

async function withEmpty(h: ContractHarness, fn: (db: EmptyDatabase, s: Store) => Promise<void>) {
  const db = await h.empty();
  try {
    await db.store.migrate();
    await fn(db, db.store);
  } finally {
    await db.drop();
  }
}

async function users(s: Store, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await makeUser(s, `room${i}`)).id);
  return out;
}

const bodies = (db: EmptyDatabase) => db.scalar("SELECT COUNT(*) FROM room_bodies");
const refs = (db: EmptyDatabase) => db.scalar("SELECT COUNT(*) FROM room_refs");

/** Registers the room message tests. */
export function roomContract(h: ContractHarness): void {
  const t = (name: string, fn: () => Promise<void>) => Deno.test(`${h.kind}: ${name}`, fn);

  t(
    "enqueueRoom() stores the body once and each recipient gets it in qid order among direct messages",
    async () => {
      await withEmpty(h, async (db, s) => {
        const [a, b, c, d] = await users(s, 4);
        const [before] = await s.enqueue([message(b!, a!, 1)]);
        const room = roomMessage(a!, [b!, c!, d!], 2);
        const [qids] = await s.enqueueRoom([room]);
        const [after] = await s.enqueue([message(b!, a!, 3)]);
        assert.equal(qids!.length, 3);
        assert.ok(before! < qids![0]! && qids![0]! < after!, `${before} ${qids} ${after}`);
        assert.equal(await bodies(db), 1);
        assert.equal(await db.scalar("SELECT COUNT(*) FROM queue WHERE sender_id = 0"), 3);
        // The body is not copied into the references.
        assert.equal(await db.scalar("SELECT MAX(LENGTH(body)) FROM queue WHERE sender_id = 0"), 0);
        const { recipientIds: _, ...fields } = room;
        for (const [i, rid] of [b!, c!, d!].entries()) {
          const got = await s.pending(rid, 0, 10);
          const mine = got.find((m) => m.qid === qids![i]);
          assert.deepEqual(mine, { ...fields, recipientId: rid, qid: qids![i] });
        }
        assert.deepEqual((await s.pending(b!, 0, 10)).map((m) => m.qid), [before, qids![0], after]);
      });
    },
  );

  t("ack() deletes one recipient's reference; the body goes with the last one", async () => {
    await withEmpty(h, async (db, s) => {
      const [a, b, c] = await users(s, 3);
      const [[qb, qc]] = (await s.enqueueRoom([roomMessage(a!, [b!, c!], 1)])) as [number[]];
      // Another recipient's qid acknowledges nothing.
      assert.equal(await s.ack(b!, [qc!]), 0);
      assert.equal(await s.ack(b!, [qb!]), 1);
      assert.equal(await s.pendingCount(b!), 0);
      assert.equal((await s.pending(c!, 0, 10))[0]?.qid, qc);
      assert.equal(await bodies(db), 1);
      assert.equal(await s.ackMany([{ recipientId: c!, qids: [qc!] }]), 1);
      assert.equal(await bodies(db), 0);
      assert.equal(await refs(db), 0);
    });
  });

  t(
    "enqueueRoom() is idempotent on (senderId, mid): a retry answers the queued qids, 0 once acked",
    async () => {
      await withEmpty(h, async (db, s) => {
        const [a, b, c] = await users(s, 3);
        const room = roomMessage(a!, [b!, c!, b!], 1);
        const [qids] = await s.enqueueRoom([room]);
        // A recipient named twice gets one reference.
        assert.equal(qids![0], qids![2]);
        assert.equal(await refs(db), 2);
        const [again] = await s.enqueueRoom([room, room]).then((r) => [r[0], r[1]]);
        assert.deepEqual(again, qids);
        await s.ack(b!, [qids![0]!]);
        assert.deepEqual((await s.enqueueRoom([room]))[0], [0, qids![1], 0]);
        assert.equal(await s.pendingCount(b!), 0);
        assert.equal(await bodies(db), 1);
      });
    },
  );

  t("enqueueRoom() to an unknown recipient fails with not_found and stores nothing", async () => {
    await withEmpty(h, async (db, s) => {
      const [a, b] = await users(s, 2);
      await rejectsWith(
        s.enqueueRoom([roomMessage(a!, [b!], 1), roomMessage(a!, [b!, a! + 1_000_000], 2)]),
        "not_found",
      );
      assert.equal(await bodies(db), 0);
      assert.equal(await s.pendingCount(b!), 0);
    });
  });

  t("enqueueRoom() takes MAX_BATCH references in all, no more, and needs a recipient", async () => {
    await withEmpty(h, async (db, s) => {
      const [a, b] = await users(s, 2);
      const many = Array.from({ length: MAX_BATCH }, (_, i) => roomMessage(a!, [b!], i));
      assert.equal((await s.enqueueRoom(many)).flat().length, MAX_BATCH);
      await assert.rejects(s.enqueueRoom([...many, roomMessage(a!, [b!], -1)]), RangeError);
      await assert.rejects(s.enqueueRoom([roomMessage(a!, [], 0)]), RangeError);
      assert.deepEqual(await s.enqueueRoom([]), []);
      assert.equal(await bodies(db), MAX_BATCH);
    });
  });

  t("deleteUser() of the last recipient holding a room message deletes its body", async () => {
    await withEmpty(h, async (db, s) => {
      const [a, b, c] = await users(s, 3);
      const [[, qc]] = (await s.enqueueRoom([roomMessage(a!, [b!, c!], 1)])) as [number[]];
      await s.deleteUser(b!);
      assert.equal(await bodies(db), 1);
      await s.ack(c!, [qc!]);
      assert.equal(await bodies(db), 0);
      await s.enqueueRoom([roomMessage(a!, [c!], 2)]);
      await s.deleteUser(c!);
      assert.equal(await bodies(db), 0);
      // A sender's deletion leaves what they sent queued.
      const [d] = await users(s, 1);
      await s.enqueueRoom([roomMessage(a!, [d!], 3)]);
      await s.deleteUser(a!);
      assert.equal(await s.pendingCount(d!), 1);
    });
  });
}
