/**
 * Room messages on MySQL/MariaDB: the statements behind `enqueueRoom` and the clean-up of bodies
 * whose last reference was acknowledged. Each function runs inside the caller's transaction.
 *
 * @module
 */

import type { PoolConnection } from "mysql2/promise";
import type { NewRoomMessage } from "./store.ts";
import { insertChunks, listPlaceholders, padList, rowPlaceholders } from "./statement_shapes.ts";
import { int, refMid } from "./rows.ts";
import { type Param, run, runRows } from "./mysql_run.ts";
import { MAX_IN_LIST } from "./mysql_statements.ts";

/** Stores each body once and a reference per recipient; the qids per message (0: acked). */
export async function insertRoomMessages(
  c: PoolConnection,
  messages: NewRoomMessage[],
): Promise<number[][]> {
  const out: number[][] = [];
  for (const m of messages) {
    // A retry finds the body stored, and every reference not yet acknowledged with it.
    const [found] = await runRows(
      c,
      "SELECT id FROM room_bodies WHERE sender_id = ? AND mid = ? FOR UPDATE",
      [m.senderId, m.mid],
    );
    let bodyId: number;
    if (found === undefined) {
      const made = await run(
        c,
        "INSERT INTO room_bodies (sender_id, sender_name, mid, body, sent_at) VALUES (?, ?, ?, ?, ?)",
        [m.senderId, m.senderName, m.mid, m.body, m.sentAt],
      );
      bodyId = made.insertId;
      await insertRefs(c, bodyId, [...new Set(m.recipientIds)], m.sentAt);
    } else {
      bodyId = int(found.id);
    }
    const qids = await refQids(c, bodyId, m.recipientIds);
    out.push(m.recipientIds.map((rid) => qids.get(rid) ?? 0));
  }
  return out;
}

async function insertRefs(
  c: PoolConnection,
  bodyId: number,
  recipients: number[],
  sentAt: number,
): Promise<void> {
  let at = 0;
  for (const size of insertChunks(recipients.length)) {
    const params: Param[] = [];
    for (const rid of recipients.slice(at, at + size)) {
      params.push(rid, refMid(bodyId, rid), sentAt);
    }
    await run(
      c,
      "INSERT INTO queue (recipient_id, sender_id, sender_name, mid, body, sent_at) VALUES " +
        rowPlaceholders(size, 3).replaceAll("(?,?,?)", "(?,0,'',?,'',?)"),
      params,
    );
    at += size;
  }
  const qids = await refQids(c, bodyId, recipients);
  at = 0;
  const links = [...qids.values()];
  for (const size of insertChunks(links.length)) {
    await run(
      c,
      `INSERT INTO room_refs (qid, body_id) VALUES ${rowPlaceholders(size, 2)}`,
      links.slice(at, at + size).flatMap((qid) => [qid, bodyId]),
    );
    at += size;
  }
}

/** The queued reference of each recipient that still has one, keyed by recipient id. */
async function refQids(
  c: PoolConnection,
  bodyId: number,
  recipients: number[],
): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  const unique = [...new Set(recipients)];
  for (let at = 0; at < unique.length; at += MAX_IN_LIST) {
    const list = padList(unique.slice(at, at + MAX_IN_LIST).map((rid) => refMid(bodyId, rid)));
    const rows = await runRows(
      c,
      `SELECT qid, recipient_id FROM queue WHERE sender_id = 0 AND mid IN (${
        listPlaceholders(list.length)
      })`,
      list,
    );
    for (const r of rows) out.set(int(r.recipient_id), int(r.qid));
  }
  return out;
}

/**
 * The room bodies the recipient's queued references (all, or only those in `qids`) point to,
 * locked so that two recipients acknowledging one body decide its fate one after the other.
 */
export async function lockReferencedBodies(
  c: PoolConnection,
  recipientId: number,
  qids?: number[],
): Promise<number[]> {
  const ids = new Set<number>();
  const lists = qids === undefined ? [null] : chunks(qids);
  for (const list of lists) {
    const rows = await runRows(
      c,
      "SELECT DISTINCT r.body_id AS id FROM room_refs r JOIN queue q ON q.qid = r.qid " +
        "WHERE q.recipient_id = ?" +
        (list === null ? "" : ` AND q.qid IN (${listPlaceholders(list.length)})`),
      [recipientId, ...(list ?? [])],
    );
    for (const r of rows) ids.add(int(r.id));
  }
  const sorted = [...ids].sort((a, b) => a - b);
  for (const list of chunks(sorted)) {
    await runRows(
      c,
      `SELECT id FROM room_bodies WHERE id IN (${listPlaceholders(list.length)}) ` +
        "ORDER BY id FOR UPDATE",
      list,
    );
  }
  return sorted;
}

/** Deletes those of `bodyIds` (locked by the caller) that no reference points to any more. */
export async function deleteUnreferencedBodies(
  c: PoolConnection,
  bodyIds: number[],
): Promise<void> {
  for (const list of chunks(bodyIds)) {
    // A locking read sees the latest committed references, not the transaction's snapshot.
    const rows = await runRows(
      c,
      `SELECT DISTINCT body_id FROM room_refs WHERE body_id IN (${
        listPlaceholders(list.length)
      }) FOR UPDATE`,
      list,
    );
    const held = new Set(rows.map((r) => int(r.body_id)));
    const gone = list.filter((id) => !held.has(id));
    if (gone.length === 0) continue;
    const padded = padList(gone);
    await run(
      c,
      `DELETE FROM room_bodies WHERE id IN (${listPlaceholders(padded.length)})`,
      padded,
    );
  }
}

function chunks(values: number[]): number[][] {
  const out: number[][] = [];
  for (let at = 0; at < values.length; at += MAX_IN_LIST) {
    out.push(padList(values.slice(at, at + MAX_IN_LIST)));
  }
  return out;
}
