/**
 * What the web interface shows of rooms (their rows in the chat list, their members and rules in
 * their chat) and, in rooms and 1:1 chats alike, of every message what was done to it (edited,
 * with its earlier texts; deleted, pinned, reactions, the message it replies to). Read from the
 * chat core; nothing decided here.
 *
 * @module
 */

import type { ChatClient } from "../chat.ts";
import { clockTime, preview } from "../format.ts";
import type { StoredMessage } from "../local_store.ts";
import { isReaction } from "../reaction.ts";
import { DELETED_MARK } from "../words.ts";
import type { MessageView, RoomView, RowView, VersionView } from "./view.ts";

/** How much of the replied-to message a quote shows. */
export const QUOTE_CHARS = 80;

const hex = (b: Uint8Array) => b.toHex();

/** The chat list's rows, with each room's name and member count, and rooms without messages. */
export async function withRooms(client: ChatClient, rows: RowView[]): Promise<RowView[]> {
  const rooms = await client.rooms.list();
  const byPeer = new Map(rooms.map((r) => [r.peer, r]));
  const out = rows.map((row) => {
    const r = byPeer.get(row.peer);
    return r ? { ...row, name: r.name, members: r.members.length } : row;
  });
  for (const r of rooms) {
    if (!rows.some((row) => row.peer === r.peer)) {
      out.push({
        peer: r.peer,
        name: r.name,
        time: "",
        unread: 0,
        preview: "",
        members: r.members.length,
      });
    }
  }
  return out;
}

/** The room `peer` (`#id`) as its chat screen shows it. */
export async function roomView(
  client: ChatClient,
  peer: string,
  invite: string | undefined,
): Promise<{ title: string; room: RoomView }> {
  const r = await client.rooms.info(peer.slice(1));
  return {
    title: r.kind === "channel" ? `${r.name} (channel)` : r.name,
    room: {
      kind: r.kind,
      admin: r.admin,
      member: r.member,
      canPost: r.member && (r.kind === "group" || r.admin),
      joined: new Date(r.joinedAt).toISOString().replace("T", " ").slice(0, 16) + " UTC",
      members: r.members.map((m) => ({
        username: m.username,
        admin: m.admin,
        verified: m.verified,
      })),
      ...(invite ? { invite } : {}),
    },
  };
}

/**
 * A message with what was done to it, in a room or a 1:1 chat; `byId` finds the message a reply
 * quotes, `admin` says whether we may delete others' messages (a room's admins).
 */
export async function messageView(
  client: ChatClient,
  m: StoredMessage,
  base: MessageView,
  byId: Map<string, StoredMessage>,
  now: number,
  admin = false,
): Promise<MessageView> {
  const a = await client.rooms.actions(m.mid);
  const me = client.username;
  const reactions = new Map<string, string[]>();
  for (const [who, emoji] of Object.entries(a.reactions)) {
    // Checked where it was decoded; a reaction stored before that check is left out here.
    if (!isReaction(emoji)) continue;
    reactions.set(emoji, [...(reactions.get(emoji) ?? []), who === me ? "you" : who]);
  }
  const mine = a.reactions[me];
  const quoted = a.replyTo ? byId.get(a.replyTo) : undefined;
  const edited = a.edits.length > 0 && !a.deleted;
  return {
    ...base,
    ...(a.deleted ? { text: DELETED_MARK } : {}),
    edited,
    deleted: a.deleted,
    pinned: a.pinned,
    canDelete: !a.deleted && (m.outgoing || admin),
    reactions: [...reactions]
      .map(([emoji, who]) => ({ emoji, count: who.length, who: who.sort() }))
      .sort((x, y) => y.count - x.count),
    ...(mine && isReaction(mine) ? { mine } : {}),
    ...(edited ? { history: versions(m, a.edits, now) } : {}),
    ...(a.replyTo
      ? {
        quote: quoted
          ? `${client.rooms.author(quoted)}: ${preview(quoted.text).slice(0, QUOTE_CHARS)}`
          : `a message from before ${clockTime(m.ts, now)}`,
      }
      : {}),
  };
}

/**
 * The texts of an edited message, oldest first: each earlier text from when it was written (the
 * message's time, then each edit's), and the text it has now from its last edit.
 */
export function versions(
  m: StoredMessage,
  edits: { text: string; ts: number }[],
  now: number,
): VersionView[] {
  // An edit's time is the editor's word: one outside what a date can hold is said as unknown.
  const at = (ts: number) =>
    Number.isNaN(new Date(ts).getTime()) ? "at an unknown time" : clockTime(ts, now);
  const out: VersionView[] = edits.map((e, i) => ({
    text: e.text,
    time: at(i === 0 ? m.ts : edits[i - 1]!.ts),
    label: i === 0 ? "sent" : "edited",
  }));
  out.push({ text: m.text, time: at(edits[edits.length - 1]!.ts), label: "now" });
  return out;
}

/** Messages by id (hex), for quoting replies. */
export function byIdOf(history: StoredMessage[]): Map<string, StoredMessage> {
  return new Map(history.map((m) => [hex(m.mid), m]));
}
