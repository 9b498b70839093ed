/**
 * Room state kept by the members: id, name, kind, members with their identity keys, admins, the
 * invite code's hash, and a version. The state is a pure function of the set of signed changes a
 * member holds: changes are applied in one order (version, then hash), each checked against the
 * state it applies to (its author must be an admin of it, or a member leaving), so members who
 * hold the same changes hold the same state, whatever order the changes arrived in.
 *
 * A change that does not apply yet (a gap before it, or its author not yet an admin) is kept and
 * tried again whenever another change arrives. A change more than MAX_CHANGE_LAG versions behind
 * the state held is refused, so an admin removed long ago cannot rewrite history by signing a
 * change dated before their removal.
 *
 * @module
 */

import { fromBase64, IdentityPublic, sha256, toHex, utf8 } from "../../crypto/mod.ts";
import {
  type ChangeBody,
  type GroupAction,
  GroupError,
  identityField,
  MAX_ROOM_MEMBERS,
  readChange,
  type RoomKind,
  signChange,
  signedBy,
  type SignedChange,
} from "./group_change.ts";
import type { IdentityKeyPair } from "../../crypto/mod.ts";

/** Versions a change may be behind the state held and still be taken in. */
export const MAX_CHANGE_LAG = 16;
/** Changes one room's log keeps at most; beyond it new changes are refused. */
export const MAX_LOG_CHANGES = 20_000;

/** One member: their identity (base64 encoding) and the change that added them. */
export interface GroupMember {
  identity: string;
  addedBy: string;
  addedAt: number;
  addedInVersion: number;
}

/** The state of one room. */
export interface GroupState {
  id: string;
  name: string;
  kind: RoomKind;
  version: number;
  members: ReadonlyMap<string, GroupMember>;
  admins: ReadonlySet<string>;
  inviteHash: string | null;
}

const EMPTY: GroupState = {
  id: "",
  name: "",
  kind: "group",
  version: 0,
  members: new Map(),
  admins: new Set(),
  inviteHash: null,
};

/** Identities already checked, so a fold does not verify the same one again. */
const checkedIdentities = new Map<string, boolean>();

async function validIdentity(id: string): Promise<boolean> {
  let ok = checkedIdentities.get(id);
  if (ok === undefined) {
    ok = await IdentityPublic.decode(fromBase64(id)).then(() => true, () => false);
    if (checkedIdentities.size > 10_000) checkedIdentities.clear();
    checkedIdentities.set(id, ok);
  }
  return ok;
}

/**
 * The state after `change`, or null when it does not apply to `s`. Pure: `s` is not touched.
 */
export async function applyChange(s: GroupState, change: SignedChange): Promise<GroupState | null> {
  const c = change.body;
  const genesis = s.version === 0;
  if (genesis !== (c.v === 1) || genesis !== (c.acts[0]?.a === "create")) return null;
  if (!genesis && (c.g !== s.id || c.v > s.version + 1 || c.v < s.version)) return null;
  let author: string;
  if (genesis) {
    const create = c.acts[0] as Extract<GroupAction, { a: "create" }>;
    if (!(await validIdentity(create.id)) || !(await signedBy(change, create.id))) return null;
    author = create.id;
  } else {
    const m = s.members.get(c.by);
    if (m === undefined || !(await signedBy(change, m.identity))) return null;
    author = m.identity;
  }
  const members = new Map(s.members);
  const admins = new Set(s.admins);
  let { name, kind, inviteHash } = s;
  const added = (identity: string): GroupMember => ({
    identity,
    addedBy: c.by,
    addedAt: c.at,
    addedInVersion: c.v,
  });
  for (const [i, act] of c.acts.entries()) {
    const isAdmin = admins.has(c.by);
    // A member may leave without being an admin; everything else is an admin's.
    if (act.a !== "leave" && act.a !== "create" && !isAdmin) return null;
    switch (act.a) {
      case "create":
        if (i !== 0) return null;
        name = act.name;
        kind = act.kind;
        members.set(c.by, added(author));
        admins.add(c.by);
        break;
      case "add":
        if (members.has(act.u) || members.size >= MAX_ROOM_MEMBERS) return null;
        if (!(await validIdentity(act.id))) return null;
        members.set(act.u, added(act.id));
        break;
      case "remove":
        if (!members.delete(act.u)) return null;
        admins.delete(act.u);
        break;
      case "leave":
        if (!members.delete(c.by)) return null;
        admins.delete(c.by);
        break;
      case "admin":
        if (!members.has(act.u)) return null;
        if (act.on) admins.add(act.u);
        else admins.delete(act.u);
        break;
      case "rename":
        name = act.name;
        break;
      case "invite":
        inviteHash = act.hash;
        break;
    }
  }
  // A room is never left without an admin while it has members: demoting the last one is
  // refused, and when the last one leaves the member first in name order takes over, the same
  // on every client.
  if (admins.size === 0 && members.size > 0) {
    if (!c.acts.some((a) => a.a === "leave")) return null;
    admins.add([...members.keys()].sort()[0]!);
  }
  return {
    id: genesis ? c.g : s.id,
    name,
    kind,
    version: Math.max(s.version, c.v),
    members,
    admins,
    inviteHash,
  };
}

