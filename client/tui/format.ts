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

export { clockTime, connectionText, displayName, fullTime, preview, stateMark } from "../format.ts";

/** Columns of a chat-list row besides the name: time, unread count and the gaps. */
const ROW_HEAD_COLUMNS = 19;
/** Below this width a chat-list row is the username and the unread count, nothing else. */
export const NARROW_ROW_COLUMNS = 30;

/**
 * "Full Name (username)" in exactly `width` columns: the full name is cut first, so the
 * username stays whole whenever it fits at all.
 */
export function nameWithin(username: string, fullName: string | null, width: number): string {
  const full = displayName(username, fullName);
  if (textWidth(full) <= width) return fit(full, width);
  const tail = ` (${username})`;
  const room = width - textWidth(tail);
  if (full !== username && room >= 4) {
    return fit(truncate(preview(fullName ?? "").trim(), room) + tail, width);
  }
  return fit(username, width);
}

/**
 * One chat-list row in `width` columns, never more (so it never wraps onto a second line):
 * name, time, unread count, last message. The username is always shown.
 * "Bob B (bob)      14:05  2 unread  you: see you at…"
 */
export function conversationRow(
  c: ConversationSummary,
  fullName: string | null,
  width: number,
  now = Date.now(),
): string {
  const nameWidth = Math.max(Math.min(24, Math.max(10, Math.floor(width / 4))), textWidth(c.peer));
  if (width < NARROW_ROW_COLUMNS || nameWidth + ROW_HEAD_COLUMNS > width) {
    // The username first: the unread count only where both fit.
    const count = c.unread > 0 ? ` (${c.unread})` : "";
    if (textWidth(c.peer) + count.length <= width) return c.peer + count;
    return truncate(c.peer, width);
  }
  const name = nameWithin(c.peer, fullName, nameWidth);
  const time = clockTime(c.lastTs, now).padStart(5);
  const unread = c.unread > 0 ? `${c.unread} unread` : "";
  const head = `${name}  ${time}  ${unread.padEnd(9)} `;
  const rest = width - textWidth(head);
  const text = (c.lastOutgoing ? "you: " : "") + preview(c.lastText);
  return truncate(head + truncate(text, Math.max(0, rest)), width).trimEnd();
}

/** A room's name and member count as its chat-list row names it: "# Climbers · 3 members". */
export function roomLabel(name: string, members: number): string {
  return `# ${name} · ${members} member${members === 1 ? "" : "s"}`;
}
