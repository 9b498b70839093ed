/**
 * How chat-list rows read in the terminal: a pure function of the data and the width, so the
 * screens stay thin and it can be tested without a terminal. Times, marks and names are shared
 * with the web interface, from client/format.ts.
 *
 * @module
 */

import type { ConversationSummary } from "../local_store.ts";
import { clockTime, displayName, preview } from "../format.ts";
import { fit, textWidth, truncate } from "./text_width.ts";

export { clockTime, displayName, fullTime, preview, stateMark } from "../format.ts";

/**
 * One chat-list row in `width` columns: name, time, unread count, last message.
 * "Bob B (bob)      14:05  2 unread  you: see you at…"
 */
export function conversationRow(
  c: ConversationSummary,
  fullName: string | null,
  width: number,
  now = Date.now(),
): string {
  const nameWidth = Math.min(24, Math.max(10, Math.floor(width / 4)));
  const name = fit(displayName(c.peer, fullName), nameWidth);
  const time = clockTime(c.lastTs, now).padStart(5);
  const unread = c.unread > 0 ? `${c.unread} unread` : "";
  const head = `${name}  ${time}  ${unread.padEnd(9)} `;
  const rest = width - textWidth(head);
  const text = (c.lastOutgoing ? "you: " : "") + preview(c.lastText);
  return truncate(head + truncate(text, Math.max(0, rest)), width).trimEnd();
}
