/**
 * The relay: a message is acknowledged to its sender only after the commit that holds it, then
 * pushed to its recipient if online. The sender is the session's user, never a claimed field.
 *
 * @module
 */

import { ProtocolError } from "../protocol/errors.ts";
import type { RequestOf } from "../protocol/messages.ts";
import type { ClientConnection } from "./connection.ts";

/**
 * send_room: stores the body once and queues a reference per recipient; the reply goes out when
 * it is durable. Recipients without an account are skipped and named in the reply, so one
 * deleted account does not block a room; a recipient whose queue is full refuses the whole send,
 * as a 1:1 send is refused, so the sender retries it whole.
 */
export async function sendRoom(
  c: ClientConnection,
  b: RequestOf<"send_room">,
  id: number,
): Promise<null> {
  const s = c.server;
  const recipientIds: number[] = [];
  const unknown: string[] = [];
  const seen = new Set<number>();
  for (const name of b.to) {
    const rid = await s.resolveUser(name);
    if (rid === null) unknown.push(name);
    else if (!seen.has(rid)) {
      seen.add(rid);
      if ((await s.pendingFor(rid)) >= s.limits.maxPendingPerUser) {
        throw new ProtocolError("queue_full", `${name} has too many undelivered messages`);
      }
      recipientIds.push(rid);
    }
  }
  if (recipientIds.length === 0) {
    throw new ProtocolError("no_such_user", "none of the recipients has an account");
  }
  const sender = c.user!;
  const ts = Date.now();
  s.committer.submitRoom({
    recipientIds,
    senderId: sender.id,
    senderName: sender.username,
    mid: b.mid,
    body: b.body,
    sentAt: ts,
  }).then(() => c.sendOk(id, { ts, unknown }), (e) => c.sendError(id, e));
  return null;
}

/** send: queues the message; the reply goes out when it is durable. */
export async function send(c: ClientConnection, b: RequestOf<"send">, id: number): Promise<null> {
  const s = c.server;
  const recipientId = await s.resolveUser(b.to);
  if (recipientId === null) {
    throw new ProtocolError(
      "no_such_user",
      `there is no user ${JSON.stringify(b.to.slice(0, 64))}`,
    );
  }
  if ((await s.pendingFor(recipientId)) >= s.limits.maxPendingPerUser) {
    throw new ProtocolError("queue_full", `${b.to} has too many undelivered messages`);
  }
  const sender = c.user!;
  const ts = Date.now();
  c.due(
    s.committer.submit({
      recipientId,
      senderId: sender.id,
      senderName: sender.username,
      mid: b.mid,
      body: b.body,
      sentAt: ts,
    })
      .then((qid) => c.sendSendOk(id, qid, ts), (e) => c.sendError(id, e)),
  );
  return null;
}
