/**
 * The live chat screen: one conversation, full screen, redrawn whole on every event. Incoming
 * messages, receipts and connection changes redraw the conversation above an input line that is
 * kept as a value ({@linkcode Line}), so whatever was half typed is drawn again untouched below
 * the new message. Its commands are listed in `HELP_LINES` (commands.ts).
 *
 * @module
 */

import { type ChatClient, ChatError } from "../chat.ts";
import { MessageState, type StoredMessage } from "../local_store.ts";
import {
  type ChatView,
  type Entry,
  renderChat,
  RowCache,
  type Status,
  type Tone,
} from "./chat_view.ts";
import { MAX_TEXT_CHARS } from "../content.ts";
import { keyAction, NEW_LINE } from "./keys.ts";
import { edit, EMPTY_LINE, type Line, lineOf, lineText, MAX_INPUT_CHARS } from "./line_editor.ts";
import { explain } from "./problems.ts";
import { HELP_LINES, parseCommand } from "./commands.ts";
import { roomOf, roomTitle, runCommand } from "./room_commands.ts";
import type { RoomInfo } from "../rooms_core.ts";
import type { ActionContent } from "../content_actions.ts";
import {
  acceptedText,
  DELETED_MARK,
  identityChangedText,
  nothingToAcceptText,
  nothingToRejectText,
  notSentIdentityText,
  notVerifiedText,
  rejectedText,
  safetyNumberRows,
  verifiedText,
} from "../words.ts";
import { ESC, frameText, type Terminal } from "./terminal.ts";

/** Messages loaded when a chat opens (older ones stay in the local store). */
export const HISTORY_LIMIT = 200;
/** Notes and messages kept on screen at most; the oldest scroll away for good. */
export const MAX_ENTRIES = 1000;
/** Delay before incoming messages on the open chat are marked read (a burst sends one receipt). */
export const MARK_READ_DELAY_MS = 150;
/** How long leaving the chat waits for a last read receipt to be queued and sent. */
export const LAST_RECEIPT_WAIT_MS = 5_000;

const PROMPT = "> ";

/**
 * How the chat screen was left ("relogin": /retry with no connection coming back by itself;
 * `open`: for another conversation, such as a room just made).
 */
export type ChatExit = "back" | "quit" | "relogin" | { open: string };

/** What the input line is for: a message, or the answer to a question the screen asked. */
type Mode =
  | { kind: "typing" }
  | { kind: "confirmVerify"; acceptToo: boolean };

const HELP = [
  ...HELP_LINES,
  "keys:",
  `Alt-Enter                  a line break; a message holds ${
    MAX_TEXT_CHARS.toLocaleString("en")
  } characters at most`,
  "PgUp/PgDn                  scroll · Ctrl-U clear the line · Ctrl-C or Ctrl-D quit",
];

/** Splits a safety number's twelve groups into three rows of four, as Signal shows them. */
export { safetyNumberRows };

/** Runs the chat with `peer` until the user goes back or quits. */
export function chatScreen(
  client: ChatClient,
  term: Terminal,
  peer: string,
  status: Status,
): Promise<ChatExit> {
  return new ChatScreen(client, term, peer, status).run();
}

class ChatScreen {
  #entries: Entry[] = [];
  #line: Line = EMPTY_LINE;
  #mode: Mode = { kind: "typing" };
  #scroll = 0;
  #maxScroll = 0;
  #peerName = "";
  #verified = false;
  #identityChanged = false;
  /** A message refused because of an identity change; it comes back after /accept. */
  #stash: string | null = null;
  #readTimer: ReturnType<typeof setTimeout> | null = null;
  #done = Promise.withResolvers<ChatExit>();
  #closed = false;
  #rowCache = new RowCache();
  #drawPending = false;
  /** Inside a bracketed paste: Enter is a line break of the pasted text, not "send". */
  #pasting = false;
  /** The "~" that ends a paste marker is still to come (see keys.ts). */
  #markerTilde = false;
  /** The input overflowed and the user was told; told again only after the line is sent. */
  #overflowTold = false;
  /** The room shown, when the conversation is one (`#<id>`). */
  #room: RoomInfo | null = null;
  /** The number the next message on screen gets. */
  #nextNumber = 1;

  constructor(
    readonly client: ChatClient,
    readonly term: Terminal,
    readonly peer: string,
    public status: Status,
  ) {}

