/**
 * Running a room from the real terminal client under tmux: promote and demote, rename, invite
 * codes made, used and revoked, remove, pin and unpin, the history of an edit; then joining
 * another room by its code and leaving it. The other members are real chat clients over TCP, and
 * what they hold is checked as well as the screen.
 */

import assert from "node:assert/strict";
import { connectChat, eventually, type TestChat } from "./support/chat.ts";
import { startTestServer } from "./support/server.ts";
import { tuiConnect, tuiOpenChat, tuiSignUp, withLimit } from "./support/tui.ts";

const WAIT_MS = 60_000;

/** A core client signed up as `username`. */
async function member(t: Parameters<typeof connectChat>[0], username: string): Promise<TestChat> {
  const c = await connectChat(t);
  await c.client.signup({ fullName: username.toUpperCase(), username, password: "paper kite 42" });
  return c;
}

/** What `c` holds of room `id`, or null when it holds nothing yet. */
async function roomOf(c: TestChat, id: string) {
  return (await c.client.rooms.list()).find((r) => r.id === id) ?? null;
}

/** The texts `c` stores for room `id`. */
async function texts(c: TestChat, id: string): Promise<string[]> {
  return (await c.client.history(`#${id}`, 100)).map((m) => m.text);
}

/** The last note the screen shows (the row above the input line). */
const lastNote = (s: string) => s.trimEnd().split("\n").at(-2);

