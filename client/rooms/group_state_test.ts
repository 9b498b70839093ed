import assert from "node:assert/strict";
import { IdentityKeyPair, randomBytes, toHex, utf8 } from "../../crypto/mod.ts";
import {
  type GroupAction,
  GroupError,
  GroupLog,
  identityField,
  inviteMatches,
  MAX_ACTIONS_PER_CHANGE,
  MAX_CHANGE_LAG,
  MAX_GROUP_NAME_CHARS,
  MAX_ROOM_MEMBERS,
  newInvite,
  parseInvite,
  readChange,
  REVOKE_INVITE,
  signChange,
  type SignedChange,
} from "./mod.ts";

interface Person {
  name: string;
  key: IdentityKeyPair;
  id: string;
}

async function people(...names: string[]): Promise<Person[]> {
  return await Promise.all(names.map(async (name) => {
    const key = await IdentityKeyPair.generate();
    return { name, key, id: identityField(key.publicIdentity) };
  }));
}

async function room(owner: Person, others: Person[], kind: "group" | "channel" = "group") {
  return await GroupLog.create(owner.key, owner.name, {
    id: toHex(randomBytes(16)),
    name: "Quokka club",
    kind,
    members: others.map((p) => ({ u: p.name, id: p.id })),
  });
}

async function replay(changes: SignedChange[]): Promise<GroupLog> {
  let log = await GroupLog.fromWire([]);
  for (const c of changes) log = (await log.receive(c)).log;
  return log;
}

function summary(log: GroupLog) {
  const s = log.state;
  return {
    name: s.name,
    version: s.version,
    members: [...s.members.keys()].sort(),
    admins: [...s.admins].sort(),
    invite: s.inviteHash,
  };
}

Deno.test("GroupLog.create() makes the creator admin and every member known by identity key", async () => {
  const [ann, bob, cat] = await people("ann", "bob", "cat");
  const { log, changes } = await room(ann!, [bob!, cat!]);
  assert.deepEqual(summary(log), {
    name: "Quokka club",
    version: 2,
    members: ["ann", "bob", "cat"],
    admins: ["ann"],
    invite: null,
  });
  assert.equal(log.state.members.get("bob")!.identity, bob!.id);
  // Another member holding the same changes holds the same state.
  assert.deepEqual(summary(await replay(changes)), summary(log));
});

Deno.test("a change applies only when signed by an admin of the state it applies to", async () => {
  const [ann, bob, cat, eve] = await people("ann", "bob", "cat", "eve");
  const { log, changes } = await room(ann!, [bob!, cat!]);
  // Bob is a member, not an admin: his client refuses to make the change…
  await assert.rejects(
    log.propose(bob!.key, "bob", [{ a: "rename", name: "Bob's" }]),
    (e: unknown) => e instanceof GroupError && e.code === "not_allowed",
  );
  // …and a change he signs anyway is not applied by anyone.
  const forged = await signChange(bob!.key, {
    g: log.state.id,
    v: 3,
    by: "bob",
    at: 1,
    acts: [{ a: "rename", name: "Bob's" }],
  });
  const r = await log.receive(forged);
  assert.equal(r.applied, false);
  assert.equal(r.log.state.name, "Quokka club");
  // A change claiming to be Ann's but signed by Eve's key is not applied either.
  const claimed = await signChange(eve!.key, {
    g: log.state.id,
    v: 3,
    by: "ann",
    at: 1,
    acts: [{ a: "add", u: "eve", id: eve!.id }],
  });
  assert.equal((await log.receive(claimed)).applied, false);
  // Once Ann makes Bob admin, his change (made on that state) applies.
  const promoted = await log.propose(ann!.key, "ann", [{ a: "admin", u: "bob", on: true }]);
  const bobs = await promoted.log.propose(bob!.key, "bob", [{ a: "rename", name: "Bob's" }]);
  const other = await replay([...changes, bobs.change, promoted.change]);
  assert.equal(other.state.name, "Bob's");
  assert.deepEqual(summary(other), summary(bobs.log));
});