  async run(): Promise<ChatExit> {
    const off = [
      this.client.on("message", (m) => this.#onMessage(m)),
      this.client.on("state", (p, mids, state) => this.#onState(p, mids, state)),
      this.client.on("failed", (p, mid, reason) => this.#onFailed(p, mid, reason)),
      this.client.on("identityChanged", (p) => this.#onIdentityChanged(p)),
      this.client.on("connection", (s, detail) => this.#onConnection(s, detail)),
      this.client.on("notice", (p, text) => p === this.peer && this.#note(text, "warn")),
      this.client.on("problem", (text) => this.#note(text, "error")),
      this.client.on("action", (c, _from, a) => c === this.peer && void this.#onAction(a)),
      this.client.on("room", (id) => id === roomOf(this.peer) && void this.#refreshRoom()),
    ];
    this.term.write(ESC.altScreenOn + ESC.pasteOn + ESC.clearScreen);
    const stopKeys = this.term.readKeys((str, key) => this.#onKey(str, key));
    const stopResize = this.term.onResize(() => this.#render());
    try {
      await this.#open();
      this.#render();
      return await this.#done.promise;
    } finally {
      this.#closed = true;
      // A message that arrived just before /back or /quit was on screen: its read receipt goes.
      const lastReceipt = this.#readTimer ? this.client.markRead(this.peer) : null;
      if (this.#readTimer) clearTimeout(this.#readTimer);
      stopResize();
      stopKeys();
      for (const f of off) f();
      this.term.write(ESC.pasteOff + ESC.altScreenOff);
      if (lastReceipt) await withinMs(lastReceipt.catch(() => {}), LAST_RECEIPT_WAIT_MS);
    }
  }

  async #open(): Promise<void> {
    if (roomOf(this.peer) !== null) return await this.#openRoom();
    const [contact, history] = await Promise.all([
      this.client.contact(this.peer),
      this.client.history(this.peer, HISTORY_LIMIT),
    ]);
    this.#peerName = contact?.fullName ?? "";
    this.#verified = contact?.verified ?? false;
    this.#showHistory(history);
    if (history.length === 0) {
      this.#note(`this is the start of your chat with ${this.peer}; /help lists the commands`);
    }
    if (contact?.pendingIdentity) this.#announceIdentityChange();
    this.#markRead(0);
    this.client.checkContact(this.peer).then(() => this.#refreshContact()).catch((e) =>
      this.#note(explain(e).message, "error")
    );
  }

  /** Shows the stored history, numbered from 1. */
  #showHistory(history: StoredMessage[]): void {
    // Messages that arrived while the history loaded are in #entries already: keep them last.
    const early = this.#entries;
    this.#entries = [];
    this.#nextNumber = 1;
    for (const message of history) this.#upsert(message);
    for (const e of early) {
      if (e.kind === "message") this.#upsert(e.message);
      else this.#entries.push(e);
    }
  }

  async #openRoom(): Promise<void> {
    await this.#refreshRoom();
    const history = await this.client.history(this.peer, HISTORY_LIMIT);
    this.#showHistory(history);
    if (history.length === 0) {
      this.#note(
        `this is the start of ${this.#room?.name}; /info lists its members, /help the commands`,
      );
    }
    this.#markRead(0);
  }

  async #refreshRoom(): Promise<void> {
    const id = roomOf(this.peer);
    if (id === null || this.#closed) return;
    this.#room = await this.client.rooms.info(id);
    this.#render();
  }

  /** Draws a message again with what was done to it (edit, deletion, pin, reactions). */
  async #onAction(a: ActionContent): Promise<void> {
    const id = a.target.toHex();
    const i = this.#entries.findLastIndex((e) =>
      e.kind === "message" && e.message.mid.toHex() === id
    );
    if (i < 0) return;
    const e = this.#entries[i] as Extract<Entry, { kind: "message" }>;
    const message = a.t === "edit" ? { ...e.message, text: a.text } : e.message;
    this.#entries[i] = { ...e, message };
    await this.#decorate(message.mid);
    // Replies quote it: an edit or a deletion shows in their quotes too.
    if (a.t !== "edit" && a.t !== "delete") return;
    const replies = this.#entries.flatMap((x) =>
      x.kind === "message" && x.actions?.replyTo === id ? [x.message.mid] : []
    );
    for (const mid of replies) await this.#decorate(mid);
  }

  /** Reads a message's actions, author and the start of what it replies to, then redraws it. */
  async #decorate(mid: Uint8Array): Promise<void> {
    const [actions] = await Promise.all([this.client.rooms.actions(mid)]);
    const id = mid.toHex();
    const i = this.#entries.findLastIndex((e) =>
      e.kind === "message" && e.message.mid.toHex() === id
    );
    if (i < 0 || this.#closed) return;
    const e = this.#entries[i] as Extract<Entry, { kind: "message" }>;
    const to = actions.replyTo
      ? this.#entries.find((x) => x.kind === "message" && x.message.mid.toHex() === actions.replyTo)
      : undefined;
    const quote = to?.kind === "message"
      ? `${to.n ?? ""} ${to.author ?? (to.message.outgoing ? "you" : this.peer)}: ${
        to.actions?.deleted ? DELETED_MARK : to.message.text.split("\n")[0]
      }`
      : actions.replyTo
      ? "a message no longer on screen"
      : undefined;
    const author = roomOf(this.peer) === null
      ? undefined
      : e.message.outgoing
      ? "you"
      : this.client.rooms.author(e.message);
    this.#entries[i] = { ...e, actions, quote, author };
    this.#render();
  }

  async #refreshContact(): Promise<void> {
    const c = await this.client.contact(this.peer);
    if (!c || this.#closed) return;
    this.#peerName = c.fullName;
    this.#verified = c.verified;
    this.#render();
  }

  // -- events ------------------------------------------------------------------------------------

  #onMessage(m: StoredMessage): void {
    if (m.peer !== this.peer) {
      const from = m.peer.startsWith("#") ? "in a room" : `from ${m.peer}`;
      if (!m.outgoing) this.#note(`new message ${from}; /back to see the chat list`);
      return;
    }
    this.#upsert(m);
    if (!m.outgoing) this.#markRead(MARK_READ_DELAY_MS);
    this.#render();
  }

  #onState(peer: string, mids: Uint8Array[], state: StoredMessage["state"]): void {
    if (peer !== this.peer) return;
    const ids = new Set(mids.map((m) => m.toHex()));
    let changed = false;
    this.#entries = this.#entries.map((e) => {
      if (e.kind !== "message" || !ids.has(e.message.mid.toHex()) || e.message.state >= state) {
        return e;
      }
      changed = true;
      return { ...e, message: { ...e.message, state } };
    });
    if (changed) this.#render();
  }

