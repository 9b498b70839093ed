/**
 * Room state reaches every member even when the server withholds or spoils the pairwise message
 * that carried a change, and a change another process on the profile took in is never lost.
 */

import assert from "node:assert/strict";
import type { QueuedMessage } from "../sql/store.ts";
import { eventually, type TestChat } from "./support/chat.ts";
import { DATABASE_KINDS } from "./support/databases.ts";
import { loginChat, queuedFor, timeLimited } from "./support/sessions.ts";
import { startTestServer, type TestServer } from "./support/server.ts";
import { agreeOnRoom, type RoomState, roomState, signedUp, textsIn } from "./support/rooms.ts";

const PASSWORD = "room gap password 4";
const TIME_LIMIT_MS = 300_000;
/** How long one step may take on a loaded machine. */
const STEP_MS = 90_000;

/** Waits until every one of `who` holds the same state of the room, one where `until` holds. */
const agree = (who: TestChat[], id: string, what: string, until: (s: RoomState) => boolean) =>
  agreeOnRoom(who.map((c) => [c.client.username, c]), id, what, until);
const people = (t: TestServer, names: string[]) => signedUp(t, names, PASSWORD);
const stateOf = roomState;
const texts = (c: TestChat, id: string) => textsIn(c, `#${id}`);

/** A withholding server: takes everything `from` sent `to` off `to`'s queue, undelivered. */
async function withhold(t: TestServer, to: string, from: string): Promise<QueuedMessage[]> {
  const user = (await t.store.userByName(to))!;
  const held = (await queuedFor(t, to)).filter((m) => m.senderName === from);
  await t.store.ack(user.id, held.map((m) => m.qid));
  return held;
}

/** Ann's room with Bob and Dan, each holding everyone's sender key. */
async function room(t: TestServer) {
  const c = await people(t, ["ann", "bob", "dan"]);
  const id = await c.ann!.client.rooms.create("Quokka club", "group", ["bob", "dan"]);
  await agree(
    [c.ann!, c.bob!, c.dan!],
    id,
    "everyone holds the room",
    (s) => s.members.length === 3,
  );
  for (const [n, others] of [["ann", ["bob", "dan"]], ["bob", ["ann", "dan"]]] as const) {
    await c[n]!.client.rooms.send(id, `${n} says hello`);
    for (const o of others) {
      await eventually(
        () => texts(c[o]!, id).includes(`${n} says hello`),
        `${o} reads ${n}`,
        STEP_MS,
      );
    }
  }
  return { c, id };
}

