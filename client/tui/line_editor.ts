/**
 * The chat screen's input line as a value: graphemes and a cursor. Every edit returns a new
 * line and leaves the old one alone, so the screen can redraw the half-typed line exactly as it
 * was after a message arrives in the middle of typing.
 *
 * @module
 */

import { MAX_TEXT_CHARS } from "../content.ts";
import { graphemes, graphemeWidth, textLines, textWidth } from "./text_width.ts";

/**
 * Longest input, in UTF-16 code units. Longer than a message may be, so a paste that is too
 * long is kept whole and refused with its length when sent, never cut short without a word;
 * this bound only keeps memory in check, and the screen says when it dropped anything.
 */
export const MAX_INPUT_CHARS = 4 * MAX_TEXT_CHARS;

/** How a line break in the input shows on its single row. */
export const LINE_BREAK_MARK = "↵";

/** The input line: its graphemes and the cursor (0 = before the first). */
export interface Line {
  readonly chars: readonly string[];
  readonly cursor: number;
}

/** An edit of the input line. */
export type Edit =
  | { kind: "insert"; text: string }
  | { kind: "backspace" }
  | { kind: "delete" }
  | { kind: "left" }
  | { kind: "right" }
  | { kind: "wordLeft" }
  | { kind: "wordRight" }
  | { kind: "home" }
  | { kind: "end" }
  | { kind: "killBefore" }
  | { kind: "killAfter" }
  | { kind: "killWordBefore" };

/** The empty line. */
export const EMPTY_LINE: Line = Object.freeze({ chars: Object.freeze([]), cursor: 0 });

/** A line holding `text` with the cursor at its end. */
export function lineOf(text: string): Line {
  return edit(EMPTY_LINE, { kind: "insert", text });
}

/** The text of a line. */
export function lineText(l: Line): string {
  return l.chars.join("");
}

function make(chars: readonly string[], cursor: number): Line {
  return { chars, cursor: Math.max(0, Math.min(cursor, chars.length)) };
}

function wordStart(l: Line): number {
  let i = l.cursor;
  while (i > 0 && l.chars[i - 1] === " ") i--;
  while (i > 0 && l.chars[i - 1] !== " ") i--;
  return i;
}

function wordEnd(l: Line): number {
  let i = l.cursor;
  while (i < l.chars.length && l.chars[i] === " ") i++;
  while (i < l.chars.length && l.chars[i] !== " ") i++;
  return i;
}

/**
 * Applies an edit. An insert keeps only printable text and line breaks, and stops at
 * {@linkcode MAX_INPUT_CHARS} (what does not fit is dropped, whole graphemes only).
 */
export function edit(l: Line, e: Edit): Line {
  const { chars, cursor } = l;
  switch (e.kind) {
    case "insert": {
      const clean = textLines(e.text).map((t) => t.replace(/\uFFFD/g, "")).join("\n");
      let room = MAX_INPUT_CHARS - lineText(l).length;
      const added: string[] = [];
      for (const g of graphemes(clean)) {
        if (g.length > room) break;
        added.push(g);
        room -= g.length;
      }
      if (added.length === 0) return l;
      return make(
        [...chars.slice(0, cursor), ...added, ...chars.slice(cursor)],
        cursor + added.length,
      );
    }
    case "backspace":
      if (cursor === 0) return l;
      return make([...chars.slice(0, cursor - 1), ...chars.slice(cursor)], cursor - 1);
    case "delete":
      if (cursor === chars.length) return l;
      return make([...chars.slice(0, cursor), ...chars.slice(cursor + 1)], cursor);
    case "left":
      return make(chars, cursor - 1);
    case "right":
      return make(chars, cursor + 1);
    case "wordLeft":
      return make(chars, wordStart(l));
    case "wordRight":
      return make(chars, wordEnd(l));
    case "home":
      return make(chars, 0);
    case "end":
      return make(chars, chars.length);
    case "killBefore":
      return make(chars.slice(cursor), 0);
    case "killAfter":
      return make(chars.slice(0, cursor), cursor);
    case "killWordBefore": {
      const start = wordStart(l);
      return make([...chars.slice(0, start), ...chars.slice(cursor)], start);
    }
  }
}

/**
 * The part of the line that fits in `width` columns, scrolled so the cursor stays visible, and
 * the cursor's column within it. Keeping the input on one row means a redraw never has to know
 * how the terminal wrapped it.
 */
export function viewport(l: Line, width: number): { text: string; cursorCol: number } {
  const w = Math.max(1, width);
  const shown = l.chars.map((g) => g === "\n" ? LINE_BREAK_MARK : g);
  const widths = shown.map(graphemeWidth);
  let start = 0;
  let before = widths.slice(0, l.cursor).reduce((a, b) => a + b, 0);
  // Leave a column for the cursor itself at the end of a long line.
  while (before >= w && start < l.cursor) {
    before -= widths[start]!;
    start++;
  }
  let text = "";
  let used = 0;
  for (let i = start; i < l.chars.length; i++) {
    if (used + widths[i]! > w) break;
    text += shown[i];
    used += widths[i]!;
  }
  return { text, cursorCol: textWidth(shown.slice(start, l.cursor).join("")) };
}
