import assert from "node:assert/strict";
import { clockTime, conversationRow, displayName, nameWithin, stateMark } from "./format.ts";
import { MessageState } from "../local_store.ts";
import { textWidth } from "./text_width.ts";

const NOW = new Date(2030, 5, 15, 12, 0).getTime();

Deno.test("stateMark() shows pending, sent, delivered and read; nothing for incoming", () => {
  assert.deepEqual(
    [
      MessageState.pending,
      MessageState.sent,
      MessageState.delivered,
      MessageState.read,
      MessageState.received,
      MessageState.seen,
    ].map(stateMark),
    ["…", "✓", "✓✓", "✓✓ read", "", ""],
  );
});

Deno.test("clockTime() shows the time today, the date earlier", () => {
  assert.equal(clockTime(new Date(2030, 5, 15, 9, 5).getTime(), NOW), "09:05");
  assert.equal(clockTime(new Date(2030, 2, 1, 9, 5).getTime(), NOW), "03-01 09:05");
  assert.equal(clockTime(new Date(2029, 2, 1, 9, 5).getTime(), NOW), "2029-03-01");
});

Deno.test("displayName() adds the username to a full name, and cleans it", () => {
  assert.equal(displayName("bob", "Bob B"), "Bob B (bob)");
  assert.equal(displayName("bob", ""), "bob");
  assert.equal(displayName("bob", "BOB"), "bob");
  assert.equal(displayName("bob", "B\x1b[31mob"), "B\uFFFD[31mob (bob)");
});

Deno.test("conversationRow() shows name, time, unread count and preview within the width", () => {
  const c = {
    peer: "alice",
    lastText: "see you\nat noon",
    lastTs: new Date(2030, 5, 15, 11, 30).getTime(),
    lastOutgoing: false,
    unread: 2,
  };
  const row = conversationRow(c, "Alice A", 72, NOW);
  assert.match(row, /^Alice A \(alice\) +11:30 {2}2 unread {2}see you at noon$/);
  assert.match(
    conversationRow({ ...c, unread: 0, lastOutgoing: true }, null, 72, NOW),
    /you: see you/,
  );
  for (const w of [20, 40, 72]) {
    assert.ok(textWidth(conversationRow({ ...c, lastText: "x".repeat(200) }, "A", w, NOW)) <= w);
  }
});

Deno.test("conversationRow() is one row of at most the width, the username whole, at 1 to 120 columns", () => {
  const c = {
    peer: "bob_the_builder",
    lastText: "x ".repeat(300),
    lastTs: new Date(2030, 5, 15, 11, 30).getTime(),
    lastOutgoing: false,
    unread: 12,
  };
  for (let w = 1; w <= 120; w++) {
    const row = conversationRow(c, "Bartholomew Longfellow-Smythe", w, NOW);
    assert.ok(textWidth(row) <= w, `${w}: ${row}`);
    assert.ok(!row.includes("\n"));
    if (w >= c.peer.length) assert.match(row, /bob_the_builder/, `${w}: ${row}`);
  }
  assert.equal(nameWithin("bob", "Bartholomew Longfellow", 14), "Barthol… (bob)");
  assert.equal(nameWithin("bob", "Bartholomew Longfellow", 5), "bob  ");
});
