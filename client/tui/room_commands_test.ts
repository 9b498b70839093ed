import assert from "node:assert/strict";
import { MessageState, type StoredMessage } from "../local_store.ts";
import { noActions } from "../room_store.ts";
import { fullTime } from "./format.ts";
import { historyLines } from "./room_commands.ts";

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