Deno.test("concurrent admin changes converge to one state whatever order they arrive in", async () => {
  const [ann, bob, cat, dan] = await people("ann", "bob", "cat", "dan");
  const made = await room(ann!, [bob!, cat!]);
  const both = await made.log.propose(ann!.key, "ann", [{ a: "admin", u: "bob", on: true }]);
  const base = [...made.changes, both.change];
  // At the same version: Ann renames and removes Bob; Bob adds Dan and renames.
  const byAnn = await both.log.propose(ann!.key, "ann", [
    { a: "rename", name: "Ann's" },
    { a: "remove", u: "bob" },
  ]);
  const byBob = await both.log.propose(bob!.key, "bob", [
    { a: "add", u: "dan", id: dan!.id },
    { a: "rename", name: "Bob's" },
  ]);
  assert.equal(byAnn.change.body.v, byBob.change.body.v);
  const orders = [
    [...base, byAnn.change, byBob.change],
    [...base, byBob.change, byAnn.change],
    [byBob.change, ...base.reverse(), byAnn.change],
  ];
  const results = await Promise.all(orders.map(replay));
  for (const r of results) assert.deepEqual(summary(r), summary(results[0]!));
  // Bob's own log, once Ann's change reaches it, agrees too.
  assert.deepEqual(summary((await byBob.log.receive(byAnn.change)).log), summary(results[0]!));
  assert.ok(!results[0]!.state.admins.has("bob") || results[0]!.state.members.has("bob"));
});

Deno.test("a removed admin's later changes apply nowhere, and a change dated too far back is refused", async () => {
  const [ann, bob, cat] = await people("ann", "bob", "cat");
  let { log } = await room(ann!, [bob!, cat!]);
  log = (await log.propose(ann!.key, "ann", [{ a: "admin", u: "bob", on: true }])).log;
  const beforeRemoval = log;
  log = (await log.propose(ann!.key, "ann", [{ a: "remove", u: "bob" }])).log;
  const late = await signChange(bob!.key, {
    g: log.state.id,
    v: log.state.version + 1,
    by: "bob",
    at: 1,
    acts: [{ a: "add", u: "bob", id: bob!.id }],
  });
  assert.equal((await log.receive(late)).applied, false);
  // Push the room MAX_CHANGE_LAG versions on: a change of Bob's from before his removal, at
  // exactly the lag, is still taken in (it loses to Ann's at that version or applies, the same
  // way everywhere); one more version back is refused.
  for (let i = 0; i < MAX_CHANGE_LAG + 1; i++) {
    log = (await log.propose(ann!.key, "ann", [{ a: "rename", name: `n${i}` }])).log;
  }
  const backdated = (v: number) =>
    signChange(bob!.key, {
      g: log.state.id,
      v,
      by: "bob",
      at: 1,
      acts: [{ a: "rename", name: "rewritten" }],
    });
  await log.receive(await backdated(log.state.version - MAX_CHANGE_LAG));
  await assert.rejects(
    log.receive(await backdated(log.state.version - MAX_CHANGE_LAG - 1)),
    (e: unknown) => e instanceof GroupError && e.code === "not_allowed",
  );
  assert.ok(beforeRemoval.state.admins.has("bob"));
});

Deno.test("anyone can leave; the last admin leaving hands over, and the last admin cannot be demoted", async () => {
  const [ann, bob, cat] = await people("ann", "bob", "cat");
  let { log } = await room(ann!, [cat!, bob!]);
  await assert.rejects(log.propose(ann!.key, "ann", [{ a: "admin", u: "ann", on: false }]));
  log = (await log.propose(cat!.key, "cat", [{ a: "leave" }])).log;
  assert.deepEqual(summary(log).members, ["ann", "bob"]);
  log = (await log.propose(ann!.key, "ann", [{ a: "leave" }])).log;
  assert.deepEqual(summary(log).admins, ["bob"]);
});

