/**
 * The chat screen as rows of text: a header with the contact and the connection, the
 * conversation wrapped to the width, and the input line at the bottom. A pure function of the
 * view, so every redraw (a message arriving, a receipt, a resize) starts from the same facts and
 * the half-typed input is drawn again exactly where it was.
 *
 * @module
 */

import { MessageState, type StoredMessage } from "../local_store.ts";
import type { MessageActions } from "../room_store.ts";
import { clockTime, connectionText, displayName, stateMark } from "./format.ts";
import { type Line, viewport } from "./line_editor.ts";
import { DELETED_MARK, EDITED_MARK } from "../words.ts";
import { fit, printable, textLines, textWidth, truncate, wrap } from "./text_width.ts";

/** How a note reads: plain information, a warning, or an error. */
export type Tone = "info" | "warn" | "error";

/** Pinned messages drawn under the header at most (the newest pins; the rest are in /info). */
export const MAX_PINNED_ROWS = 3;

/** One thing in the conversation: a message, or a note only this screen shows. */
export type Entry =
  | {
    kind: "message";
    message: StoredMessage;
    /** The number shown beside it, that /reply, /edit and the other actions pick it by. */
    n?: number;
    /** Who wrote it, in a room ("you" for our own). */
    author?: string;
    /** What was done to it: edited, deleted, reactions. */
    actions?: MessageActions;
    /** The start of the message it replies to. */
    quote?: string;
  }
  | { kind: "note"; text: string; tone: Tone };

/** The connection as the screen shows it. */
export type Status = "online" | "reconnecting" | "offline";

/** Everything the chat screen draws. */
export interface ChatView {
  peer: string;
  peerName: string;
  verified: boolean;
  /** The contact's identity changed and is not yet accepted. */
  identityChanged: boolean;
  status: Status;
  /** Shown in the header instead of the contact's name (a room's name, kind and members). */
  title?: string;
  /** Pinned messages, drawn under the header. */
  pinned?: readonly string[];
  entries: readonly Entry[];
  line: Line;
  /** What stands before the input: "> " or a question. */
  prompt: string;
  /** Rows scrolled back from the newest. */
  scroll: number;
  now: number;
}

/** How a row is coloured (the terminal decides whether colour is used at all). */
export type RowStyle = "header" | "plain" | "info" | "warn" | "error";

/** A row of the screen. */
export interface Row {
  text: string;
  style: RowStyle;
}

/** The drawn screen: its rows, where the cursor goes, and how far back one can scroll. */
export interface Frame {
  rows: Row[];
  cursor: { row: number; col: number };
  maxScroll: number;
}

/** Rows a message or note takes at `cols` columns. */
export function entryRows(e: Entry, peer: string, cols: number, now: number): Row[] {
  if (e.kind === "note") {
    const style: RowStyle = e.tone;
    const mark = e.tone === "info" ? "· " : "! ";
    return wrap(printable(e.text), Math.max(1, cols - 2)).map((t, i) => ({
      text: (i === 0 ? mark : "  ") + t,
      style,
    }));
  }
  const m = e.message;
  const who = e.author ?? (m.outgoing ? "you" : peer);
  const prefix = `${e.n ? `${e.n} ` : ""}${clockTime(m.ts, now)} ${who}: `;
  const mark = !m.outgoing
    ? ""
    : m.state === MessageState.failed
    ? `${stateMark(m.state)}: ${m.failure ?? "not taken by the server"} · /retry`
    : stateMark(m.state);
  const deleted = e.actions?.deleted ?? false;
  const lines = textLines(deleted ? DELETED_MARK : m.text);
  if (!deleted && e.actions?.edits.length) lines[lines.length - 1] += ` ${EDITED_MARK}`;
  lines[lines.length - 1] += mark ? `  ${mark}` : "";
  const prefixWidth = textWidth(prefix);
  const around = (body: Row[]): Row[] => {
    const indent = " ".repeat(Math.min(prefixWidth, Math.floor(cols / 2)));
    const reactions = Object.entries(e.actions?.reactions ?? {})
      .map(([u, emoji]) => `${emoji} ${u}`).join("  ");
    return [
      ...(e.quote && !deleted
        ? [{ text: truncate(`${indent}↳ ${e.quote}`, cols), style: "info" as RowStyle }]
        : []),
      ...body,
      ...(reactions && !deleted
        ? [{ text: truncate(indent + reactions, cols), style: "info" as RowStyle }]
        : []),
    ];
  };
  // On a very narrow screen the name gets a row of its own and the text the whole width.
  if (prefixWidth > cols / 2) {
    return around([
      { text: truncate(prefix.trimEnd(), cols), style: "plain" },
      ...lines.flatMap((l) => wrap(l, Math.max(1, cols - 2))).map((t) => ({
        text: "  " + t,
        style: "plain" as RowStyle,
      })),
    ]);
  }
  // Every line of a multi-line message, and every wrapped row, starts under the first's text.
  return around(
    lines.flatMap((l) => wrap(l, cols - prefixWidth)).map((t, i) => ({
      text: (i === 0 ? prefix : " ".repeat(prefixWidth)) + t,
      style: "plain" as RowStyle,
    })),
  );
}

