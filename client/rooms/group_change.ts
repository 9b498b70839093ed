/**
 * A room change as it travels: JSON bytes signed by the author's identity key, exactly as sent
 * (the signature covers the bytes, so nothing has to be re-encoded the same way to verify it).
 * Changes reach every member over the pairwise sessions; the server never sees one.
 *
 * @module
 */

import {
  fromBase64,
  fromUtf8,
  type IdentityKeyPair,
  IdentityPublic,
  KeyKind,
  sha256,
  toBase64,
  toHex,
  utf8,
} from "../../crypto/mod.ts";
import { MAX_ROOM_MEMBERS } from "../../protocol/limits.ts";

/** Bytes of a room id, chosen at random by its creator. */
export const GROUP_ID_BYTES = 16;
/** Longest room name, in characters. */
export const MAX_GROUP_NAME_CHARS = 100;
/** Most actions in one change: a room of MAX_ROOM_MEMBERS is built by several. */
export const MAX_ACTIONS_PER_CHANGE = 100;
/** Largest encoded change; it must fit one pairwise message with room to spare. */
export const MAX_CHANGE_BYTES = 48 * 1024;
export { MAX_ROOM_MEMBERS };

/** A room where everyone posts, or a broadcast channel where only admins post. */
export type RoomKind = "group" | "channel";

/** One step of a change. `id` is a member's encoded public identity, base64. */
export type GroupAction =
  | { a: "create"; name: string; kind: RoomKind; id: string }
  | { a: "add"; u: string; id: string }
  | { a: "remove"; u: string }
  | { a: "leave" }
  | { a: "admin"; u: string; on: boolean }
  | { a: "rename"; name: string }
  | { a: "invite"; hash: string | null };

/** What a change says, once parsed. */
export interface ChangeBody {
  /** The room id, hex. */
  g: string;
  /** The version the room has after this change. */
  v: number;
  /** The author's username. */
  by: string;
  /** The author's clock, for display only. */
  at: number;
  acts: GroupAction[];
}

/** A change with its signature; `hash` (hex SHA-256 of `bytes`) names it. */
export interface SignedChange {
  bytes: Uint8Array;
  sig: Uint8Array;
  hash: string;
  body: ChangeBody;
}

/** A change that cannot be read or made. */
export class GroupError extends Error {
  override name = "GroupError";
  constructor(
    readonly code: "bad_change" | "not_allowed" | "too_large" | "bad_invite",
    message: string,
  ) {
    super(message);
  }
}

const str = (v: unknown, max: number): v is string =>
  typeof v === "string" && v.length >= 1 && v.length <= max;

function checkAction(x: unknown): GroupAction {
  const o = x as Record<string, unknown>;
  const ok = (() => {
    switch (o?.a) {
      case "create":
        return str(o.name, MAX_GROUP_NAME_CHARS) && (o.kind === "group" || o.kind === "channel") &&
          str(o.id, 512);
      case "add":
        return str(o.u, 128) && str(o.id, 512);
      case "remove":
        return str(o.u, 128);
      case "leave":
        return true;
      case "admin":
        return str(o.u, 128) && typeof o.on === "boolean";
      case "rename":
        return str(o.name, MAX_GROUP_NAME_CHARS);
      case "invite":
        return o.hash === null || (typeof o.hash === "string" && /^[0-9a-f]{64}$/.test(o.hash));
      default:
        return false;
    }
  })();
  if (!ok) throw new GroupError("bad_change", `a room change has a malformed action`);
  return o as GroupAction;
}

/** Parses a change's bytes (not its signature); `GroupError("bad_change")` when malformed. */
export async function readChange(bytes: Uint8Array, sig: Uint8Array): Promise<SignedChange> {
  if (bytes.length > MAX_CHANGE_BYTES) {
    throw new GroupError("too_large", `a room change of ${bytes.length} bytes is too large`);
  }
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(fromUtf8(bytes));
  } catch {
    throw new GroupError("bad_change", "a room change is not JSON");
  }
  const acts = raw?.acts;
  if (
    typeof raw?.g !== "string" || !/^[0-9a-f]{32}$/.test(raw.g) ||
    !Number.isSafeInteger(raw.v) || (raw.v as number) < 1 || !str(raw.by, 128) ||
    !Number.isSafeInteger(raw.at) || !Array.isArray(acts) || acts.length < 1 ||
    acts.length > MAX_ACTIONS_PER_CHANGE
  ) {
    throw new GroupError("bad_change", "a room change is missing or has malformed fields");
  }
  const body: ChangeBody = {
    g: raw.g,
    v: raw.v as number,
    by: raw.by,
    at: raw.at as number,
    acts: acts.map(checkAction),
  };
  return { bytes, sig, hash: toHex(await sha256(bytes)), body };
}

/** Encodes and signs a change with the author's identity key. */
export async function signChange(
  author: IdentityKeyPair,
  body: ChangeBody,
): Promise<SignedChange> {
  const bytes = utf8(JSON.stringify(body));
  if (bytes.length > MAX_CHANGE_BYTES) {
    throw new GroupError("too_large", `this change is ${bytes.length} bytes; make it in parts`);
  }
  const sig = await author.signKey(KeyKind.groupChange, groupIdBytes(body.g), await sha256(bytes));
  return readChange(bytes, sig);
}

/** True when `identity` (an encoded public identity, base64) signed the change. */
export async function signedBy(change: SignedChange, identity: string): Promise<boolean> {
  try {
    const id = IdentityPublic.restore(fromBase64(identity));
    return await id.verifyKeySignature(
      KeyKind.groupChange,
      [groupIdBytes(change.body.g), await sha256(change.bytes)],
      change.sig,
    );
  } catch {
    return false;
  }
}

/** The room id's bytes from its hex. */
export function groupIdBytes(hex: string): Uint8Array {
  return Uint8Array.fromHex(hex);
}

/** An encoded public identity as a change carries it. */
export function identityField(identity: IdentityPublic): string {
  return toBase64(identity.encode());
}