Deno.test(
  "connect: an admin promotes, demotes, renames, invites, revokes and removes; a member joins by code and leaves",
  withLimit(async () => {
    const t = await startTestServer("sqlite");
    const alice = await tuiConnect(t, { columns: 100, rows: 45 });
    const others: TestChat[] = [];
    try {
      await tuiSignUp(alice, "alice", "correct horse 1");
      const [bob, carol, dave] = await Promise.all(
        ["bob", "carol", "dave"].map((u) => member(t, u)),
      );
      others.push(bob!, carol!, dave!);

      // Alice makes a group; Bob and Carol hold it.
      await tuiOpenChat(alice, "bob");
      await alice.line("/group new Crag bob carol");
      await alice.waitFor("# Crag · group · 3 members");
      let id = "";
      await eventually(
        async () => {
          id = (await bob!.client.rooms.list()).find((r) => r.name === "Crag")?.id ?? "";
          return id !== "" && (await roomOf(carol!, id)) !== null;
        },
        "bob and carol to hold the room",
        WAIT_MS,
      );

      // A message pinned and unpinned, edited, and its history shown.
      await alice.line("first");
      await alice.waitFor(/^1 \d\d:\d\d you: first/m);
      await bob!.waitFor(1, WAIT_MS);
      const first = bob!.received[0]!.mid;
      await alice.line("/pin 1");
      await alice.waitFor(/^📌 1 first$/m);
      await eventually(async () => (await bob!.client.rooms.actions(first)).pinned, "pin", WAIT_MS);
      await alice.line("/unpin 1");
      await alice.waitFor((s) => !s.includes("📌"));
      await eventually(
        async () => !(await bob!.client.rooms.actions(first)).pinned,
        "unpin",
        WAIT_MS,
      );
      await alice.line("/edit 1 first climb");
      await alice.waitFor(/^1 \d\d:\d\d you: first climb \(edited\)/m);
      await eventually(
        async () => (await texts(bob!, id)).includes("first climb"),
        "edit",
        WAIT_MS,
      );
      await alice.line("/history 1");
      await alice.waitFor(
        /^· message 1 was edited once; its versions, oldest first:\n· {3}[\d-]+ [\d:]+ {2}first\n· {3}[\d-]+ [\d:]+ {2}first climb {2}\(now\)$/m,
      );

      // An admin deletes a member's message for everyone; Carol's copy reads deleted too.
      const line = await bob!.client.rooms.send(id, "off topic");
      await alice.waitFor(/^2 \d\d:\d\d bob: off topic$/m);
      await alice.line("/edit 2 on topic");
      await alice.waitFor((s) => lastNote(s) === "! you can edit only your own messages");
      await alice.line("/delete 2");
      await alice.waitFor(/^2 \d\d:\d\d bob: \(deleted\)$/m);
      await eventually(
        async () => (await carol!.client.rooms.actions(line.mid)).deleted,
        "carol's copy deleted",
        WAIT_MS,
      );
      await eventually(
        async () => (await bob!.client.rooms.actions(line.mid)).deleted,
        "bob's copy deleted",
        WAIT_MS,
      );

      // Promote, then demote: Bob's client follows, and /info says so.
      await alice.line("/admin promote bob");
      await alice.waitFor("· bob is now an admin");
      await eventually(async () => (await roomOf(bob!, id))?.admin === true, "promote", WAIT_MS);
      await alice.line("/info");
      await alice.waitFor(/^· {3}bob · admin · not verified$/m);
      await alice.line("/admin demote bob");
      await alice.waitFor("· bob is no longer an admin");
      await eventually(async () => (await roomOf(bob!, id))?.admin === false, "demote", WAIT_MS);

      // Renamed: the header, and every member's copy.
      await alice.line("/rename Boulder Crew");
      await alice.waitFor("# Boulder Crew · group · 3 members");
      await eventually(
        async () =>
          (await roomOf(bob!, id))?.name === "Boulder Crew" &&
          (await roomOf(carol!, id))?.name === "Boulder Crew",
        "the new name with bob and carol",
        WAIT_MS,
      );

      // An invite code: Dave asks with it, and Alice's client lets him in while she types nothing.
      await alice.line("/invite");
      const screen = await alice.waitFor(/^· {5}alice~[A-Za-z0-9_-]+$/m);
      const code = screen.match(/^· {5}(alice~[A-Za-z0-9_-]+)$/m)![1]!;
      await dave!.client.rooms.join(code);
      await alice.waitFor("# Boulder Crew · group · 4 members");
      await eventually(async () => (await roomOf(dave!, id))?.member === true, "dave in", WAIT_MS);

      // Removed: Dave's client knows, and reads nothing sent after.
      await alice.line("/remove dave");
      await alice.waitFor("# Boulder Crew · group · 3 members");
      await eventually(
        async () => (await roomOf(dave!, id))?.member === false,
        "dave out",
        WAIT_MS,
      );
      await alice.line("after dave");
      await eventually(async () => (await texts(bob!, id)).includes("after dave"), "bob", WAIT_MS);
      await eventually(
        async () => (await texts(carol!, id)).includes("after dave"),
        "carol",
        WAIT_MS,
      );
      assert.ok(!(await texts(dave!, id)).includes("after dave"));

      // Revoked: the old code no longer admits Dave, and Alice is told he tried.
      await alice.line("/invite revoke");
      await alice.waitFor("· the invite code no longer admits anyone");
      await dave!.client.rooms.join(code);
      await alice.waitFor("! dave asked to join with an invite code that is not valid");
      assert.match(await alice.screen(), /# Boulder Crew · group · 3 members/);
      assert.equal((await roomOf(dave!, id))?.member, false);

      // Admin commands on who is not there, or where they do not belong, say why.
      for (
        const [line, says] of [
          ["/remove dave", "! dave is not a member of this room"],
          ["/admin promote dave", "! dave is not a member of this room"],
          ["/join nonsense", "! that is not an invite code"],
          ["/add carol", "! carol: already in this room"],
          ["/remove alice", "! to leave the room yourself, /leave"],
        ]
      ) {
        await alice.line(line!);
        await alice.waitFor((s) => lastNote(s) === says);
      }

      // Bob's room, joined with its code from the terminal: admitted by Bob's client alone.
      const hut = await bob!.client.rooms.create("Hut", "group", ["carol"]);
      const hutCode = await bob!.client.rooms.invite(hut);
      await alice.line(`/join ${hutCode}`);
      await alice.waitFor("· asked to join: the room shows in your chat list once an admin's");
      await eventually(async () => (await roomOf(bob!, hut))?.members.length === 3, "in", WAIT_MS);
      await alice.line("/back");
      await alice.waitFor(/●\s+# Hut · 3 members/);
      await alice.keys("Enter");
      await alice.waitFor("# Hut · group · 3 members");

      // Not an admin here: the admins' commands say so, and change nothing.
      for (
        const [line, says] of [
          ["/rename Shed", "! only an admin may rename the room here; /info lists the admins"],
          ["/invite", "! only an admin may make an invite code here; /info lists the admins"],
          ["/remove carol", "! only an admin may remove members here; /info lists the admins"],
          ["/admin promote alice", "! only an admin may promote here; /info lists the admins"],
          [`/join ${hutCode}`, "! you are already a member of Hut"],
        ]
      ) {
        await alice.line(line!);
        await alice.waitFor((s) => lastNote(s) === says);
      }
      assert.equal((await roomOf(bob!, hut))?.name, "Hut");
      assert.equal((await roomOf(bob!, hut))?.members.length, 3);

      // Messages both ways once in.
      await carol!.client.rooms.send(hut, "welcome alice");
      await alice.waitFor(/^1 \d\d:\d\d carol: welcome alice$/m);
      await alice.line("thanks");
      await eventually(async () => (await texts(bob!, hut)).includes("thanks"), "thanks", WAIT_MS);

      // Alice leaves: the others hold two members, and what they send after never reaches her.
      await alice.line("/leave");
      await alice.waitFor("· you left this room");
      await alice.waitFor("# Hut · group · 2 members · you are no longer a member");
      await eventually(
        async () =>
          (await roomOf(carol!, hut))?.members.map((m) => m.username).join() === "bob,carol",
        "carol to see alice leave",
        WAIT_MS,
      );
      await carol!.client.rooms.send(hut, "after alice left");
      await eventually(
        async () => (await texts(bob!, hut)).includes("after alice left"),
        "bob to read carol",
        WAIT_MS,
      );
      await alice.line("still here?");
      await alice.waitFor("! not sent: you are not a member of this room");
      // The refused text is kept in the input to copy; Ctrl-U clears it.
      await alice.waitFor(/^> still here\?$/m);
      await alice.keys("C-u");
      await alice.waitFor((s) => s.trimEnd().split("\n").at(-1) === ">");
      await alice.line("/leave");
      await alice.waitFor((s) => lastNote(s) === "! you are no longer a member of this room");
      await alice.line("/react 1 👍");
      await alice.waitFor((s) => lastNote(s) === "! you are no longer a member of this room");
      await alice.line("/back");
      await alice.waitFor(/# Hut · 2 members/);
      await alice.keys("Enter");
      await alice.waitFor(/^1 \d\d:\d\d carol: welcome alice$/m);
      assert.doesNotMatch(await alice.screen(), /👍/);
      assert.doesNotMatch(await alice.screen(), /after alice left/);
      assert.ok(!(await texts(bob!, hut)).includes("still here?"));

      await alice.line("/quit");
      assert.equal(await alice.exitCode(), 0);
    } finally {
      await alice.stop();
      for (const c of others) await c.client.close();
      await t.stop();
    }
  }),
);
