/**
 * What the room tests share: members signed up over TCP, a member's view of a room, and waiting
 * until members agree on it.
 *
 * @module
 */

import { connectChat, eventually, type TestChat } from "./chat.ts";
import type { TestServer } from "./server.ts";

/** How long members may take to agree on a loaded machine. */
export const ROOM_STEP_MS = 90_000;

/** Chat clients over TCP, one per name, each signed up as that name with `password`. */
export async function signedUp<N extends string>(
  t: TestServer,
  names: readonly N[],
  password: string,
): Promise<Record<N, TestChat>> {
  const out = {} as Record<N, TestChat>;
  for (const n of names) {
    out[n] = await connectChat(t);
    await out[n].client.signup({ fullName: n.toUpperCase(), username: n, password });
  }
  return out;
}

/** A member's view of a room: what the room tests compare between members. */
export interface RoomState {
  name: string;
  version: number;
  members: string[];
  admins: string[];
}

/** A member's view of room `id` (null when it holds no such room). */
export async function roomState(c: TestChat, id: string): Promise<RoomState | null> {
  const i = await c.client.rooms.info(id).catch(() => null);
  return i && {
    name: i.name,
    version: i.version,
    members: i.members.map((m) => m.username),
    admins: i.members.filter((m) => m.admin).map((m) => m.username),
  };
}

/** The texts `c` received in `conversation` (a room's is `#<id>`). */
export const textsIn = (c: TestChat, conversation: string): string[] =>
  c.received.filter((m) => m.peer === conversation).map((m) => m.text);

/**
 * Waits until every one of `who` (named, for the failure's message) holds the same state of the
 * room, one where `until` holds; returns it. A failure says what each held and what went wrong
 * for them.
 */
export async function agreeOnRoom(
  who: [string, TestChat][],
  id: string,
  what: string,
  until: (s: RoomState) => boolean = () => true,
): Promise<RoomState> {
  let last: unknown[] = [];
  try {
    await eventually(
      async () => {
        const all = await Promise.all(who.map(([, c]) => roomState(c, id)));
        last = all;
        return all[0] !== null && until(all[0]!) &&
          all.every((s) => JSON.stringify(s) === JSON.stringify(all[0]));
      },
      what,
      ROOM_STEP_MS,
    );
  } catch (e) {
    const problems = who.map(([n, c]) => `${n}: ${c.problems.join("; ")}`).join(" | ");
    throw new Error(`${(e as Error).message}: ${JSON.stringify(last)}; problems: ${problems}`);
  }
  return (await roomState(who[0]![1], id))!;
}
