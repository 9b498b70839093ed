import assert from "node:assert/strict";
import {
  edit,
  EMPTY_LINE,
  type Line,
  lineOf,
  lineText,
  MAX_INPUT_CHARS,
  viewport,
} from "./line_editor.ts";

function apply(l: Line, ...edits: Parameters<typeof edit>[1][]): Line {
  return edits.reduce(edit, l);
}

Deno.test("edit() inserts at the cursor and returns a new line, leaving the old one alone", () => {
  const a = lineOf("helo");
  const b = apply(a, { kind: "left" }, { kind: "insert", text: "l" });
  assert.equal(lineText(b), "hello");
  assert.equal(b.cursor, 4);
  assert.equal(lineText(a), "helo");
  assert.equal(a.cursor, 4);
});

Deno.test("edit() moves, deletes and kills by grapheme and by word", () => {
  const l = lineOf("one two three");
  assert.equal(lineText(apply(l, { kind: "killWordBefore" })), "one two ");
  assert.equal(lineText(apply(l, { kind: "wordLeft" }, { kind: "killBefore" })), "three");
  assert.equal(
    lineText(apply(l, { kind: "home" }, { kind: "wordRight" }, { kind: "killAfter" })),
    "one",
  );
  assert.equal(lineText(apply(l, { kind: "home" }, { kind: "delete" })), "ne two three");
  assert.equal(lineText(apply(l, { kind: "backspace" })), "one two thre");
  assert.equal(apply(l, { kind: "home" }, { kind: "left" }).cursor, 0);
  assert.equal(apply(l, { kind: "right" }).cursor, l.chars.length);
  // A family emoji is one grapheme: one backspace removes all of it.
  assert.equal(lineText(apply(lineOf("a👨‍👩‍👧"), { kind: "backspace" })), "a");
});

Deno.test("edit() drops control characters and escape sequences from typed text", () => {
  assert.equal(lineText(lineOf("a\x1b[31mb\x07c\u202Ed")), "a[31mbcd");
});

Deno.test("edit() accepts MAX_INPUT_CHARS characters and refuses one more", () => {
  const full = lineOf("x".repeat(MAX_INPUT_CHARS));
  assert.equal(lineText(full).length, MAX_INPUT_CHARS);
  assert.equal(edit(full, { kind: "insert", text: "y" }), full);
  const almost = lineOf("x".repeat(MAX_INPUT_CHARS - 1));
  assert.equal(lineText(edit(almost, { kind: "insert", text: "yz" })).length, MAX_INPUT_CHARS);
  // A grapheme that does not fit whole is left out whole.
  assert.equal(lineText(edit(almost, { kind: "insert", text: "👍" })).length, MAX_INPUT_CHARS - 1);
});

Deno.test("viewport() scrolls a long line so the cursor stays visible", () => {
  const l = lineOf("abcdefghij");
  assert.deepEqual(viewport(l, 20), { text: "abcdefghij", cursorCol: 10 });
  const v = viewport(l, 5);
  assert.equal(v.text, "ghij");
  assert.equal(v.cursorCol, 4);
  const home = viewport(edit(l, { kind: "home" }), 5);
  assert.deepEqual(home, { text: "abcde", cursorCol: 0 });
  assert.deepEqual(viewport(EMPTY_LINE, 5), { text: "", cursorCol: 0 });
  // Wide characters count two columns.
  assert.deepEqual(viewport(lineOf("日本語"), 4), { text: "語", cursorCol: 2 });
});
