/**
 * Room messages on SQLite: the statements behind `enqueueRoom` and the clean-up of bodies whose
 * last reference was acknowledged. Each function runs inside the caller's transaction.
 *
 * @module
 */

import type { NewRoomMessage } from "./store.ts";
import type { SqliteConnection } from "./sqlite_connection.ts";
import { int, refMid, type Row } from "./rows.ts";

/** Stores each body once and a reference per recipient; the qids per message (0: acked). */
export function insertRoomMessages(db: SqliteConnection, messages: NewRoomMessage[]): number[][] {
  const insertBody = db.stmt(
    "INSERT INTO room_bodies (sender_id, sender_name, mid, body, sent_at) " +
      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (sender_id, mid) DO NOTHING",
  );
  const insertRef = db.stmt(
    "INSERT INTO queue (recipient_id, sender_id, sender_name, mid, body, sent_at) " +
      "VALUES (?, 0, '', ?, X'', ?) ON CONFLICT (sender_id, mid) DO NOTHING",
  );
  const link = db.stmt("INSERT INTO room_refs (qid, body_id) VALUES (?, ?)");
  const out: number[][] = [];
  for (const m of messages) {
    const made = insertBody.run(m.senderId, m.senderName, m.mid, m.body, m.sentAt);
    if (made.changes === 1) {
      const bodyId = Number(made.lastInsertRowid);
      out.push(m.recipientIds.map((rid) => {
        const ref = insertRef.run(rid, refMid(bodyId, rid), m.sentAt);
        // A recipient named twice gets one reference.
        if (ref.changes === 0) return refQid(db, bodyId, rid);
        const qid = Number(ref.lastInsertRowid);
        link.run(qid, bodyId);
        return qid;
      }));
      continue;
    }
    // A retry: the body is stored, and so is every reference not yet acknowledged.
    const row = db.stmt("SELECT id FROM room_bodies WHERE sender_id = ? AND mid = ?")
      .get(m.senderId, m.mid) as Row;
    const bodyId = int(row.id);
    out.push(m.recipientIds.map((rid) => refQid(db, bodyId, rid)));
  }
  return out;
}

function refQid(db: SqliteConnection, bodyId: number, recipientId: number): number {
  const row = db.stmt("SELECT qid FROM queue WHERE sender_id = 0 AND mid = ?")
    .get(refMid(bodyId, recipientId)) as Row | undefined;
  return row === undefined ? 0 : int(row.qid);
}

/**
 * The room bodies the recipient's queued references point to: all of them, or those among
 * `qidsJson` (there, a superset: whoever's the qids are).
 */
export function referencedBodies(
  db: SqliteConnection,
  recipientId: number,
  qidsJson?: string,
): number[] {
  const rows = qidsJson === undefined
    ? db.stmt(
      "SELECT DISTINCT r.body_id AS id FROM room_refs r JOIN queue q ON q.qid = r.qid " +
        "WHERE q.recipient_id = ?",
    ).all(recipientId)
    // Without the join to the queue (the DELETE that follows reads those rows anyway): a qid that
    // is not this recipient's only adds a body to check, and a body is deleted only once no
    // reference points to it.
    : db.stmt(
      "SELECT DISTINCT body_id AS id FROM room_refs WHERE qid IN (SELECT value FROM json_each(?))",
    ).all(qidsJson);
  return (rows as Row[]).map((r) => int(r.id));
}

/** Deletes those of `bodyIds` that no reference points to any more. */
export function deleteUnreferencedBodies(db: SqliteConnection, bodyIds: number[]): void {
  if (bodyIds.length === 0) return;
  db.stmt(
    "DELETE FROM room_bodies WHERE id IN (SELECT value FROM json_each(?)) " +
      "AND NOT EXISTS (SELECT 1 FROM room_refs WHERE body_id = room_bodies.id)",
  ).run(JSON.stringify(bodyIds));
}
