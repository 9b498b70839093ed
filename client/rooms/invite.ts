/**
 * Invite codes: a random secret an admin makes and shares; its hash sits in the room state, so
 * any admin's client can admit a holder without a person acting, and a new code (or none)
 * revokes the old one. The code names the room and an admin to ask, never the room's name.
 *
 * @module
 */

import { randomBytes, sha256, toHex } from "../../crypto/mod.ts";
import { GROUP_ID_BYTES, type GroupAction, GroupError } from "./group_change.ts";
import type { GroupState } from "./group_state.ts";

/** Bytes of an invite secret. */
export const INVITE_SECRET_BYTES = 16;

/** A parsed invite code. */
export interface Invite {
  /** The admin to send the join request to. */
  admin: string;
  groupId: string;
  secret: Uint8Array;
}

/** A new invite: the code to share and the change that makes it the room's one valid code. */
export async function newInvite(
  groupId: string,
  admin: string,
): Promise<{ code: string; action: GroupAction }> {
  const secret = randomBytes(INVITE_SECRET_BYTES);
  const code = `${admin}~${
    new Uint8Array([...Uint8Array.fromHex(groupId), ...secret]).toBase64({
      alphabet: "base64url",
      omitPadding: true,
    })
  }`;
  return { code, action: { a: "invite", hash: toHex(await sha256(secret)) } };
}

/** The change that revokes every invite code of the room. */
export const REVOKE_INVITE: GroupAction = { a: "invite", hash: null };

/** Parses a code; `GroupError("bad_invite")` for anything else. */
export function parseInvite(code: string): Invite {
  const at = code.trim().lastIndexOf("~");
  try {
    if (at < 1) throw new Error();
    const raw = Uint8Array.fromBase64(code.trim().slice(at + 1), { alphabet: "base64url" });
    if (raw.length !== GROUP_ID_BYTES + INVITE_SECRET_BYTES) throw new Error();
    return {
      admin: code.trim().slice(0, at),
      groupId: toHex(raw.subarray(0, GROUP_ID_BYTES)),
      secret: raw.slice(GROUP_ID_BYTES),
    };
  } catch {
    throw new GroupError("bad_invite", "that is not an invite code");
  }
}

/** True when `secret` is the room's current invite secret. */
export async function inviteMatches(state: GroupState, secret: Uint8Array): Promise<boolean> {
  return state.inviteHash !== null && toHex(await sha256(secret)) === state.inviteHash;
}
