import assert from "node:assert/strict";
import { keyAction } from "./keys.ts";

Deno.test("keyAction() turns keys into edits, submit and leave", () => {
  assert.deepEqual(keyAction("a", { name: "a", sequence: "a" }), {
    kind: "edit",
    edit: { kind: "insert", text: "a" },
  });
  assert.deepEqual(keyAction("é", undefined), {
    kind: "edit",
    edit: { kind: "insert", text: "é" },
  });
  assert.deepEqual(keyAction("\r", { name: "return" }), { kind: "submit" });
  assert.deepEqual(keyAction(undefined, { name: "c", ctrl: true }), { kind: "interrupt" });
  assert.deepEqual(keyAction(undefined, { name: "u", ctrl: true }), {
    kind: "edit",
    edit: { kind: "killBefore" },
  });
  assert.deepEqual(keyAction(undefined, { name: "left" }), {
    kind: "edit",
    edit: { kind: "left" },
  });
  assert.deepEqual(keyAction(undefined, { name: "pageup" }), { kind: "scroll", by: "pageUp" });
});

Deno.test("keyAction() ignores control characters and unknown escape sequences", () => {
  assert.deepEqual(keyAction("\t", { name: "tab" }), { kind: "none" });
  assert.deepEqual(keyAction("\x1b[99~", { name: "undefined", sequence: "\x1b[99~" }), {
    kind: "none",
  });
  assert.deepEqual(keyAction("\x07", undefined), { kind: "none" });
  assert.deepEqual(keyAction(undefined, { name: "x", ctrl: true }), { kind: "none" });
});