  #onFailed(peer: string, mid: Uint8Array, reason: string): void {
    if (peer !== this.peer) return;
    const id = mid.toHex();
    this.#entries = this.#entries.map((e) =>
      e.kind === "message" && e.message.mid.toHex() === id &&
        e.message.state <= MessageState.pending
        ? { ...e, message: { ...e.message, state: MessageState.failed, failure: reason } }
        : e
    );
    this.#render();
  }

  #onIdentityChanged(peer: string): void {
    if (peer === this.peer) this.#announceIdentityChange();
  }

  #announceIdentityChange(): void {
    if (this.#identityChanged) return;
    this.#identityChanged = true;
    this.#verified = false;
    this.#note(identityChangedText(this.peer), "warn");
  }

  #onConnection(s: Status, detail: string): void {
    this.status = s;
    if (s === "online") this.#note("connected again");
    else if (s === "reconnecting") this.#note(`connection lost (${detail}); reconnecting…`, "warn");
    else this.#note(`not connected: ${detail}`, "error");
  }

  // -- keys and commands -------------------------------------------------------------------------

  #onKey(str: string | undefined, key: Parameters<typeof keyAction>[1]): void {
    if (this.#markerTilde) {
      this.#markerTilde = false;
      if (str === "~") return;
    }
    let a = keyAction(str, key);
    if (a.kind === "submit" && this.#pasting) a = NEW_LINE;
    switch (a.kind) {
      case "edit": {
        const before = this.#line;
        this.#line = edit(before, a.edit);
        if (
          a.edit.kind === "insert" &&
          lineText(this.#line).length < lineText(before).length + a.edit.text.length &&
          lineText(before).length + a.edit.text.length > MAX_INPUT_CHARS && !this.#overflowTold
        ) {
          this.#overflowTold = true;
          this.#note(
            `the input holds at most ${MAX_INPUT_CHARS.toLocaleString("en")} characters; ` +
              "what was typed or pasted beyond that was not added",
            "error",
          );
        }
        break;
      }
      case "paste":
        this.#pasting = a.on;
        this.#markerTilde = a.tilde;
        return;
      case "submit": {
        const text = lineText(this.#line);
        this.#line = EMPTY_LINE;
        this.#overflowTold = false;
        this.#scroll = 0;
        void this.#submit(text);
        break;
      }
      case "interrupt":
        this.#done.resolve("quit");
        return;
      case "eof":
        if (this.#line.chars.length === 0) {
          this.#done.resolve("quit");
          return;
        }
        this.#line = edit(this.#line, { kind: "delete" });
        break;
      case "scroll": {
        const page = Math.max(1, this.term.size().rows - 3);
        this.#scroll = a.by === "pageUp"
          ? Math.min(this.#maxScroll, this.#scroll + page)
          : Math.max(0, this.#scroll - page);
        break;
      }
      case "redraw":
        this.term.write(ESC.clearScreen);
        break;
      case "none":
        return;
    }
    this.#render();
  }

  async #submit(text: string): Promise<void> {
    if (this.#mode.kind === "confirmVerify") {
      const mode = this.#mode;
      this.#mode = { kind: "typing" };
      await this.#answerVerify(/^\s*y(es)?\s*$/i.test(text), mode.acceptToo);
      return;
    }
    const trimmed = text.trim();
    if (trimmed === "") return;
    if (trimmed.startsWith("/") && !trimmed.startsWith("//")) {
      await this.#command(trimmed);
      return;
    }
    await this.#send(trimmed.startsWith("//") ? text.trimStart().slice(1) : text);
  }

  async #command(cmd: string): Promise<void> {
    const parsed = parseCommand(cmd);
    if (!parsed.ok) {
      this.#note(parsed.error, "error");
      return;
    }
    const c = parsed.command;
    if (c.kind !== "simple") {
      await runCommand({
        client: this.client,
        peer: this.peer,
        note: (text, tone) => this.#note(text, tone),
        message: (n) => {
          const e = this.#entries.find((e) => e.kind === "message" && e.n === n);
          return e?.kind === "message" ? e.message : null;
        },
        open: (peer) => this.#done.resolve({ open: peer }),
        refresh: () => this.#refreshRoom(),
      }, c);
      return;
    }
    switch ("/" + c.name) {
      case "/help":
        for (const line of HELP) this.#note(line);
        return;
      case "/back":
        this.#done.resolve("back");
        return;
      case "/quit":
      case "/exit":
        this.#done.resolve("quit");
        return;
      case "/verify":
        await this.#verify();
        return;
      case "/accept":
        await this.#accept();
        return;
      case "/reject":
        await this.#reject();
        return;
      case "/retry":
        await this.#retry();
        return;
    }
  }

  async #send(text: string): Promise<void> {
    if (text.length > MAX_TEXT_CHARS) {
      // Refused before anything is encrypted or sent, and kept for the user to shorten.
      if (lineText(this.#line) === "") this.#line = lineOf(text);
      this.#note(
        `not sent: the message has ${text.length.toLocaleString("en")} characters, and at most ` +
          `${MAX_TEXT_CHARS.toLocaleString("en")} fit in one; shorten it or split it`,
        "error",
      );
      return;
    }
    const room = roomOf(this.peer);
    if (room !== null) {
      try {
        await this.client.rooms.send(room, text);
      } catch (e) {
        if (lineText(this.#line) === "") this.#line = lineOf(text);
        this.#note(`not sent: ${explain(e).message}`, "error");
      }
      return;
    }
    if (this.#identityChanged) {
      this.#stash = text;
      this.#note(notSentIdentityText(this.peer), "error");
      return;
    }
    try {
      await this.client.send(this.peer, text);
    } catch (e) {
      if (e instanceof ChatError && e.code === "identity_changed") {
        this.#announceIdentityChange();
        await this.#send(text);
        return;
      }
      if (lineText(this.#line) === "") this.#line = lineOf(text);
      this.#note(`not sent: ${explain(e).message}`, "error");
    }
  }

  async #retry(): Promise<void> {
    try {
      this.#note("sending again what is not sent yet");
      await this.client.retry();
    } catch (e) {
      if (e instanceof ChatError && e.code === "offline") {
        // Nothing reconnects by itself (another login took the account): log in again, and
        // what waits goes out as soon as the login is done.
        this.#done.resolve("relogin");
        return;
      }
      this.#note(explain(e).message, "error");
    }
  }

  async #verify(): Promise<void> {
    try {
      const number = await this.client.safetyNumber(this.peer);
      this.#note(
        `safety number with ${this.peer}: compare it with the one on ${this.peer}'s screen, ` +
          "side by side or over a call you trust:",
      );
      for (const row of safetyNumberRows(number)) this.#note(`    ${row}`);
      this.#mode = { kind: "confirmVerify", acceptToo: this.#identityChanged };
      this.#render();
    } catch (e) {
      this.#note(explain(e).message, "error");
    }
  }

  async #answerVerify(yes: boolean, acceptToo: boolean): Promise<void> {
    if (!yes) {
      this.#note(notVerifiedText(this.peer));
      return;
    }
    try {
      if (acceptToo) await this.#accept();
      await this.client.markVerified(this.peer);
      this.#verified = true;
      this.#note(verifiedText(this.peer));
    } catch (e) {
      this.#note(explain(e).message, "error");
    }
  }

  async #accept(): Promise<void> {
    if (!this.#identityChanged) {
      this.#note(nothingToAcceptText(this.peer));
      return;
    }
    try {
      await this.client.acceptIdentity(this.peer);
      this.#identityChanged = false;
      this.#note(acceptedText(this.peer));
      if (this.#stash !== null && lineText(this.#line) === "") this.#line = lineOf(this.#stash);
      this.#stash = null;
      this.#render();
    } catch (e) {
      this.#note(explain(e).message, "error");
    }
  }

  async #reject(): Promise<void> {
    if (!this.#identityChanged) {
      this.#note(nothingToRejectText(this.peer));
      return;
    }
    try {
      await this.client.rejectIdentity(this.peer);
      this.#identityChanged = false;
      this.#stash = null;
      this.#note(rejectedText(this.peer), "warn");
    } catch (e) {
      this.#note(explain(e).message, "error");
    }
  }

  // -- state and drawing -------------------------------------------------------------------------

  #upsert(m: StoredMessage): void {
    const id = m.mid.toHex();
    const i = this.#entries.findLastIndex((e) =>
      e.kind === "message" && e.message.mid.toHex() === id
    );
    if (i >= 0) {
      const old = (this.#entries[i] as { message: StoredMessage }).message;
      // A receipt may have raised the state already; never show it going back.
      const state = m.outgoing && old.state > m.state ? old.state : m.state;
      const e = this.#entries[i] as Extract<Entry, { kind: "message" }>;
      this.#entries[i] = { ...e, message: { ...m, state } };
    } else {
      this.#entries.push({ kind: "message", message: m, n: this.#nextNumber++ });
      this.#trim();
      void this.#decorate(m.mid).catch(() => {});
    }
  }

  #note(text: string, tone: Tone = "info"): void {
    if (this.#closed) return;
    this.#entries.push({ kind: "note", text, tone });
    this.#trim();
    this.#render();
  }

  #trim(): void {
    if (this.#entries.length > MAX_ENTRIES) {
      this.#entries.splice(0, this.#entries.length - MAX_ENTRIES);
    }
  }

  #markRead(delay: number): void {
    if (this.#readTimer) return;
    this.#readTimer = setTimeout(() => {
      this.#readTimer = null;
      if (this.#closed) return;
      this.client.markRead(this.peer).catch((e) => this.#note(explain(e).message, "error"));
    }, delay);
  }

  #view(): ChatView {
    const verifying = this.#mode.kind === "confirmVerify";
    return {
      peer: this.peer,
      peerName: this.#peerName,
      verified: this.#verified,
      identityChanged: this.#identityChanged,
      status: this.status,
      title: this.#room ? roomTitle(this.#room) : undefined,
      pinned: this.#entries.flatMap((e) =>
        e.kind === "message" && e.actions?.pinned && !e.actions.deleted
          ? [`${e.n} ${e.message.text.split("\n")[0]}`]
          : []
      ).reverse(),
      entries: this.#entries,
      line: this.#line,
      prompt: verifying
        ? (this.#mode.kind === "confirmVerify" && this.#mode.acceptToo
          ? `numbers match? accept and mark ${this.peer} verified [y/N] `
          : `numbers match? mark ${this.peer} verified [y/N] `)
        : PROMPT,
      scroll: this.#scroll,
      now: Date.now(),
    };
  }

  /**
   * Draws once after the current burst: the keys of a paste, or a batch of messages, arrive in
   * one turn of the event loop and make a single frame.
   */
  #render(): void {
    if (this.#drawPending || this.#closed) return;
    this.#drawPending = true;
    queueMicrotask(() => {
      this.#drawPending = false;
      this.#draw();
    });
  }

  #draw(): void {
    if (this.#closed) return;
    const { columns, rows } = this.term.size();
    const frame = renderChat(this.#view(), columns, rows, this.#rowCache);
    this.#maxScroll = frame.maxScroll;
    this.#scroll = Math.min(this.#scroll, frame.maxScroll);
    this.term.write(frameText(frame.rows, frame.cursor, this.term.color));
  }
}

/** Waits for `p`, or `ms` at most. */
async function withinMs(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([p, new Promise((r) => timer = setTimeout(r, ms))]);
  clearTimeout(timer);
}
