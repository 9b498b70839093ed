/**
 * Applies message actions (edit, delete, pin, react, reply) to the local store, in 1:1 chats and
 * rooms alike. An action counts only inside the conversation its message belongs to, and only
 * from whoever may take it: edits from the author, deletion from the author (or a room admin),
 * one reaction per person.
 *
 * @module
 */

import { fromUtf8 } from "../crypto/mod.ts";
import { ChatError } from "./chat_types.ts";
import type { ActionContent } from "./content.ts";
import type { LocalStore } from "./local_store.ts";
import { isReaction, REACTION_RULE } from "./reaction.ts";
import type { MessageActions, RoomStore } from "./room_store.ts";

/** The text a deleted message shows. */
export const DELETED_TEXT = "";
/**
 * Earlier texts kept per message, the latest: a peer who edits without end grows the local store
 * and every view of the message by at most this many texts.
 */
export const MAX_EDITS_KEPT = 50;

/** Who acts, and where. */
export interface Actor {
  /** The conversation the action arrived in: a username, or `#<room id>`. */
  conversation: string;
  from: string;
  /** An admin of the room (may delete others' messages there). */
  admin: boolean;
  me: string;
}

/** A stored message's text. */
export async function messageText(local: LocalStore, mid: Uint8Array): Promise<string | null> {
  const row = local.statement("SELECT sealed FROM messages WHERE mid = ?").get(mid) as
    | { sealed: Uint8Array }
    | undefined;
  if (!row) return null;
  return fromUtf8(await local.open(`message ${mid.toHex()}`, row.sealed));
}

/**
 * Applies `a`; returns the message's actions after it, or null when the action does not count
 * (unknown message, another conversation's, or not this person's to take).
 */
export async function applyAction(
  rooms: RoomStore,
  actor: Actor,
  a: ActionContent,
): Promise<MessageActions | null> {
  // Reactions from peers are checked where they are decoded; this refuses our own.
  if (a.t === "react" && a.emoji !== null && !isReaction(a.emoji)) {
    throw new ChatError("bad_input", REACTION_RULE);
  }
  const local = rooms.local;
  const info = rooms.messageInfo(a.target);
  if (!info || info.peer !== actor.conversation) return null;
  const author = info.outgoing ? actor.me : (rooms.author(a.target) ?? info.peer);
  const actions = await rooms.actions(a.target);
  let newText: string | null = null;
  switch (a.t) {
    case "edit": {
      if (actor.from !== author || actions.deleted) return null;
      const old = await messageText(local, a.target);
      actions.edits.push({ text: old ?? "", ts: a.ts });
      actions.edits.splice(0, actions.edits.length - MAX_EDITS_KEPT);
      newText = a.text;
      break;
    }
    case "delete":
      if (actor.from !== author && !actor.admin) return null;
      actions.deleted = true;
      actions.edits = [];
      newText = DELETED_TEXT;
      break;
    case "pin":
      actions.pinned = a.on;
      break;
    case "react":
      if (a.emoji === null) delete actions.reactions[actor.from];
      else actions.reactions[actor.from] = a.emoji;
      break;
  }
  const [sealedActions, sealedText] = await Promise.all([
    rooms.sealActions(a.target, actions),
    newText === null ? null : local.sealText(a.target, newText),
  ]);
  local.transaction(() => {
    rooms.writeActions(a.target, sealedActions);
    if (sealedText) rooms.setText(a.target, sealedText);
  });
  return actions;
}

/** Records that `mid` replies to `to`. */
export async function noteReply(rooms: RoomStore, mid: Uint8Array, to: Uint8Array): Promise<void> {
  const actions = await rooms.actions(mid);
  actions.replyTo = to.toHex();
  rooms.writeActions(mid, await rooms.sealActions(mid, actions));
}
