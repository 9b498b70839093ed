import assert from "node:assert/strict";
import { fit, printable, textWidth, truncate, wrap } from "./text_width.ts";

Deno.test("printable() makes escape sequences, control characters and bidi overrides inert", () => {
  assert.equal(printable("a\x1b[2Jb"), "a\uFFFD[2Jb");
  assert.equal(printable("x\r\n\x07\x9b"), "x\uFFFD\uFFFD\uFFFD\uFFFD");
  assert.equal(printable("abc\u202Edef"), "abc\uFFFDdef");
  assert.equal(printable("tab\there"), "tab here");
  assert.equal(printable("ünïcödé 日本 👍"), "ünïcödé 日本 👍");
});

Deno.test("textWidth() counts wide characters as two columns and combining marks as none", () => {
  assert.equal(textWidth("abc"), 3);
  assert.equal(textWidth("日本"), 4);
  assert.equal(textWidth("e\u0301"), 1);
  assert.equal(textWidth("👍"), 2);
});

Deno.test("truncate() and fit() cut to the width with an ellipsis", () => {
  assert.equal(truncate("hello world", 8), "hello w…");
  assert.equal(truncate("hello", 5), "hello");
  assert.equal(truncate("日本語", 4), "日…");
  assert.equal(truncate("x", 0), "");
  assert.equal(fit("ab", 4), "ab  ");
  assert.equal(fit("abcdef", 4), "abc…");
});

Deno.test("wrap() breaks at spaces, splits long words, and keeps newlines", () => {
  assert.deepEqual(wrap("the quick brown fox", 10), ["the quick", "brown fox"]);
  assert.deepEqual(wrap("abcdefghijkl", 5), ["abcde", "fghij", "kl"]);
  assert.deepEqual(wrap("one\ntwo", 10), ["one", "two"]);
  assert.deepEqual(wrap("", 10), [""]);
  for (const line of wrap("a somewhat longer sentence with 日本語 inside it", 7)) {
    assert.ok(textWidth(line) <= 7, line);
  }
});
