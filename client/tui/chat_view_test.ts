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

Deno.test("renderChat() numbers messages and shows edits, deletions, reactions, replies and pins", () => {
  const base = msg("hello all", false, MessageState.seen, 1) as Extract<Entry, { kind: "message" }>;
  const edited: Entry = {
    ...base,
    n: 1,
    author: "alice",
    actions: {
      edits: [{ text: "hello", ts: 0 }],
      deleted: false,
      pinned: true,
      reactions: { bob: "👍" },
    },
  };
  const reply: Entry = {
    ...(msg("on my way", true, MessageState.sent, 2) as Extract<Entry, { kind: "message" }>),
    n: 2,
    author: "you",
    quote: "1 alice: hello all",
  };
  const gone: Entry = {
    ...(msg("secret", false, MessageState.seen, 3) as Extract<Entry, { kind: "message" }>),
    n: 3,
    author: "carol",
    quote: "1 alice: hello all",
    actions: { edits: [], deleted: true, pinned: false, reactions: { bob: "🎉" } },
  };
  const pins = ["1 hello all", "7 b", "8 c", "9 d"];
  const f = renderChat(view({ entries: [edited, reply, gone], pinned: pins }), 60, 20);
  const text = f.rows.map((r) => r.text);
  assert.equal(f.rows.length, 20);
  // At most MAX_PINNED_ROWS (3) pins, under the header.
  assert.deepEqual(text.slice(1, 4), ["📌 1 hello all", "📌 7 b", "📌 8 c"]);
  assert.ok(!text.includes("📌 9 d"));
  const at = text.findIndex((t) => /^1 \d\d:\d\d alice: hello all \(edited\)$/.test(t));
  assert.ok(at > 0, text.join("\n"));
  assert.equal(text[at + 1]!.trim(), "👍 bob");
  assert.equal(text[at + 2]!.trim(), "↳ 1 alice: hello all");
  assert.match(text[at + 3]!, /^2 \d\d:\d\d you: on my way {2}✓$/);
  // A deleted message shows neither its text, its quote nor its reactions.
  assert.match(text[at + 4]!, /^3 \d\d:\d\d carol: \(deleted\)$/);
  assert.ok(!text.some((t) => t.includes("secret") || t.includes("🎉")));
});
