/**
 * The chat list: every conversation with the contact's name, the time and preview of the last
 * message and the unread count, then "new chat", settings and quit. The list is drawn again when
 * a message, a receipt or a connection change arrives, so unread counts move while it is shown.
 *
 * @module
 */

import type { ChatClient } from "../chat.ts";
import type { Status } from "./chat_view.ts";
import { connectionText, conversationRow, displayName, roomLabel } from "./format.ts";
import { type Choice, choose } from "./prompts.ts";
import { ESC, type Terminal } from "./terminal.ts";
import { truncate } from "./text_width.ts";
import { identityChangedListNotice } from "../words.ts";

/** Delay that gathers a burst of events into one redraw of the list. */
export const LIST_REFRESH_DELAY_MS = 100;
/** Columns the list's marks take before each row, and one spare. */
const LIST_ROW_INSET = 6;
/** Rows the list needs besides the conversations (header, title, extra choices, footer). */
const LIST_CHROME_ROWS = 10;

/** What the user picked in the list. */
export type ListChoice =
  | { kind: "chat"; peer: string }
  | { kind: "newChat" }
  | { kind: "settings" }
  | { kind: "quit" };

/** The header above the list: who is logged in where, and the connection. */
export function listHeader(
  username: string,
  fullName: string,
  server: string,
  status: Status,
  cols: number,
): string {
  return truncate(
    `pesuchat · ${displayName(username, fullName)} on ${server} · ${connectionText(status)}`,
    cols,
  );
}

/**
 * Shows the list until the user picks something. `status()` is read at each redraw; `notice`
 * is shown once under the header (what the last step did, or why it could not).
 */
export async function chatList(
  client: ChatClient,
  term: Terminal,
  status: () => Status,
  notice?: string,
): Promise<ListChoice> {
  // Bounded: each pass either returns or follows an event that changed what the list shows.
  for (;;) {
    // Listening starts before the list is read: an event that lands while it is read (a room
    // just joined) would otherwise leave the list drawn without it until some later event.
    const changed = new AbortController();
    let timer: ReturnType<typeof setTimeout> | null = null;
    const refresh = () => {
      timer ??= setTimeout(() => changed.abort(), LIST_REFRESH_DELAY_MS);
    };
    const off = [
      client.on("message", refresh),
      client.on("state", refresh),
      client.on("connection", refresh),
      client.on("room", refresh),
      client.on("identityChanged", (peer) => {
        notice = identityChangedListNotice(peer);
        refresh();
      }),
      client.on("notice", (_peer, text) => {
        notice = text;
        refresh();
      }),
      client.on("problem", (text) => {
        notice = `pesuchat: ${text}`;
        refresh();
      }),
      // Drawn again from a clear screen at the new size: the select's own redraw after the
      // terminal re-wrapped its rows is what left duplicate rows.
      term.onResize(refresh),
    ];
    let picked: ListChoice | null;
    try {
      picked = await drawAndChoose(changed.signal);
    } finally {
      if (timer) clearTimeout(timer);
      for (const f of off) f();
    }
    if (picked || !changed.signal.aborted) {
      // Whatever comes next (a chat on the alternate screen, a form, the shell) finds no stale
      // list left behind on the screen.
      term.write(ESC.clearScreen);
      return picked ?? { kind: "quit" };
    }
  }

  async function drawAndChoose(signal: AbortSignal): Promise<ListChoice | null> {
    const { columns, rows } = term.size();
    const [roomList, conversations] = await Promise.all([
      client.rooms.list(),
      client.conversations(),
    ]);
    const rooms = new Map(roomList.map((r) => [r.peer, r]));
    // A room with no message yet is listed too, from when we joined it.
    for (const r of rooms.values()) {
      if (!conversations.some((c) => c.peer === r.peer)) {
        conversations.push({
          peer: r.peer,
          lastText: "",
          lastTs: r.joinedAt,
          lastOutgoing: false,
          unread: 0,
        });
      }
    }
    // Newest first, a room just joined among them by when we joined it.
    conversations.sort((a, b) => b.lastTs - a.lastTs);
    const names = await Promise.all(
      conversations.map(async (c) =>
        rooms.has(c.peer) ? null : (await client.contact(c.peer))?.fullName ?? null
      ),
    );
    // The select draws "│  ● " before each label, and a full last column makes some terminals
    // wrap: a label of columns - 6 is one row at any width.
    const rowWidth = Math.max(1, columns - LIST_ROW_INSET);
    const choices: Choice<ListChoice>[] = [
      ...conversations.map((c, i) => ({
        value: { kind: "chat", peer: c.peer } as ListChoice,
        label: conversationRow(
          rooms.has(c.peer)
            ? { ...c, peer: roomLabel(rooms.get(c.peer)!.name, rooms.get(c.peer)!.members.length) }
            : c,
          names[i]!,
          rowWidth,
        ),
      })),
      { value: { kind: "newChat" }, label: "+ New chat" },
      { value: { kind: "settings" }, label: "Settings" },
      { value: { kind: "quit" }, label: "Quit" },
    ];
    term.write(ESC.clearScreen);
    term.write(
      listHeader(client.username, client.fullName, client.server, status(), columns) + "\n",
    );
    for (const line of notice?.split("\n") ?? []) term.write(truncate(line, columns) + "\n");
    notice = undefined;
    return await choose(
      conversations.length === 0 ? "Chats (none yet: start one with New chat)" : "Chats",
      choices,
      { signal, maxItems: Math.max(5, rows - LIST_CHROME_ROWS) },
    );
  }
}
