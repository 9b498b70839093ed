import assert from "node:assert/strict";
import type { ChatClient, ChatEvents } from "../chat.ts";
import { type Contact, MessageState, type StoredMessage } from "../local_store.ts";
import { type ChatExit, chatScreen, MAX_ENTRIES } from "./chat_screen.ts";
import type { Key } from "./keys.ts";
import type { Terminal } from "./terminal.ts";

/** A terminal that records frames and lets the test press keys. */
class FakeTerminal implements Terminal {
  readonly color = false;
  writes: string[] = [];
  #onKey: ((s: string | undefined, k: Key | undefined) => void) | null = null;
  constructor(readonly columns = 80, readonly rowCount = 24) {}
  size() {
    return { columns: this.columns, rows: this.rowCount };
  }
  write(text: string): void {
    this.writes.push(text);
  }
  readKeys(onKey: (s: string | undefined, k: Key | undefined) => void): () => void {
    this.#onKey = onKey;
    return () => (this.#onKey = null);
  }
  onResize(): () => void {
    return () => {};
  }
  type(text: string): void {
    for (const ch of text) this.#onKey!(ch, { name: ch });
  }
  press(name: string, extra: Key = {}): void {
    this.#onKey!(name === "return" ? "\r" : undefined, { name, ...extra });
  }
  /** The rows of the last whole frame drawn. */
  rows(): string[] {
    const frame = this.writes.findLast((w) => w.startsWith("\x1b[?25l"));
    const rows: string[] = [];
    if (!frame) return rows;
    // deno-lint-ignore no-control-regex
    for (const m of frame.matchAll(/\x1b\[(\d+);1H\x1b\[2K([^\x1b]*)/g)) {
      rows[Number(m[1]) - 1] = m[2]!;
    }
    return rows;
  }
}

let nextMid = 1;
function message(text: string, outgoing = false, state: number = MessageState.received) {
  const mid = new Uint8Array(16);
  new DataView(mid.buffer).setUint32(0, nextMid++);
  return {
    seq: nextMid,
    mid,
    peer: "bob",
    outgoing,
    ts: Date.now(),
    state,
    text,
  } as StoredMessage;
}

/** The parts of the chat core the chat screen uses, in memory. */
class FakeClient {
  listeners = new Map<string, Set<(...a: unknown[]) => void>>();
  sent: string[] = [];
  readMarks = 0;
  contactValue: Contact = {
    username: "bob",
    fullName: "Bob B",
    identity: new Uint8Array(1),
    verified: false,
    pendingIdentity: null,
  };
  historyValue: StoredMessage[] = [];
  on<K extends keyof ChatEvents>(event: K, fn: ChatEvents[K]): () => void {
    const set = this.listeners.get(event) ?? new Set();
    set.add(fn as (...a: unknown[]) => void);
    this.listeners.set(event, set);
    return () => set.delete(fn as (...a: unknown[]) => void);
  }
  emit<K extends keyof ChatEvents>(event: K, ...args: Parameters<ChatEvents[K]>): void {
    for (const fn of this.listeners.get(event) ?? []) fn(...args);
  }
  contact() {
    return Promise.resolve(this.contactValue);
  }
  history() {
    return Promise.resolve(this.historyValue);
  }
  markRead() {
    this.readMarks++;
    return Promise.resolve();
  }
  checkContact() {
    return Promise.resolve();
  }
  acceptIdentity() {
    this.contactValue = { ...this.contactValue, pendingIdentity: null };
    return Promise.resolve();
  }
  rejected = 0;
  rejectIdentity() {
    this.rejected++;
    this.contactValue = { ...this.contactValue, pendingIdentity: null };
    return Promise.resolve();
  }
  send(_peer: string, text: string) {
    this.sent.push(text);
    const m = message(text, true, MessageState.pending);
    this.emit("message", m);
    return Promise.resolve(m);
  }
}

/** Opens the chat screen and waits for its first frame; `done` is how it was left. */
async function open(client: FakeClient, term: FakeTerminal): Promise<{ done: Promise<ChatExit> }> {
  const done = chatScreen(client as unknown as ChatClient, term, "bob", "online");
  await eventually(() => term.rows().length > 0);
  return { done };
}

/** Lets the screen draw what the last events changed (it draws once per burst). */
function drawn(): Promise<void> {
  return new Promise((r) => setTimeout(r, 0));
}

async function eventually(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  assert.ok(cond(), "timed out");
}

Deno.test("chatScreen() redraws the half-typed line under a message that arrives", async () => {
  const client = new FakeClient();
  const term = new FakeTerminal();
  const { done } = await open(client, term);
  term.type("this is half");
  client.emit("message", message("interrupting you"));
  await drawn();
  const rows = term.rows();
  assert.match(rows[22]!, /bob: interrupting you$/);
  assert.equal(rows[23], "> this is half");
  term.type(" and the rest");
  term.press("return");
  await eventually(() => client.sent.length === 1);
  assert.deepEqual(client.sent, ["this is half and the rest"]);
  await eventually(() => client.readMarks >= 2);
  term.press("c", { ctrl: true });
  assert.equal(await done, "quit");
});

Deno.test("chatScreen() refuses to send after an identity change until /accept, then restores the text", async () => {
  const client = new FakeClient();
  client.contactValue = { ...client.contactValue, pendingIdentity: new Uint8Array(2) };
  const term = new FakeTerminal();
  const { done } = await open(client, term);
  assert.match(term.rows()[0]!, /SAFETY NUMBER CHANGED/);
  term.type("are you bob?");
  term.press("return");
  await eventually(() => term.rows().some((r) => r.includes("not sent: bob's safety number")));
  assert.deepEqual(client.sent, []);
  term.type("/accept");
  term.press("return");
  await eventually(() => term.rows()[23] === "> are you bob?");
  assert.doesNotMatch(term.rows()[0]!, /SAFETY NUMBER CHANGED/);
  term.press("return");
  await eventually(() => client.sent.length === 1);
  assert.deepEqual(client.sent, ["are you bob?"]);
  term.type("/back");
  term.press("return");
  assert.equal(await done, "back");
});

Deno.test("chatScreen() /reject refuses the new safety number, drops the held text and lists itself in /help", async () => {
  const client = new FakeClient();
  client.contactValue = { ...client.contactValue, pendingIdentity: new Uint8Array(2) };
  const term = new FakeTerminal();
  const { done } = await open(client, term);
  term.type("/help");
  term.press("return");
  await eventually(() => term.rows().some((r) => /^· \/reject +refuse/.test(r)));
  term.type("are you bob?");
  term.press("return");
  await eventually(() => term.rows().some((r) => r.includes("not sent: bob's safety number")));
  term.type("/reject");
  term.press("return");
  await eventually(() => term.rows().some((r) => r.includes("rejected bob's new safety number")));
  assert.equal(client.rejected, 1);
  assert.deepEqual(client.sent, []);
  assert.equal(term.rows()[23], "> ");
  assert.doesNotMatch(term.rows()[0]!, /SAFETY NUMBER CHANGED/);
  term.type("/back");
  term.press("return");
  assert.equal(await done, "back");
});

Deno.test("chatScreen() keeps MAX_ENTRIES entries and drops the oldest beyond", async () => {
  for (const count of [MAX_ENTRIES, MAX_ENTRIES + 1]) {
    const client = new FakeClient();
    client.historyValue = [message("from the history")];
    const term = new FakeTerminal(80, 6);
    const { done } = await open(client, term);
    for (let i = 1; i < count; i++) client.emit("message", message(`n${i}`));
    await drawn();
    for (let i = 0; i < MAX_ENTRIES; i++) term.press("pageup");
    await drawn();
    const oldest = term.rows()[1]!;
    assert.match(oldest, count === MAX_ENTRIES ? /bob: from the history$/ : /bob: n1$/, `${count}`);
    term.press("c", { ctrl: true });
    assert.equal(await done, "quit");
  }
});
