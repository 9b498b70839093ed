/**
 * Text as the terminal shows it: how many columns a string takes, made safe to print, cut or
 * wrapped to a width. Everything a peer sends passes through {@linkcode printable} first, because
 * a message is untrusted input and an escape sequence in it could rewrite the screen (fake a
 * safety number, hide a line) or, on some terminals, answer back.
 *
 * @module
 */

import { printable } from "../format.ts";

export { printable };

const SEGMENTER = new Intl.Segmenter(undefined, { granularity: "grapheme" });

// Zero-width: combining marks, joiners, variation selectors.
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\u200B-\u200D\u2060\uFE00-\uFE0F]$/u;
// Two columns: East Asian wide and fullwidth blocks, and pictographs shown as emoji.
const WIDE =
  /[\u1100-\u115F\u2E80-\u303E\u3041-\u33FF\u3400-\u4DBF\u4E00-\u9FFF\uA000-\uA4CF\uAC00-\uD7A3\uF900-\uFAFF\uFE30-\uFE4F\uFF00-\uFF60\uFFE0-\uFFE6\u{1F300}-\u{1F64F}\u{1F900}-\u{1F9FF}\u{20000}-\u{3FFFD}]/u;

/** Columns one grapheme takes. */
export function graphemeWidth(g: string): number {
  if (g.length === 0 || ZERO_WIDTH.test(g)) return 0;
  return WIDE.test(g) || /\p{Extended_Pictographic}\uFE0F/u.test(g) ? 2 : 1;
}

// Printable ASCII: one column per character, one character per grapheme. Most chat text is this,
// and segmenting it with Intl.Segmenter costs a hundred times more than this test.
const PLAIN_ASCII = /^[\x20-\x7e]*$/;

/** The graphemes of `text` (what a person counts as characters). */
export function graphemes(text: string): string[] {
  if (PLAIN_ASCII.test(text)) return text.split("");
  return Array.from(SEGMENTER.segment(text), (s) => s.segment);
}

/** Columns `text` takes (after {@linkcode printable}). */
export function textWidth(text: string): number {
  if (PLAIN_ASCII.test(text)) return text.length;
  let n = 0;
  for (const g of graphemes(text)) n += graphemeWidth(g);
  return n;
}

/** The lines of a message, each made printable (a line break is a new line, never `\uFFFD`). */
export function textLines(text: string): string[] {
  return text.split(/\r\n|\r|\n/).map(printable);
}

/** `text` cut to at most `width` columns, ending in `…` when something was cut. */
export function truncate(text: string, width: number): string {
  if (width <= 0) return "";
  if (textWidth(text) <= width) return text;
  let out = "";
  let used = 0;
  for (const g of graphemes(text)) {
    const w = graphemeWidth(g);
    if (used + w > width - 1) break;
    out += g;
    used += w;
  }
  return out + "…";
}

/** `text` padded with spaces (or cut) to exactly `width` columns. */
export function fit(text: string, width: number): string {
  const t = truncate(text, width);
  return t + " ".repeat(Math.max(0, width - textWidth(t)));
}

/**
 * Wraps `text` into lines of at most `width` columns, breaking at spaces where it can and inside
 * a word only when the word alone is wider than the line. Newlines in `text` start new lines.
 */
export function wrap(text: string, width: number): string[] {
  const w = Math.max(1, width);
  const out: string[] = [];
  for (const paragraph of text.split(/\r?\n/)) {
    let line = "";
    let lineWidth = 0;
    for (const word of paragraph.split(/(?<= )/)) {
      const ww = textWidth(word);
      if (lineWidth + ww <= w) {
        line += word;
        lineWidth += ww;
        continue;
      }
      if (line.trimEnd().length > 0) out.push(line.trimEnd());
      line = "";
      lineWidth = 0;
      for (const g of graphemes(word)) {
        const gw = graphemeWidth(g);
        if (lineWidth + gw > w) {
          out.push(line);
          line = "";
          lineWidth = 0;
        }
        line += g;
        lineWidth += gw;
      }
    }
    out.push(line.trimEnd());
  }
  return out;
}