for (const kind of DATABASE_KINDS) {
  Deno.test({
    name:
      `[${kind}] Rooms: a member whose room change the server withheld gets it from the next member who posts`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () =>
      timeLimited(TIME_LIMIT_MS, async () => {
        const t = await startTestServer(kind);
        try {
          const { c, id } = await room(t);
          const danDir = c.dan!.profile.dir;
          await c.dan!.client.close();
          await c.ann!.client.rooms.rename(id, "Renamed");
          await c.ann!.client.settle();
          await eventually(
            async () => (await queuedFor(t, "dan")).some((m) => m.senderName === "ann"),
            "the change queued for Dan",
            STEP_MS,
          );
          await agree([c.ann!, c.bob!], id, "Bob takes the change", (s) => s.name === "Renamed");
          const held = await withhold(t, "dan", "ann");
          assert.ok(held.length >= 1, "the server withheld Ann's change");

          c.dan = await loginChat(t, danDir, "dan", PASSWORD);
          await c.dan.client.settle();
          const behind = (await stateOf(c.dan, id))!;
          assert.equal(behind.name, "Quokka club", "Dan never got the change");
          // Bob's next message carries the room state he holds: Dan notices he lacks a change
          // and asks Bob for it. Every acceptance rule applies to what Bob sends: Ann signed it.
          await c.bob!.client.rooms.send(id, "after the rename");
          await eventually(
            () => texts(c.dan!, id).includes("after the rename"),
            "Dan reads Bob",
            STEP_MS,
          );
          const s = await agree(
            [c.ann!, c.bob!, c.dan],
            id,
            "Dan catches up",
            (s) => s.name === "Renamed",
          );
          assert.equal(s.version, behind.version + 1);
          for (const x of Object.values(c)) await x.client.close();
        } finally {
          await t.stop();
        }
      }),
  });

  Deno.test({
    name:
      `[${kind}] Rooms: concurrent changes reordered and one withheld still converge on every member`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () =>
      timeLimited(TIME_LIMIT_MS, async () => {
        const t = await startTestServer(kind);
        try {
          const { c, id } = await room(t);
          await c.ann!.client.rooms.setAdmin(id, "bob", true);
          const start = await agree(
            [c.ann!, c.bob!, c.dan!],
            id,
            "Bob is an admin",
            (s) => s.admins.includes("bob"),
          );
          const bobDir = c.bob!.profile.dir;
          const danDir = c.dan!.profile.dir;
          await c.bob!.client.close();
          await c.dan!.client.close();
          // Ann renames; the server holds her change back from Bob, who renames too: two
          // changes to one version, each made without the other.
          await c.ann!.client.rooms.rename(id, "Ann's name");
          await c.ann!.client.settle();
          await eventually(
            async () => (await queuedFor(t, "bob")).some((m) => m.senderName === "ann"),
            "Ann's change queued for Bob",
            STEP_MS,
          );
          const late = await withhold(t, "bob", "ann");
          c.bob = await loginChat(t, bobDir, "bob", PASSWORD);
          await c.bob.client.settle();
          await c.bob.client.rooms.rename(id, "Bob's name");
          await c.bob.client.settle();
          assert.equal((await stateOf(c.bob, id))!.version, start.version + 1);
          // Ann's change reaches Bob after his own (reordered, at his next login); Bob's never
          // reaches Dan.
          await c.bob.client.close();
          const bobUser = (await t.store.userByName("bob"))!;
          await t.store.enqueue(late.map(({ qid: _, ...m }) => ({
            ...m,
            recipientId: bobUser.id,
            mid: crypto.getRandomValues(new Uint8Array(16)),
          })));
          c.bob = await loginChat(t, bobDir, "bob", PASSWORD);
          await agree([c.ann!, c.bob], id, "Ann and Bob converge", (s) =>
            s.version === start.version + 1 && s.name !== "Quokka club");
          await eventually(
            async () =>
              (await queuedFor(t, "dan")).some((m) =>
                m.senderName === "bob"
              ),
            "Bob's change queued for Dan",
            STEP_MS,
          );
          await withhold(t, "dan", "bob");
          c.dan = await loginChat(t, danDir, "dan", PASSWORD);
          // Ann's change reaches him (deliveries arrive after the login, on their own time).
          await eventually(
            async () => (await stateOf(c.dan!, id))?.version === start.version + 1,
            "Dan holds Ann's change",
            STEP_MS,
          );
          assert.equal(
            (await stateOf(c.dan, id))!.name,
            "Ann's name",
            "Dan holds Ann's change only",
          );
          // Same version, another head: Ann's next message shows it, and Dan gets Bob's change.
          await c.ann!.client.rooms.send(id, "one name now");
          const s = await agree(
            [c.ann!, c.bob, c.dan],
            id,
            "all three converge",
            (s) => s.version === start.version + 1 && s.name !== "Quokka club",
          );
          assert.ok(["Ann's name", "Bob's name"].includes(s.name));
          for (const x of Object.values(c)) await x.client.close();
        } finally {
          await t.stop();
        }
      }),
  });

  Deno.test({
    name:
      `[${kind}] Rooms: a room change whose pairwise message cannot be decrypted is asked for again`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () =>
      timeLimited(TIME_LIMIT_MS, async () => {
        const t = await startTestServer(kind);
        try {
          const { c, id } = await room(t);
          const danDir = c.dan!.profile.dir;
          await c.dan!.client.close();
          await c.ann!.client.rooms.setAdmin(id, "dan", true);
          await c.ann!.client.settle();
          await eventually(
            async () => (await queuedFor(t, "dan")).some((m) => m.senderName === "ann"),
            "the change queued for Dan",
            STEP_MS,
          );
          // The server spoils the envelope: Dan cannot decrypt it, so what it carried is lost.
          const held = await withhold(t, "dan", "ann");
          assert.equal(held.length, 1, "one pairwise message from Ann: the change");
          const { qid: _, ...spoiled } = held[0]!;
          const body = spoiled.body.slice();
          body[body.length - 1]! ^= 1;
          await t.store.enqueue([{ ...spoiled, body }]);

          c.dan = await loginChat(t, danDir, "dan", PASSWORD);
          await eventually(
            () => c.dan!.notices.some((n) => n.includes("could not be decrypted")),
            "Dan's client says it could not read Ann's message",
            STEP_MS,
          );
          // Nobody posts: Dan's client asks Ann for the rooms they share, and Ann sends them.
          await agree(
            [c.ann!, c.bob!, c.dan],
            id,
            "Dan gets the change again",
            (s) => s.admins.includes("dan"),
          );
          await c.ann!.client.rooms.send(id, "still readable");
          await eventually(
            () => texts(c.dan!, id).includes("still readable"),
            "Dan reads Ann after the repair",
            STEP_MS,
          );
          for (const x of Object.values(c)) await x.client.close();
        } finally {
          await t.stop();
        }
      }),
  });
}

Deno.test({
  name:
    "Rooms: a change another process on the profile took in is kept when this one changes the room",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    timeLimited(TIME_LIMIT_MS, async () => {
      const t = await startTestServer("sqlite");
      try {
        const c = await people(t, ["ann", "dan"]);
        const id = await c.ann!.client.rooms.create("Two admins", "group", ["dan"]);
        await c.ann!.client.rooms.setAdmin(id, "dan", true);
        const start = await agree(
          [c.ann!, c.dan!],
          id,
          "Dan is an admin",
          (s) => s.admins.includes("dan"),
        );
        // This process holds the room (read, kept in memory) while a second one on the same
        // profile logs in and takes in Ann's next change.
        const first = c.dan!;
        const second = await loginChat(t, first.profile.dir, "dan", PASSWORD);
        await c.ann!.client.rooms.rename(id, "Ann's name");
        await agree([c.ann!, second], id, "the second process takes the change", (s) =>
          s.name === "Ann's name");
        await second.client.close();

        // The first process changes the room: on the room as stored, not as it read it before.
        await first.client.rooms.rename(id, "Dan's name");
        const mine = (await stateOf(first, id))!;
        assert.equal(mine.version, start.version + 2, "Ann's change is kept under Dan's");
        await first.client.close();
        const third = await loginChat(t, first.profile.dir, "dan", PASSWORD);
        const s = await agree(
          [c.ann!, third],
          id,
          "Ann takes Dan's change",
          (s) =>
            s.name === "Dan's name",
        );
        assert.equal(s.version, start.version + 2);
        await c.ann!.client.close();
        await third.client.close();
      } finally {
        await t.stop();
      }
    }),
});
