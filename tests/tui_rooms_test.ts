import assert from "node:assert/strict";
import { connectChat, eventually } from "./support/chat.ts";
import { startTestServer, type TestServer } from "./support/server.ts";
import type { TmuxClient } from "./support/tmux.ts";
import { tuiConnect, tuiOpenChat, tuiSignUp, withLimit } from "./support/tui.ts";

/** A terminal client signed up as `username` on `t`. */
async function tuiUser(t: TestServer, username: string): Promise<TmuxClient> {
  const c = await tuiConnect(t);
  await tuiSignUp(c, username, "correct horse 1");
  return c;
}

Deno.test(
  "connect: two terminals make a group, chat, add and remove, and use every message action",
  withLimit(async () => {
    const t = await startTestServer("sqlite");
    const carol = await connectChat(t);
    await carol.client.signup({
      fullName: "Carol C",
      username: "carol",
      password: "paper kite 42",
    });
    const alice = await tuiUser(t, "alice");
    const bob = await tuiUser(t, "bob");
    try {
      // Alice makes a group with Bob from her chat with him, and is taken into it.
      await tuiOpenChat(alice, "bob");
      await alice.line("/group new Climbers bob");
      await alice.waitFor("# Climbers · group · 2 members");

      // Bob's chat list shows the room with its member count; he opens it.
      await bob.waitFor("# Climbers · 2 members");
      await bob.keys("Enter");
      await bob.waitFor("# Climbers · group · 2 members");

      // Messages both ways, numbered, with their authors.
      await alice.line("hello climbers");
      await bob.waitFor(/^1 \d\d:\d\d alice: hello climbers$/m);
      await bob.line("/reply 1 on my way");
      await alice.waitFor("↳ 1 you: hello climbers");
      await alice.waitFor(/^2 \d\d:\d\d bob: on my way$/m);

      // Edit, reaction, pin: shown on the other screen.
      await alice.line("/edit 1 hello all");
      await bob.waitFor(/^1 \d\d:\d\d alice: hello all \(edited\)$/m);
      await bob.line("/react 1 👍");
      await alice.waitFor("👍 bob");
      await alice.line("/pin 1");
      await bob.waitFor(/^📌 1 hello all$/m);

      // Bob may not delete Alice's message; he deletes his own, and it reads deleted for both.
      await bob.line("/delete 1");
      await bob.waitFor("you can delete only your own messages (a room's admins: any)");
      await bob.line("/delete 2");
      await alice.waitFor(/^2 \d\d:\d\d bob: \(deleted\)$/m);
      assert.doesNotMatch(await alice.screen(), /on my way$/m);

      // Alice adds Carol: three members everywhere; /info lists admins and verified state.
      await alice.line("/add carol");
      await bob.waitFor("# Climbers · group · 3 members");
      await eventually(
        async () => (await carol.client.rooms.list()).some((r) => r.name === "Climbers"),
        "carol in the room",
        60_000,
      );
      await alice.line("/info");
      await alice.waitFor(/^· {3}alice \(you\) · admin · verified$/m);
      await alice.waitFor(/^· {3}bob · not verified$/m);
      await alice.waitFor(/^· {3}carol · not verified$/m);
      await alice.waitFor(/Climbers · group · 3 members · you joined \d{4}-\d\d-\d\d/);

      // Removed: two members again, for Bob too; Bob may not remove anyone.
      await alice.line("/remove carol");
      await bob.waitFor("# Climbers · group · 2 members");
      await bob.line("/remove alice");
      await bob.waitFor("! only an admin may remove members here; /info lists the admins");

      // A broadcast channel: Bob reads that only admins post, and his post is refused.
      await alice.line("/channel new News bob");
      await alice.waitFor("# News · channel · 2 members");
      await alice.line("first news");
      await bob.line("/back");
      // The newest conversation comes first, with its last message.
      await bob.waitFor(/# News · 2 members .*first news/);
      await bob.keys("Enter");
      await bob.waitFor("# News · channel · 2 members · only admins post");
      await bob.waitFor("alice: first news");
      await bob.line("me too");
      await bob.waitFor("not sent: only admins post in this channel");
      await bob.keys("C-u");
      // A pin is refused before anything is applied: no pin shows, even after opening again.
      await bob.line("/pin 1");
      await bob.waitFor("! only admins post, pin, edit or delete in this channel");
      // Reactions are every member's.
      await bob.line("/react 1 👍");
      await alice.waitFor(/^ +👍 bob$/m);
      await bob.line("/back");
      await bob.waitFor(/# News · 2 members .*first news/);
      await bob.keys("Enter");
      await bob.waitFor(/^ +👍 bob$/m);
      assert.doesNotMatch(await bob.screen(), /📌/);
      assert.doesNotMatch(await alice.screen(), /📌/);

      await alice.line("/quit");
      assert.equal(await alice.exitCode(), 0);
    } finally {
      await alice.stop();
      await bob.stop();
      await carol.client.close();
      await t.stop();
    }
  }),
);
