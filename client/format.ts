/**
 * How messages, times, delivery states and names read, in every face of the client (the
 * terminal and the web interface): pure functions of the data, so they can be tested alone.
 * Everything a peer sends that is shown passes through {@linkcode printable} first, because a
 * message or a name is untrusted input: an escape sequence could rewrite a terminal, and a
 * bidirectional override could reorder what follows it on any screen.
 *
 * @module
 */

import type { MessageStateValue } from "./local_store.ts";
import { MessageState } from "./local_store.ts";

// Control characters and the bidirectional overrides that can reorder what follows them.
const UNSAFE = /[\p{Cc}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/gu;

/**
 * `text` with control characters and bidi overrides made visible as `�`, so nothing in it can
 * move the cursor, change colours or reorder the line. Tabs become a space.
 */
export function printable(text: string): string {
  return text.replace(/\t/g, " ").replace(UNSAFE, "\uFFFD");
}

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
