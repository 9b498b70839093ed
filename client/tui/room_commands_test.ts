import assert from "node:assert/strict";
import { MessageState, type StoredMessage } from "../local_store.ts";
import { noActions } from "../room_store.ts";
import { fullTime } from "./format.ts";
import { historyLines } from "./room_commands.ts";
import { MAX_EDITS_KEPT } from "../room_actions.ts";

const T0 = new Date(2026, 0, 2, 9, 30, 5).getTime();
const message: StoredMessage = {
  seq: 1,
  mid: new Uint8Array(16),
  peer: "bob",
  outgoing: true,
  ts: T0,
  state: MessageState.delivered,
  text: "third\ntry",
};

Deno.test("historyLines() lists each version from when it was written, the current last", () => {
  const a = {
    ...noActions(),
    edits: [{ text: "first", ts: T0 + 60_000 }, { text: "second", ts: T0 + 120_000 }],
  };
  assert.deepEqual(historyLines(4, message, a), [
    "message 4 was edited 2 times; its versions, oldest first:",
    `  ${fullTime(T0)}  first`,
    `  ${fullTime(T0 + 60_000)}  second`,
    // A line break reads as a space: one row per version.
    `  ${fullTime(T0 + 120_000)}  third try  (now)`,
  ]);
  assert.match(historyLines(4, message, { ...a, edits: a.edits.slice(0, 1) })[0]!, /edited once/);
});

Deno.test("historyLines() says when there is no history to show", () => {
  assert.deepEqual(historyLines(2, message, noActions()), ["message 2 was never edited"]);
  assert.deepEqual(historyLines(2, message, { ...noActions(), deleted: true }), [
    "message 2 was deleted for everyone; its versions are gone",
  ]);
});

Deno.test("historyLines() at MAX_EDITS_KEPT cannot say when the oldest kept text was written", () => {
  const edits = (count: number) =>
    Array.from({ length: count }, (_, i) => ({ text: `v${i}`, ts: T0 + (i + 1) * 1000 }));
  const below = historyLines(1, message, { ...noActions(), edits: edits(MAX_EDITS_KEPT - 1) });
  assert.equal(
    below[0],
    `message 1 was edited ${MAX_EDITS_KEPT - 1} times; its versions, oldest first:`,
  );
  assert.equal(below[1], `  ${fullTime(T0)}  v0`);
  const at = historyLines(1, message, { ...noActions(), edits: edits(MAX_EDITS_KEPT) });
  assert.equal(
    at[0],
    `message 1 was edited more than ${MAX_EDITS_KEPT} times; the last ${
      MAX_EDITS_KEPT + 1
    } versions, oldest first:`,
  );
  assert.equal(at[1], "  at an unknown time   v0");
  assert.equal(at[2], `  ${fullTime(T0 + 1000)}  v1`);
  assert.equal(at.length, MAX_EDITS_KEPT + 2);
});

Deno.test("historyLines() shows an edit time no date can hold as unknown", () => {
  const a = { ...noActions(), edits: [{ text: "first", ts: 1e300 }] };
  assert.deepEqual(historyLines(1, message, a), [
    "message 1 was edited once; its versions, oldest first:",
    `  ${fullTime(T0)}  first`,
    "  at an unknown time   third try  (now)",
  ]);
});
