/**
 * How messages, times, delivery states and chat-list rows read on screen. Pure functions of the
 * data and the width, so the screens stay thin and these can be tested without a terminal.
 *
 * @module
 */

import type { ConversationSummary, MessageStateValue } from "../local_store.ts";
import { MessageState } from "../local_store.ts";
import { fit, printable, textWidth, truncate } from "./text_width.ts";

/** The mark after a sent message: pending, sent, delivered, read. Incoming messages have none. */
export function stateMark(state: MessageStateValue): string {
  switch (state) {
    case MessageState.failed:
      return "✗ not sent";
    case MessageState.pending:
      return "…";
    case MessageState.sent:
      return "✓";
    case MessageState.delivered:
      return "✓✓";
    case MessageState.read:
      return "✓✓ read";
    default:
      return "";
  }
}

/**
 * Our own connection to the server, in words that cannot be read as the contact's presence
 * (pesuchat does not show whether a contact is online).
 */
export function connectionText(status: "online" | "reconnecting" | "offline"): string {
  switch (status) {
    case "online":
      return "connected to the server";
    case "reconnecting":
      return "reconnecting to the server…";
    case "offline":
      return "not connected to the server";
  }
}

const pad2 = (n: number) => String(n).padStart(2, "0");

/** "14:05" today, "03-28 14:05" earlier this year, "2024-03-28" before that (local time). */
export function clockTime(ts: number, now = Date.now()): string {
  const d = new Date(ts);
  const n = new Date(now);
  const hm = `${pad2(d.getHours())}:${pad2(d.getMinutes())}`;
  if (d.toDateString() === n.toDateString()) return hm;
  const md = `${pad2(d.getMonth() + 1)}-${pad2(d.getDate())}`;
  if (d.getFullYear() === n.getFullYear()) return `${md} ${hm}`;
  return `${d.getFullYear()}-${md}`;
}

/** "2024-03-28 14:05:09" in local time, for the `receive` command. */
export function fullTime(ts: number): string {
  const d = new Date(ts);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** A one-line preview of a message: newlines as spaces, nothing unprintable. */
export function preview(text: string): string {
  return printable(text.replace(/\s*\r?\n\s*/g, " "));
}

/** "Bob Builder (bob)" or just "bob" when no name is known. */
export function displayName(username: string, fullName?: string | null): string {
  const name = fullName ? preview(fullName).trim() : "";
  return name && name.toLowerCase() !== username ? `${name} (${username})` : username;
}

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
