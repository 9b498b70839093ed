/**
 * The checks on the room and message actions a page may send, beyond "every field is a string":
 * known operations, message ids that are ids, and sizes the chat core accepts. A page that sends
 * anything else has its socket closed, as for any other malformed action.
 *
 * @module
 */

import { MAX_ROOM_MEMBERS } from "../../protocol/limits.ts";
import { MAX_REACTION_CHARS } from "../content_actions.ts";
import { MAX_TEXT_CHARS } from "../content_limits.ts";
import { MAX_GROUP_NAME_CHARS } from "../rooms/group_change.ts";
import { MESSAGE_OPS, ROOM_OPS } from "./view.ts";

/** Longest message id in hex (ids are at most 32 bytes). */
export const MAX_MESSAGE_ID_HEX = 64;
/** Longest list of members typed when creating a room: every member's username and a comma. */
export const MAX_MEMBERS_CHARS = MAX_ROOM_MEMBERS * 33;
/** Longest invite code or username argument of a room action. */
export const MAX_ROOM_ARG_CHARS = 4096;

const isId = (v: unknown) =>
  typeof v === "string" && v.length > 0 && v.length <= MAX_MESSAGE_ID_HEX &&
  /^[0-9a-f]+$/.test(v) && v.length % 2 === 0;
const short = (v: unknown, max: number) => typeof v === "string" && v.length <= max;

/** True when a room or message action `o` (already known to hold only strings) is well formed. */
export function roomActionOk(o: Record<string, unknown>): boolean {
  switch (o.do) {
    case "send":
      return o.reply === undefined || isId(o.reply);
    case "newRoom":
      return short(o.name, MAX_GROUP_NAME_CHARS) && (o.kind === "group" || o.kind === "channel") &&
        short(o.members, MAX_MEMBERS_CHARS);
    case "joinRoom":
      return short(o.code, MAX_ROOM_ARG_CHARS);
    case "room":
      return (ROOM_OPS as readonly unknown[]).includes(o.op) &&
        (o.arg === undefined || short(o.arg, MAX_ROOM_ARG_CHARS));
    case "message":
      if (!(MESSAGE_OPS as readonly unknown[]).includes(o.op) || !isId(o.id)) return false;
      if (o.op === "edit") return short(o.text, MAX_TEXT_CHARS);
      if (o.op === "react") return short(o.text, MAX_REACTION_CHARS);
      return o.text === undefined;
    default:
      return true;
  }
}
