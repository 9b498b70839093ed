import assert from "node:assert/strict";
import { MessageState, type MessageStateValue, type StoredMessage } from "../local_store.ts";
import { type ChatView, type Entry, renderChat } from "./chat_view.ts";
import { lineOf } from "./line_editor.ts";
import { textWidth } from "./text_width.ts";

const NOW = new Date(2030, 0, 15, 12, 0).getTime();

function msg(text: string, outgoing: boolean, state: MessageStateValue, i = 0): Entry {
  const message: StoredMessage = {
    seq: i,
    mid: new Uint8Array(16).fill(i),
    peer: "bob",
    outgoing,
    ts: NOW - 60_000,
    state,
    text,
  };
  return { kind: "message", message };
}

function view(over: Partial<ChatView> = {}): ChatView {
  return {
    peer: "bob",
    peerName: "Bob B",
    verified: false,
    identityChanged: false,
    status: "online",
    entries: [],
    line: lineOf(""),
    prompt: "> ",
    scroll: 0,
    now: NOW,
    ...over,
  };
}

Deno.test("renderChat() fills the screen: header, conversation at the bottom, input last", () => {
  const f = renderChat(view({ entries: [msg("hi", false, MessageState.seen)] }), 80, 24);
  assert.equal(f.rows.length, 24);
  assert.match(f.rows[0]!.text, /^ Bob B \(bob\) · connected to the server +\/help $/);
  assert.equal(f.rows[22]!.text, "11:59 bob: hi");
  assert.equal(f.rows[23]!.text, "> ");
  assert.deepEqual(f.cursor, { row: 23, col: 2 });
});

Deno.test("renderChat() draws the half-typed line unchanged after a new message arrives", () => {
  const line = lineOf("this is half");
  const before = renderChat(view({ line }), 80, 24);
  const after = renderChat(
    view({ line, entries: [msg("interrupting you", false, MessageState.received)] }),
    80,
    24,
  );
  assert.equal(after.rows[22]!.text, "11:59 bob: interrupting you");
  assert.equal(after.rows[23]!.text, "> this is half");
  assert.deepEqual(after.cursor, before.cursor);
});

Deno.test("renderChat() marks sent messages pending, sent, delivered and read", () => {
  const states = [
    MessageState.pending,
    MessageState.sent,
    MessageState.delivered,
    MessageState.read,
  ];
  const f = renderChat(
    view({ entries: states.map((s, i) => msg(`m${i}`, true, s, i)) }),
    80,
    24,
  );
  assert.deepEqual(f.rows.slice(19, 23).map((r) => r.text), [
    "11:59 you: m0  …",
    "11:59 you: m1  ✓",
    "11:59 you: m2  ✓✓",
    "11:59 you: m3  ✓✓ read",
  ]);
});

Deno.test("renderChat() keeps every row within the width and wraps long messages", () => {
  const long = "word ".repeat(60).trim();
  for (const [cols, rows] of [[80, 24], [40, 10], [12, 5]]) {
    const f = renderChat(
      view({
        entries: [msg(long, true, MessageState.read), msg("日本語".repeat(30), false, 11, 1)],
        line: lineOf("x".repeat(200)),
        identityChanged: true,
      }),
      cols,
      rows,
    );
    assert.equal(f.rows.length, rows);
    for (const r of f.rows) assert.ok(textWidth(r.text) <= cols, `${cols}: ${r.text}`);
    assert.ok(f.cursor.col < cols);
  }
});

Deno.test("renderChat() shows what the header must: a changed identity, verified, the connection", () => {
  const header = (v: Partial<ChatView>) => renderChat(view(v), 80, 24).rows[0]!.text;
  assert.match(header({ identityChanged: true }), /SAFETY NUMBER CHANGED/);
  assert.match(header({ verified: true }), /· verified ·/);
  assert.match(header({ status: "reconnecting" }), /· reconnecting/);
});

Deno.test("renderChat() scrolls back by rows and clamps at the oldest", () => {
  const entries = Array.from({ length: 40 }, (_, i) => msg(`n${i}`, false, 11, i));
  const bottom = renderChat(view({ entries }), 80, 12);
  assert.equal(bottom.maxScroll, 30);
  assert.equal(bottom.rows[10]!.text, "11:59 bob: n39");
  const back = renderChat(view({ entries, scroll: 5 }), 80, 12);
  assert.equal(back.rows[10]!.text, "11:59 bob: n34");
  assert.match(back.rows[0]!.text, /scrolled back/);
  const top = renderChat(view({ entries, scroll: 999 }), 80, 12);
  assert.equal(top.rows[1]!.text, "11:59 bob: n0");
});

Deno.test("renderChat() shows a peer's escape sequences as harmless text", () => {
  const f = renderChat(view({ entries: [msg("\x1b[2J\x1b[Hgotcha", false, 11)] }), 80, 24);
  assert.ok(!f.rows.some((r) => r.text.includes("\x1b")));
  assert.equal(f.rows[22]!.text, "11:59 bob: \uFFFD[2J\uFFFD[Hgotcha");
});
