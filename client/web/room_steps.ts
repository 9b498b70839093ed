/**
 * The web interface's room steps: create, join, change a room, and act on a message (in a room
 * or a 1:1 chat). Each calls the chat core (`ChatClient.rooms`), which checks who may do what;
 * this file only turns the page's strings into those calls and says what happened.
 *
 * @module
 */

import type { ChatClient } from "../chat.ts";
import { ChatError } from "../chat.ts";
import type { ActionContent } from "../content_actions.ts";
import { asReaction, REACTION_RULE } from "../reaction.ts";
import { actionText } from "../words.ts";
import type { Action } from "./view.ts";

/** Where the step leaves the interface: a notice, and the room to show, if any. */
export interface RoomStepResult {
  notice: string;
  open?: string;
  /** An invite code just made, shown once in the room's screen. */
  invite?: string;
}

const fromHex = (s: string) => Uint8Array.fromHex(s);
const names = (s: string) => s.split(/[\s,]+/).filter(Boolean);

/** Creates a room; opens it. */
export async function newRoom(
  client: ChatClient,
  a: Extract<Action, { do: "newRoom" }>,
): Promise<RoomStepResult> {
  const name = a.name.trim();
  if (!name) throw new ChatError("bad_input", "give the room a name");
  const id = await client.rooms.create(name, a.kind as "group" | "channel", names(a.members));
  return { notice: `created the ${a.kind} ${name}`, open: `#${id}` };
}

/** Asks to join by an invite code; the room appears once its admin's client lets us in. */
export async function joinRoom(client: ChatClient, code: string): Promise<RoomStepResult> {
  if (!code.trim()) throw new ChatError("bad_input", "paste an invite code");
  await client.rooms.join(code.trim());
  return { notice: "asked to join; the room appears once its admin's client lets you in" };
}

/** A change to the room `peer` (`#id`). */
export async function roomChange(
  client: ChatClient,
  peer: string,
  a: Extract<Action, { do: "room" }>,
): Promise<RoomStepResult> {
  const id = peer.slice(1);
  const r = client.rooms;
  const arg = (a.arg ?? "").trim();
  const who = () => {
    if (!arg) throw new ChatError("bad_input", "type a username");
    return arg;
  };
  switch (a.op) {
    case "add":
      await r.add(id, names(who()));
      return { notice: `added ${names(arg).join(", ")}` };
    case "remove":
      await r.remove(id, who());
      return { notice: `removed ${arg}` };
    case "leave":
      await r.leave(id);
      return { notice: "you left the room" };
    case "promote":
      await r.setAdmin(id, who(), true);
      return { notice: `${arg} is an admin` };
    case "demote":
      await r.setAdmin(id, who(), false);
      return { notice: `${arg} is no longer an admin` };
    case "rename":
      if (!arg) throw new ChatError("bad_input", "type the new name");
      await r.rename(id, arg);
      return { notice: `renamed to ${arg}` };
    case "invite":
      return { notice: "invite code made; it works until revoked", invite: await r.invite(id) };
    default:
      await r.revokeInvite(id);
      return { notice: "the invite code is revoked" };
  }
}

/** An action on a message of the chat `peer` (a room `#id` or a username). */
export async function messageAction(
  client: ChatClient,
  peer: string,
  a: Extract<Action, { do: "message" }>,
): Promise<RoomStepResult> {
  const target = fromHex(a.id);
  let action: ActionContent;
  switch (a.op) {
    case "edit":
      if (!a.text?.trim()) throw new ChatError("bad_input", "type the new text");
      action = { t: "edit", target, text: a.text, ts: Date.now() };
      break;
    case "delete":
      action = { t: "delete", target };
      break;
    case "pin":
    case "unpin":
      action = { t: "pin", target, on: a.op === "pin" };
      break;
    case "react": {
      const emoji = asReaction(a.text ?? "");
      if (!emoji) throw new ChatError("bad_input", `${REACTION_RULE}; choose one or type one`);
      action = { t: "react", target, emoji };
      break;
    }
    default:
      action = { t: "react", target, emoji: null };
  }
  await client.rooms.act(peer, action);
  return { notice: `you ${actionText(action)}` };
}
