/**
 * Message actions in a 1:1 chat, typed into the real terminal client under tmux, with the other
 * side a real chat client over TCP: what the terminal shows, and what the other side stores.
 */

import assert from "node:assert/strict";
import { connectChat, eventually, type TestChat } from "./support/chat.ts";
import { startTestServer } from "./support/server.ts";
import { tuiConnect, tuiOpenChat, tuiSignUp, withLimit } from "./support/tui.ts";

/** What Bob's side holds for a message: its text now and the actions taken on it. */
async function bobSees(bob: TestChat, mid: Uint8Array) {
  const history = await bob.client.history("alice", 50);
  const m = history.find((h) => h.mid.toHex() === mid.toHex());
  return { text: m?.text, actions: await bob.client.rooms.actions(mid) };
}

const NO_PIN = (s: string) => !s.includes("📌");

Deno.test(
  "connect: reply, edit with its history, delete, pin, unpin and react in a 1:1 chat",
  withLimit(async () => {
    const t = await startTestServer("sqlite");
    const alice = await tuiConnect(t, { columns: 100, rows: 45 });
    let bob: TestChat | null = null;
    try {
      await tuiSignUp(alice, "alice", "correct horse 1");
      bob = await connectChat(t);
      await bob.client.signup({ fullName: "Bob B", username: "bob", password: "paper kite 42" });
      const first = await bob.client.send("alice", "hi alice");
      await tuiOpenChat(alice, "bob");
      await alice.waitFor(/^1 \d\d:\d\d bob: hi alice$/m);

      // A reply quotes the message on both sides: Bob's client stores what it answers.
      await alice.line("/reply 1 hi bob");
      await alice.waitFor(/^ +↳ 1 bob: hi alice\n2 \d\d:\d\d you: hi bob/m);
      await bob.waitFor(1, 60_000);
      const mine = bob.received[0]!;
      assert.equal(mine.text, "hi bob");
      await eventually(
        async () => (await bobSees(bob!, mine.mid)).actions.replyTo === first.mid.toHex(),
        "bob's client to store the reply's target",
        60_000,
      );
      // Bob's reply to it shows Alice's message quoted as hers.
      const third = await bob.client.send("alice", "glad you wrote", mine.mid);
      await alice.waitFor(/^ +↳ 2 you: hi bob\n3 \d\d:\d\d bob: glad you wrote$/m);

      // Edits, twice: shown as edited, the text replaced on Bob's side, the old ones kept.
      await alice.line("/edit 2 hello bob");
      await alice.waitFor(/^2 \d\d:\d\d you: hello bob \(edited\)/m);
      await alice.line("/edit 2 hello bob!");
      await alice.waitFor(/^2 \d\d:\d\d you: hello bob! \(edited\)/m);
      // Bob's reply quotes the text as it reads now.
      await alice.waitFor(/^ +↳ 2 you: hello bob!\n3 \d\d:\d\d bob: glad you wrote$/m);
      await eventually(
        async () => (await bobSees(bob!, mine.mid)).text === "hello bob!",
        "bob's copy to read the last edit",
        60_000,
      );
      assert.deepEqual(
        (await bobSees(bob, mine.mid)).actions.edits.map((e) => e.text),
        ["hi bob", "hello bob"],
      );
      // /history lists every version with its time, the one shown now last.
      await alice.line("/history 2");
      const stamp = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d`;
      await alice.waitFor(
        new RegExp(
          String.raw`^· message 2 was edited 2 times; its versions, oldest first:\n` +
            `·   ${stamp}  hi bob\n·   ${stamp}  hello bob\n·   ${stamp}  hello bob!  \\(now\\)$`,
          "m",
        ),
      );
      // Bob's edit of his own message: its history on Alice's screen too.
      await bob.client.rooms.act("alice", {
        t: "edit",
        target: third.mid,
        text: "so glad",
        ts: Date.now(),
      });
      await alice.waitFor(/^3 \d\d:\d\d bob: so glad \(edited\)$/m);
      await alice.line("/history 3");
      await alice.waitFor(
        new RegExp(
          String.raw`^· message 3 was edited once; its versions, oldest first:\n` +
            `·   ${stamp}  glad you wrote\n·   ${stamp}  so glad  \\(now\\)$`,
          "m",
        ),
      );

      // Commands in the wrong place, or on someone else's message: a sentence, nothing sent.
      for (
        const [line, says] of [
          ["/edit 1 not yours", "! you can edit only your own messages"],
          ["/delete 1", "! you can delete only your own messages"],
          ["/admin promote bob", "! /admin works in a group or channel"],
          ["/leave", "! /leave works in a group or channel"],
          ["/invite", "! /invite works in a group or channel"],
          ["/history 1", "· message 1 was never edited"],
          ["/history 9", "! there is no message 9 on this screen"],
          ["/react 9 👍", "! there is no message 9 on this screen"],
          ["/pin", "! usage: /pin N (N is the number beside it)"],
        ]
      ) {
        await alice.line(line!);
        await alice.waitFor((s) => s.trimEnd().split("\n").at(-2) === says, 60_000);
      }
      assert.equal((await bobSees(bob, first.mid)).text, "hi alice");
      assert.equal((await bobSees(bob, first.mid)).actions.deleted, false);

      // Pinned at the top for both; unpinned, gone from the top for both.
      await alice.line("/pin 1");
      await alice.waitFor(/^📌 1 hi alice$/m);
      await eventually(
        async () => (await bobSees(bob!, first.mid)).actions.pinned,
        "bob's client to hold the pin",
        60_000,
      );
      await alice.line("/unpin 1");
      await alice.waitFor(NO_PIN);
      await eventually(
        async () => !(await bobSees(bob!, first.mid)).actions.pinned,
        "bob's client to drop the pin",
        60_000,
      );

      // One reaction per person, changed in place, then taken back; Bob's stays.
      await alice.line("/react 1 👍");
      await alice.waitFor(/^ +👍 alice$/m);
      await alice.line("/react 1 🎉");
      await alice.waitFor(/^ +🎉 alice$/m);
      assert.doesNotMatch(await alice.screen(), /👍/);
      await eventually(
        async () =>
          JSON.stringify((await bobSees(bob!, first.mid)).actions.reactions) ===
            JSON.stringify({ alice: "🎉" }),
        "bob's client to hold alice's changed reaction",
        60_000,
      );
      await bob.client.rooms.act("alice", { t: "react", target: first.mid, emoji: "👌" });
      await alice.waitFor(/^ +🎉 alice {2}👌 bob$/m);
      await alice.line("/react 1");
      await alice.waitFor(/^ +👌 bob$/m);
      await eventually(
        async () =>
          JSON.stringify((await bobSees(bob!, first.mid)).actions.reactions) ===
            JSON.stringify({ bob: "👌" }),
        "bob's client to drop alice's reaction",
        60_000,
      );

      // Deleted for everyone: the text is gone on Bob's side, and so are its versions.
      await alice.line("/delete 2");
      await alice.waitFor(/^2 \d\d:\d\d you: \(deleted\)(?: {2}\S+)?$/m);
      // Bob's reply quotes it as deleted, not with the text it had.
      await alice.waitFor(/^ +↳ 2 you: \(deleted\)\n3 \d\d:\d\d bob: so glad \(edited\)$/m);
      assert.doesNotMatch(await alice.screen(), /hello bob!$/m);
      await eventually(
        async () => (await bobSees(bob!, mine.mid)).actions.deleted,
        "bob's client to delete alice's message",
        60_000,
      );
      const gone = await bobSees(bob, mine.mid);
      assert.equal(gone.text, "");
      assert.deepEqual(gone.actions.edits, []);
      await alice.line("/history 2");
      await alice.waitFor("· message 2 was deleted for everyone; its versions are gone");
      await alice.line("/edit 2 back again");
      await alice.waitFor("! message 2 was deleted");
      // Bob deletes his own: deleted on Alice's screen.
      await bob.client.rooms.act("alice", { t: "delete", target: third.mid });
      await alice.waitFor(/^3 \d\d:\d\d bob: \(deleted\)$/m);
      assert.doesNotMatch(await alice.screen(), /bob: so glad/);

      // /help names the actions, each with what it does.
      await alice.line("/help");
      await alice.waitFor(/^· \/history N +the earlier versions of message N, with times$/m);
      await alice.waitFor(/^· \/unpin N +take message N off the top$/m);

      await alice.line("/quit");
      assert.equal(await alice.exitCode(), 0);
      assert.deepEqual(bob.problems, []);
    } finally {
      await alice.stop();
      await bob?.client.close();
      await t.stop();
    }
  }),
);
