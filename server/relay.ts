/**
 * The relay: a message is acknowledged to its sender only after the commit that holds it, then
 * pushed to its recipient if online. The sender is the session's user, never a claimed field.
 *
 * @module
 */

import { ProtocolError } from "../protocol/errors.ts";
import type { RequestOf } from "../protocol/messages.ts";
import type { ClientConnection } from "./connection.ts";

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