Deno.test("in a broadcast channel only admins post; members react", async () => {
  const [ann, bob] = await people("ann", "bob");
  const { log } = await room(ann!, [bob!], "channel");
  assert.equal(log.state.kind, "channel");
  assert.ok(log.canPost("ann", "message"));
  assert.ok(!log.canPost("bob", "message"));
  assert.ok(log.canPost("bob", "reaction"));
  assert.ok(!log.canPost("zed", "reaction"));
  const group = (await room(ann!, [bob!])).log;
  assert.ok(group.canPost("bob", "message"));
});

Deno.test("an invite code admits its holder until it is revoked or replaced", async () => {
  const [ann, bob] = await people("ann", "bob");
  let { log } = await room(ann!, [bob!]);
  const first = await newInvite(log.state.id, "ann");
  log = (await log.propose(ann!.key, "ann", [first.action])).log;
  const parsed = parseInvite(first.code);
  assert.equal(parsed.admin, "ann");
  assert.equal(parsed.groupId, log.state.id);
  assert.ok(await inviteMatches(log.state, parsed.secret));
  assert.ok(!first.code.includes("Quokka"));
  const second = await newInvite(log.state.id, "ann");
  log = (await log.propose(ann!.key, "ann", [second.action])).log;
  assert.ok(!(await inviteMatches(log.state, parsed.secret)));
  log = (await log.propose(ann!.key, "ann", [REVOKE_INVITE])).log;
  assert.ok(!(await inviteMatches(log.state, parseInvite(second.code).secret)));
  assert.throws(() => parseInvite("ann~short"), GroupError);
  assert.throws(() => parseInvite("no code at all"), GroupError);
  // Bob, not an admin, cannot make one.
  await assert.rejects(
    log.propose(bob!.key, "bob", [(await newInvite(log.state.id, "bob")).action]),
  );
});

Deno.test(`a change holds MAX_ACTIONS_PER_CHANGE (${MAX_ACTIONS_PER_CHANGE}) actions and names of MAX_GROUP_NAME_CHARS, no more`, async () => {
  const [ann] = await people("ann");
  const body = (acts: GroupAction[]) =>
    utf8(JSON.stringify({ g: "00".repeat(16), v: 2, by: "ann", at: 0, acts }));
  const renames = (n: number, name = "x"): GroupAction[] =>
    Array.from({ length: n }, () => ({ a: "rename", name }));
  await readChange(body(renames(MAX_ACTIONS_PER_CHANGE)), new Uint8Array(64));
  await assert.rejects(readChange(body(renames(MAX_ACTIONS_PER_CHANGE + 1)), new Uint8Array(64)));
  await readChange(body(renames(1, "n".repeat(MAX_GROUP_NAME_CHARS))), new Uint8Array(64));
  await assert.rejects(
    readChange(body(renames(1, "n".repeat(MAX_GROUP_NAME_CHARS + 1))), new Uint8Array(64)),
  );
  await assert.rejects(readChange(utf8("{not json"), new Uint8Array(64)), GroupError);
  assert.ok(ann);
});

Deno.test(`a room holds MAX_ROOM_MEMBERS (${MAX_ROOM_MEMBERS}) members, not one more`, async () => {
  const [ann, bob] = await people("ann", "bob");
  // One valid identity stands in for every member: the limit counts names.
  const others = Array.from({ length: MAX_ROOM_MEMBERS - 1 }, (_, i) => ({
    name: `m${i}`,
    key: bob!.key,
    id: bob!.id,
  }));
  const { log } = await room(ann!, others);
  assert.equal(log.state.members.size, MAX_ROOM_MEMBERS);
  await assert.rejects(log.propose(ann!.key, "ann", [{ a: "add", u: "one_more", id: bob!.id }]));
  const back = await GroupLog.fromWire(log.toWire());
  assert.deepEqual(summary(back), summary(log));
});
