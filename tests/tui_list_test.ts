import assert from "node:assert/strict";
import { listHeader } from "../client/tui/chat_list.ts";
import { textWidth } from "../client/tui/text_width.ts";
import { connectChat } from "./support/chat.ts";
import { startTestServer } from "./support/server.ts";
import { TmuxClient } from "./support/tmux.ts";
import { tuiSignUp, withLimit } from "./support/tui.ts";

const PW = "battery staple 2";
const LONG_NAME = "Bartholomew Longfellow-Smythe the Third";

/** Rows of `screen` that contain `text`. */
function rowsWith(screen: string, text: string): string[] {
  return screen.split("\n").filter((r) => r.includes(text));
}

Deno.test(
  "connect: the chat list keeps one row per chat with the username at every width and resize",
  withLimit(async () => {
    const t = await startTestServer("sqlite");
    const profile = await Deno.makeTempDir({ prefix: "pesuchat_tui_" });
    const args = [
      "connect",
      `127.0.0.1:${t.port}`,
      "--profile",
      profile,
      "--trust",
      t.server.fingerprint,
    ];
    const alice = await TmuxClient.start({ args });
    const bob = await connectChat(t);
    const carol = await connectChat(t);
    try {
      await bob.client.signup({ fullName: LONG_NAME, username: "bob", password: PW });
      await carol.client.signup({ fullName: "Carol", username: "carol_longer_name", password: PW });
      await tuiSignUp(alice, "alice", "correct horse 1");
      const long = "a long last message that goes on and on ".repeat(8);
      await bob.client.send("alice", long);
      await carol.client.send("alice", long);
      for (const [columns, rows] of [[80, 24], [50, 20], [32, 20], [24, 16], [120, 30], [80, 24]]) {
        await alice.resize(columns!, rows!);
        // Drawn at the new width (its header says so), each chat once, no row wider.
        const header = listHeader("alice", "ALICE", `127.0.0.1:${t.port}`, "online", columns!);
        const screen = await alice.waitFor((s) =>
          s.split("\n")[0] === header &&
          rowsWith(s, "carol_longer_name").length === 1 &&
          rowsWith(s, "+ New chat").length === 1 &&
          rowsWith(s, "bob").length === 1 &&
          s.split("\n").every((r) => textWidth(r) <= columns!) &&
          // The full name, learnt by a lookup after the first message, is drawn once known.
          (columns! < 80 || /Bartholomew.*\(bob\)/.test(rowsWith(s, "bob")[0]!))
        );
        // The username is whole; at 80 columns and more, with the full name's start before it.
        const row = rowsWith(screen, "bob")[0]!;
        assert.match(row, /\bbob\b/, `${columns} columns:\n${screen}`);
        if (columns! >= 80) assert.match(row, /Bartholomew.*\(bob\)/, screen);
      }
      // Quitting from the list leaves no list behind on the screen.
      await alice.keys("Up", "Enter");
      assert.equal(await alice.exitCode(), 0);
      assert.doesNotMatch(await alice.screen(), /New chat|carol_longer_name/);
    } finally {
      await alice.stop();
      await bob.client.close();
      await carol.client.close();
      await t.stop();
    }
  }),
);

Deno.test(
  "connect: after /quit in a chat, no stale chat list is left on the screen",
  withLimit(async () => {
    const t = await startTestServer("sqlite");
    const profile = await Deno.makeTempDir({ prefix: "pesuchat_tui_" });
    const args = [
      "connect",
      `127.0.0.1:${t.port}`,
      "--profile",
      profile,
      "--trust",
      t.server.fingerprint,
    ];
    const alice = await TmuxClient.start({ args });
    const bob = await connectChat(t);
    try {
      await bob.client.signup({ fullName: "Bob B", username: "bob", password: PW });
      await tuiSignUp(alice, "alice", "correct horse 1");
      await bob.client.send("alice", "hello");
      await alice.waitFor(/Bob B \(bob\).*hello/);
      await alice.keys("Enter");
      await alice.waitFor("/help");
      await alice.line("/quit");
      assert.equal(await alice.exitCode(), 0);
      assert.doesNotMatch(await alice.screen(), /New chat|Bob B/);
    } finally {
      await alice.stop();
      await bob.client.close();
      await t.stop();
    }
  }),
);
