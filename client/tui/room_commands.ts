/**
 * Carries out the room and message-action commands of the chat screen through the chat core
 * (`ChatClient.rooms`): every rule (who may post, who may change what) is the core's; this file
 * only turns a parsed command into a call and the answer into notes on the screen.
 *
 * @module
 */

import { type ChatClient, ChatError } from "../chat.ts";
import { canonicalUsername } from "../../protocol/username.ts";
import { parseInvite } from "../rooms/mod.ts";
import type { StoredMessage } from "../local_store.ts";
import type { MessageActions } from "../room_store.ts";
import { MAX_EDITS_KEPT } from "../room_actions.ts";
import type { RoomInfo } from "../rooms_core.ts";
import type { Tone } from "./chat_view.ts";
import type { Command } from "./commands.ts";
import { clockTime, fullTime, preview } from "./format.ts";
import { explain } from "./problems.ts";

/** What the chat screen lends a command. */
export interface CommandHost {
  readonly client: ChatClient;
  /** The open conversation: a username, or `#<room id>`. */
  readonly peer: string;
  note(text: string, tone?: Tone): void;
  /** The message shown with number `n`, or null. */
  message(n: number): StoredMessage | null;
  /** Leaves this chat for another conversation. */
  open(peer: string): void;
  /** Reads the room's state again after a change. */
  refresh(): Promise<void>;
}

/** The room id of a conversation key, or null for a 1:1 chat. */
export function roomOf(peer: string): string | null {
  return peer.startsWith("#") ? peer.slice(1) : null;
}

/** The header's title for a room: its name, kind, member count, and who may post. */
export function roomTitle(r: RoomInfo): string {
  const parts = [`# ${r.name}`, r.kind, `${r.members.length} members`];
  if (!r.member) parts.push("you are no longer a member");
  else if (r.kind === "channel" && !r.admin) parts.push("only admins post");
  return parts.join(" · ");
}

/** Lines of /info: name, kind, when we joined, then each member with admin and verified state. */
export function infoLines(r: RoomInfo, me: string, now = Date.now()): string[] {
  const joined = new Date(r.joinedAt);
  return [
    `${r.name} · ${r.kind} · ${r.members.length} members · you joined ${
      joined.toISOString().slice(0, 10)
    } ${clockTime(r.joinedAt, now)}`,
    ...r.members.map((m) =>
      `  ${m.username}${m.username === me ? " (you)" : ""}${m.admin ? " · admin" : ""} · ${
        m.verified ? "verified" : "not verified"
      }`
    ),
  ];
}

/**
 * Lines of /history N: each version of a message, oldest first, with when it was written (the
 * first when the message was sent, each later one when the edit was made), the current last.
 */
export function historyLines(n: number, m: StoredMessage, a: MessageActions): string[] {
  if (a.deleted) return [`message ${n} was deleted for everyone; its versions are gone`];
  if (a.edits.length === 0) return [`message ${n} was never edited`];
  // At the bound the oldest texts may have been dropped, and with them when the first kept one
  // was written; an edit's time is the editor's claim, which may be no date at all.
  const trimmed = a.edits.length >= MAX_EDITS_KEPT;
  const at = (ts: number | null) =>
    ts === null || Number.isNaN(new Date(ts).getTime()) ? "at an unknown time " : fullTime(ts);
  const versions = [
    ...a.edits.map((e, i) => ({
      text: e.text,
      ts: i > 0 ? a.edits[i - 1]!.ts : trimmed ? null : m.ts,
    })),
    { text: m.text, ts: a.edits.at(-1)!.ts },
  ];
  const times = trimmed
    ? `more than ${MAX_EDITS_KEPT} times; the last ${MAX_EDITS_KEPT + 1} versions`
    : a.edits.length === 1
    ? "once; its versions"
    : `${a.edits.length} times; its versions`;
  return [
    `message ${n} was edited ${times}, oldest first:`,
    ...versions.map((v, i) =>
      `  ${at(v.ts)}  ${preview(v.text)}${i === versions.length - 1 ? "  (now)" : ""}`
    ),
  ];
}

/** Runs `c` (not one of the simple commands); problems become error notes. */
export async function runCommand(host: CommandHost, c: Command): Promise<void> {
  try {
    await run(host, c);
  } catch (e) {
    host.note(explain(e).message, "error");
  }
}