/** The header: who the chat is with, verified or changed, and the connection. */
export function headerText(v: ChatView, cols: number): string {
  const parts = [v.title ?? displayName(v.peer, v.peerName)];
  if (v.identityChanged) parts.push("SAFETY NUMBER CHANGED");
  else if (v.verified) parts.push("verified");
  parts.push(connectionText(v.status));
  if (v.scroll > 0) parts.push("scrolled back: PgDn");
  const right = "/help";
  const left = " " + parts.join(" · ");
  const room = cols - textWidth(right) - 2;
  return room > textWidth(left) + 1 ? fit(left, room) + " " + right + " " : fit(left, cols);
}

/**
 * Rows already wrapped, per entry. Entries are immutable values (a receipt replaces the entry),
 * so an entry's rows change only with the width or the day (times show a date once a day has
 * passed); redrawing for a keypress then wraps nothing again.
 */
export class RowCache {
  #rows = new WeakMap<Entry, { key: string; rows: Row[] }>();

  get(e: Entry, peer: string, cols: number, now: number): Row[] {
    const key = `${cols} ${new Date(now).toDateString()}`;
    const hit = this.#rows.get(e);
    if (hit?.key === key) return hit.rows;
    const rows = entryRows(e, peer, cols, now);
    this.#rows.set(e, { key, rows });
    return rows;
  }
}

/** Draws the chat screen in `cols` × `rows` (reusing wrapped rows from `cache`, if given). */
export function renderChat(v: ChatView, cols: number, rows: number, cache?: RowCache): Frame {
  const width = Math.max(10, cols);
  const height = Math.max(3, rows);
  const pinned: Row[] = (v.pinned ?? []).slice(0, Math.min(MAX_PINNED_ROWS, height - 3)).map((
    t,
  ) => ({
    text: truncate(`📌 ${printable(t)}`, width),
    style: "info",
  }));
  const body = height - 2 - pinned.length;
  const all = v.entries.flatMap((e) =>
    cache ? cache.get(e, v.peer, width, v.now) : entryRows(e, v.peer, width, v.now)
  );
  const maxScroll = Math.max(0, all.length - body);
  const scroll = Math.min(Math.max(0, v.scroll), maxScroll);
  const visible = all.slice(Math.max(0, all.length - body - scroll), all.length - scroll);
  const padding: Row[] = Array.from(
    { length: body - visible.length },
    () => ({ text: "", style: "plain" }),
  );
  const prompt = truncate(v.prompt, Math.max(1, width - 10));
  const promptWidth = textWidth(prompt);
  const input = viewport(v.line, width - promptWidth - 1);
  return {
    rows: [
      { text: headerText({ ...v, scroll }, width), style: "header" },
      ...pinned,
      ...padding,
      ...visible,
      { text: prompt + input.text, style: "plain" },
    ],
    cursor: { row: height - 1, col: promptWidth + input.cursorCol },
    maxScroll,
  };
}
