/**
 * The content types of rooms and message actions, carried inside the end-to-end encryption like
 * text: the server cannot tell an edit, a reaction or a room change from a message. Actions name
 * the message they act on by its id.
 *
 * @module
 */

import { MAX_TEXT_CHARS } from "./content_limits.ts";
import { isReaction } from "./reaction.ts";

export { MAX_REACTION_CHARS } from "./reaction.ts";
/** Largest room change or sender key carried in one message, in base64 characters. */
export const MAX_ROOM_FIELD_CHARS = 64 * 1024;

/** An action on the message `target` (its id). */
export type ActionContent =
  | { t: "edit"; target: Uint8Array; text: string; ts: number }
  | { t: "delete"; target: Uint8Array }
  | { t: "pin"; target: Uint8Array; on: boolean }
  | { t: "react"; target: Uint8Array; emoji: string | null };

/** What members send each other about a room, over their pairwise sessions. */
export type RoomContent =
  | { t: "room_change"; bytes: Uint8Array; sig: Uint8Array }
  | { t: "sender_key"; room: string; dist: Uint8Array }
  | { t: "join"; room: string; secret: Uint8Array };

const isMid = (v: unknown) => typeof v === "string" && v.length > 0 && v.length <= 64;
const b64 = (v: unknown, max = MAX_ROOM_FIELD_CHARS) =>
  typeof v === "string" && v.length > 0 && v.length <= max;
const roomId = (v: unknown) => typeof v === "string" && /^[0-9a-f]{32}$/.test(v);

/** The JSON form: byte fields as base64. */
export function actionToWire(c: ActionContent | RoomContent): Record<string, unknown> {
  const out: Record<string, unknown> = { ...c };
  for (const [k, v] of Object.entries(c)) if (v instanceof Uint8Array) out[k] = v.toBase64();
  return out;
}

/** The content from its JSON form, or null when `raw` is not one of these types. */
export function actionFromWire(
  raw: Record<string, unknown>,
): ActionContent | RoomContent | null {
  const bytes = (v: unknown) => Uint8Array.fromBase64(v as string);
  switch (raw.t) {
    case "edit":
      if (
        isMid(raw.target) && typeof raw.text === "string" && raw.text.length > 0 &&
        raw.text.length <= MAX_TEXT_CHARS && Number.isFinite(raw.ts)
      ) {
        return { t: "edit", target: bytes(raw.target), text: raw.text, ts: raw.ts as number };
      }
      break;
    case "delete":
      if (isMid(raw.target)) return { t: "delete", target: bytes(raw.target) };
      break;
    case "pin":
      if (isMid(raw.target) && typeof raw.on === "boolean") {
        return { t: "pin", target: bytes(raw.target), on: raw.on };
      }
      break;
    case "react":
      // A peer's reaction that is not one emoji (markup, a word, a row of emoji) is dropped here,
      // for 1:1 chats and rooms alike.
      if (
        isMid(raw.target) &&
        (raw.emoji === null || (typeof raw.emoji === "string" && isReaction(raw.emoji)))
      ) {
        return { t: "react", target: bytes(raw.target), emoji: raw.emoji as string | null };
      }
      break;
    case "room_change":
      if (b64(raw.bytes) && b64(raw.sig, 128)) {
        return { t: "room_change", bytes: bytes(raw.bytes), sig: bytes(raw.sig) };
      }
      break;
    case "sender_key":
      if (roomId(raw.room) && b64(raw.dist, 256)) {
        return { t: "sender_key", room: raw.room as string, dist: bytes(raw.dist) };
      }
      break;
    case "join":
      if (roomId(raw.room) && b64(raw.secret, 64)) {
        return { t: "join", room: raw.room as string, secret: bytes(raw.secret) };
      }
      break;
  }
  return null;
}