async function run(host: CommandHost, c: Command): Promise<void> {
  const rooms = host.client.rooms;
  const room = roomOf(host.peer);
  const needRoom = (): string => {
    if (room === null) throw new ChatError("bad_input", `/${c.kind} works in a group or channel`);
    return room;
  };
  const pick = (n: number): StoredMessage => {
    const m = host.message(n);
    if (!m) throw new ChatError("bad_input", `there is no message ${n} on this screen`);
    return m;
  };
  // Said before the core refuses with a sentence that cannot name the reason.
  const asAdmin = async (what: string): Promise<string> => {
    const id = needRoom();
    const r = await rooms.info(id);
    if (!r.member) throw new ChatError("bad_input", "you are no longer a member of this room");
    if (!r.admin) {
      throw new ChatError("bad_input", `only an admin may ${what} here; /info lists the admins`);
    }
    return id;
  };
  const member = async (id: string, user: string): Promise<void> => {
    const r = await rooms.info(id);
    const u = canonicalUsername(user);
    if (!r.members.some((m) => m.username === u)) {
      throw new ChatError("bad_input", `${user} is not a member of this room`);
    }
  };
  // The core applies an action here before it finds the room refuses to carry it, which would
  // leave it on this screen alone: what a room refuses is said first, and nothing is applied.
  const mayAct = async (what: "message" | "reaction"): Promise<void> => {
    if (room === null) return;
    const r = await rooms.info(room);
    if (!r.member) throw new ChatError("bad_input", "you are no longer a member of this room");
    if (what === "message" && r.kind === "channel" && !r.admin) {
      throw new ChatError("bad_input", "only admins post, pin, edit or delete in this channel");
    }
  };
  const ownLive = async (n: number, verb: string): Promise<StoredMessage> => {
    await mayAct("message");
    const m = pick(n);
    if ((await rooms.actions(m.mid)).deleted) {
      throw new ChatError("bad_input", `message ${n} was deleted`);
    }
    if (m.outgoing) return m;
    if (verb === "delete" && room !== null && (await rooms.info(room)).admin) return m;
    throw new ChatError(
      "bad_input",
      `you can ${verb} only your own messages${
        verb === "delete" && room !== null ? " (a room's admins: any)" : ""
      }`,
    );
  };
  switch (c.kind) {
    case "simple":
      return;
    case "newRoom": {
      const id = await rooms.create(c.name, c.room, c.members);
      host.open(`#${id}`);
      return;
    }
    case "join": {
      const held = await heldRoom(host.client, c.code);
      if (held) throw new ChatError("bad_input", `you are already a member of ${held}`);
      await rooms.join(c.code);
      host.note(
        "asked to join: the room shows in your chat list once an admin's client admits you",
      );
      return;
    }
    case "add": {
      const id = await asAdmin("add members");
      const held = new Set((await rooms.info(id)).members.map((m) => m.username));
      const already = c.users.filter((u) => held.has(canonicalUsername(u) ?? ""));
      if (already.length > 0) {
        throw new ChatError("bad_input", `${already.join(", ")}: already in this room`);
      }
      await rooms.add(id, c.users);
      host.note(`added ${c.users.join(", ")}`);
      break;
    }
    case "remove": {
      const id = await asAdmin("remove members");
      if (canonicalUsername(c.user) === host.client.username) {
        throw new ChatError("bad_input", "to leave the room yourself, /leave");
      }
      await member(id, c.user);
      await rooms.remove(id, c.user);
      host.note(`removed ${c.user}`);
      break;
    }
    case "leave": {
      const id = needRoom();
      if (!(await rooms.info(id)).member) {
        throw new ChatError("bad_input", "you are no longer a member of this room");
      }
      await rooms.leave(id);
      host.note("you left this room");
      break;
    }
    case "admin": {
      const id = await asAdmin(c.on ? "promote" : "demote");
      await member(id, c.user);
      await rooms.setAdmin(id, c.user, c.on);
      host.note(`${c.user} is ${c.on ? "now an admin" : "no longer an admin"}`);
      break;
    }
    case "rename":
      await rooms.rename(await asAdmin("rename the room"), c.name);
      host.note(`renamed to ${c.name}`);
      break;
    case "invite": {
      const id = await asAdmin(c.revoke ? "revoke the invite code" : "make an invite code");
      if (c.revoke) {
        await rooms.revokeInvite(id);
        host.note("the invite code no longer admits anyone");
      } else {
        const code = await rooms.invite(id);
        host.note(`invite code (anyone holding it can /join it; /invite revoke ends it):`);
        host.note(`    ${code}`);
      }
      break;
    }
    case "info":
      for (const l of infoLines(await rooms.info(needRoom()), host.client.username)) host.note(l);
      return;
    case "reply": {
      const to = pick(c.n).mid;
      if (room) await rooms.send(room, c.text, to);
      else await host.client.send(host.peer, c.text, to);
      return;
    }
    case "edit":
      await rooms.act(host.peer, {
        t: "edit",
        target: (await ownLive(c.n, "edit")).mid,
        text: c.text,
        ts: Date.now(),
      });
      return;
    case "delete":
      await rooms.act(host.peer, { t: "delete", target: (await ownLive(c.n, "delete")).mid });
      return;
    case "pin": {
      const target = pick(c.n).mid;
      await mayAct("message");
      await rooms.act(host.peer, { t: "pin", target, on: c.on });
      return;
    }
    case "history": {
      const m = pick(c.n);
      for (const l of historyLines(c.n, m, await rooms.actions(m.mid))) host.note(l);
      return;
    }
    case "react": {
      const target = pick(c.n).mid;
      await mayAct("reaction");
      await rooms.act(host.peer, { t: "react", target, emoji: c.emoji });
      return;
    }
  }
  await host.refresh();
}

/** The name of the room an invite code is for, when we are a member of it already. */
async function heldRoom(client: ChatClient, code: string): Promise<string | null> {
  let id: string;
  try {
    id = parseInvite(code).groupId;
  } catch {
    return null; // the core says what is wrong with the code
  }
  const r = (await client.rooms.list()).find((r) => r.id === id);
  return r?.member ? r.name : null;
}