/** Orders changes: by version, then by hash. */
function order(a: SignedChange, b: SignedChange): number {
  return a.body.v - b.body.v || (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0);
}

/** The state the changes make, and which of them applied. */
async function fold(changes: readonly SignedChange[]): Promise<{
  state: GroupState;
  applied: ReadonlySet<string>;
}> {
  let state = EMPTY;
  const applied = new Set<string>();
  for (const c of changes) {
    const next = await applyChange(state, c);
    if (next !== null) {
      state = next;
      applied.add(c.hash);
    }
  }
  return { state, applied };
}

/** One room's changes and the state they make. Immutable: each step returns a new log. */
export class GroupLog {
  private constructor(
    readonly changes: readonly SignedChange[],
    readonly state: GroupState,
    readonly applied: ReadonlySet<string>,
  ) {}

  /** Creates a room: the creator is its first member and admin; the others are added. */
  static async create(
    author: IdentityKeyPair,
    authorName: string,
    room: { id: string; name: string; kind: RoomKind; members: { u: string; id: string }[] },
    at = Date.now(),
  ): Promise<{ log: GroupLog; changes: SignedChange[] }> {
    const first: GroupAction[] = [
      { a: "create", name: room.name, kind: room.kind, id: identityField(author.publicIdentity) },
    ];
    let log = new GroupLog([], EMPTY, new Set());
    const genesis = await signChange(author, {
      g: room.id,
      v: 1,
      by: authorName,
      at,
      acts: first,
    });
    log = await log.#with(genesis);
    const changes = [genesis];
    const adds: GroupAction[] = room.members.map((m) => ({ a: "add", u: m.u, id: m.id }));
    for (let i = 0; i < adds.length; i += 100) {
      const r = await log.propose(author, authorName, adds.slice(i, i + 100), at);
      log = r.log;
      changes.push(r.change);
    }
    return { log, changes };
  }

  /**
   * Makes, signs and applies a change at the next version. Throws `GroupError("not_allowed")`
   * when it would not apply (the author is no admin, a member named is not one, …).
   */
  async propose(
    author: IdentityKeyPair,
    authorName: string,
    acts: GroupAction[],
    at = Date.now(),
  ): Promise<{ log: GroupLog; change: SignedChange }> {
    const body: ChangeBody = {
      g: this.state.id,
      v: this.state.version + 1,
      by: authorName,
      at,
      acts,
    };
    const change = await signChange(author, body);
    if ((await applyChange(this.state, change)) === null) {
      throw new GroupError("not_allowed", "this change is not allowed in the room as it is");
    }
    return { log: await this.#with(change), change };
  }

  /**
   * Takes in a change received from another member. Returns the new log and whether the change
   * applies in it (it is kept either way unless refused outright: a repeat, too old, too many).
   */
  async receive(change: SignedChange): Promise<{ log: GroupLog; applied: boolean }> {
    if (this.changes.some((c) => c.hash === change.hash)) {
      return { log: this, applied: this.applied.has(change.hash) };
    }
    if (this.state.version > 0 && change.body.g !== this.state.id) {
      throw new GroupError("bad_change", "this change belongs to another room");
    }
    if (change.body.v < this.state.version - MAX_CHANGE_LAG) {
      throw new GroupError("not_allowed", `a change to version ${change.body.v} is too old`);
    }
    if (this.changes.length >= MAX_LOG_CHANGES) {
      throw new GroupError("too_large", "this room's history is full");
    }
    const log = await this.#with(change);
    return { log, applied: log.applied.has(change.hash) };
  }

  async #with(change: SignedChange): Promise<GroupLog> {
    const changes = [...this.changes, change].sort(order);
    const { state, applied } = await fold(changes);
    return new GroupLog(changes, state, applied);
  }

  #head: Promise<string> | null = null;

  /**
   * A digest of the changes the state is made of, in the order applied (hex, 128 bits): two
   * members with the same head hold the same state. Room messages carry it, so a member holding
   * another state notices and asks for what it lacks.
   */
  head(): Promise<string> {
    this.#head ??= sha256(
      utf8(this.changes.filter((c) => this.applied.has(c.hash)).map((c) => c.hash).join(",")),
    ).then((d) => toHex(d.subarray(0, 16)));
    return this.#head;
  }

  /** Whether `username` may post a message (`"message"`) or react (`"reaction"`) here. */
  canPost(username: string, what: "message" | "reaction"): boolean {
    if (!this.state.members.has(username)) return false;
    return this.state.kind === "group" || what === "reaction" || this.state.admins.has(username);
  }

  /** The log as plain data (each change's bytes and signature), to store or to send. */
  toWire(): { bytes: string; sig: string }[] {
    return this.changes.map((c) => ({ bytes: c.bytes.toBase64(), sig: c.sig.toBase64() }));
  }

  /** A log from {@linkcode toWire}'s data; changes that do not parse are refused. */
  static async fromWire(wire: { bytes: string; sig: string }[]): Promise<GroupLog> {
    let log = new GroupLog([], EMPTY, new Set());
    const changes = await Promise.all(
      wire.map((w) => readChange(Uint8Array.fromBase64(w.bytes), Uint8Array.fromBase64(w.sig))),
    );
    changes.sort(order);
    const { state, applied } = await fold(changes);
    log = new GroupLog(changes, state, applied);
    return log;
  }
}
