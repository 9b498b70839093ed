import assert from "node:assert/strict";
import { MAX_TEXT_CHARS } from "../client/content.ts";
import { MessageState } from "../client/local_store.ts";
import { SEND_FAILED_AFTER_MS } from "../client/messenger.ts";
import { connectChat, eventually, type TestChat } from "./support/chat.ts";
import { runPesuchat } from "./support/process.ts";
import { startTestServer, type TestServer } from "./support/server.ts";
import { SCREEN_TIMEOUT_MS, TmuxClient } from "./support/tmux.ts";
import { tuiOpenChat, tuiSignUp, withLimit } from "./support/tui.ts";

const PW_ALICE = "correct horse 1";
const PW_BOB = "battery staple 2";

/** Alice in the terminal client, in her chat with Bob (the chat core), both signed up. */
async function aliceChattingWithBob(
  t: TestServer,
): Promise<{ alice: TmuxClient; bob: TestChat; profile: string }> {
  const bob = await connectChat(t);
  await bob.client.signup({ fullName: "Bob B", username: "bob", password: PW_BOB });
  const profile = await Deno.makeTempDir({ prefix: "pesuchat_tui_" });
  const alice = await TmuxClient.start({
    args: ["connect", `127.0.0.1:${t.port}`, "--profile", profile, "--trust", t.server.fingerprint],
  });
  await tuiSignUp(alice, "alice", PW_ALICE);
  await tuiOpenChat(alice, "bob");
  return { alice, bob, profile };
}

Deno.test(
  "connect: line breaks show as lines, Alt-Enter and a paste make one message, too long is refused whole",
  withLimit(async () => {
    const t = await startTestServer("sqlite");
    const { alice, bob } = await aliceChattingWithBob(t);
    try {
      // The header speaks of our own connection, not of Bob being online.
      const header = (await alice.rows())[0]!;
      assert.match(header, /Bob B \(bob\) · connected to the server/);
      assert.doesNotMatch(header, /online/);

      // An incoming message with line breaks: each line on its own row, under the first's text.
      await bob.client.send("alice", "first line\nsecond line\n\nfourth line");
      const screen = await alice.waitFor("fourth line");
      assert.doesNotMatch(screen, /\uFFFD/);
      const rows = screen.split("\n");
      const at = rows.findIndex((r) => /\d\d:\d\d bob: first line$/.test(r));
      assert.ok(at >= 0, screen);
      const indent = rows[at]!.indexOf("first line");
      assert.equal(rows[at + 1], " ".repeat(indent) + "second line");
      assert.equal(rows[at + 3], " ".repeat(indent) + "fourth line");

      // Alt-Enter adds a line break; Enter sends the whole as one message.
      await alice.type("one");
      await alice.keys("M-Enter");
      await alice.type("two");
      await alice.waitFor("one↵two");
      await alice.keys("Enter");
      await bob.waitFor(1);
      assert.equal(bob.received[0]!.text, "one\ntwo");

      // A pasted text with line breaks waits on the input line as one message.
      await alice.paste("para one\npara two\npara three");
      await alice.waitFor("para one↵para two↵para three");
      assert.equal(bob.received.length, 1, "nothing was sent by the paste's line breaks");
      await alice.keys("Enter");
      await bob.waitFor(2);
      assert.equal(bob.received[1]!.text, "para one\npara two\npara three");

      // One character over the limit: refused with the numbers, kept on the input line.
      await alice.paste("x".repeat(MAX_TEXT_CHARS + 1));
      await alice.waitFor(/> x+$/m);
      await alice.keys("Enter");
      await alice.waitFor(
        `not sent: the message has ${(MAX_TEXT_CHARS + 1).toLocaleString("en")} characters`,
      );
      await alice.waitFor(/> x+$/m);
      // Exactly the limit goes, whole, and arrives after nothing else (the long one never went).
      await alice.keys("C-u");
      await alice.paste("y".repeat(MAX_TEXT_CHARS));
      await alice.waitFor(/> y+$/m);
      await alice.keys("Enter");
      await bob.waitFor(3, 60_000);
      assert.equal(bob.received.length, 3);
      assert.equal(bob.received[2]!.text, "y".repeat(MAX_TEXT_CHARS));
      await alice.line("/quit");
      assert.equal(await alice.exitCode(), 0);
    } finally {
      await alice.stop();
      await bob.client.close();
      await t.stop();
    }
  }),
);

Deno.test(
  "connect: a message that arrives just before /back or /quit gets its read receipt",
  withLimit(async () => {
    const t = await startTestServer("sqlite");
    const { alice, bob } = await aliceChattingWithBob(t);
    try {
      const readByAlice = async (mid: Uint8Array) => {
        await eventually(async () => {
          const h = await bob.client.history("alice", 50);
          return h.find((m) => m.mid.toHex() === mid.toHex())?.state === MessageState.read;
        }, `Alice's read receipt for ${mid.toHex()}`);
      };
      // /back is typed first and Enter pressed the moment the message shows, well inside the
      // delay that gathers read receipts.
      for (let i = 1; i <= 3; i++) {
        await alice.type("/back");
        const sent = await bob.client.send("alice", `just before back ${i}`);
        await alice.waitFor(`bob: just before back ${i}`);
        await alice.keys("Enter");
        await alice.prompt("Chats");
        await readByAlice(sent.mid);
        await alice.keys("Enter");
        await alice.waitFor("/help");
      }
      await alice.type("/quit");
      const last = await bob.client.send("alice", "just before quit");
      await alice.waitFor("bob: just before quit");
      await alice.keys("Enter");
      assert.equal(await alice.exitCode(), 0);
      await readByAlice(last.mid);
    } finally {
      await alice.stop();
      await bob.client.close();
      await t.stop();
    }
  }),
);

Deno.test(
  "connect: another login taking the account over is said as such, and nothing else",
  withLimit(async () => {
    const t = await startTestServer("sqlite");
    const { alice, bob, profile } = await aliceChattingWithBob(t);
    try {
      // A script logs in as Alice with her profile: the server gives it the account.
      const r = await runPesuchat(
        ["receive", `127.0.0.1:${t.port}`, "--wait", "0", "--profile", profile],
        { env: { PESUCHAT_PASSWORD: PW_ALICE } },
      );
      assert.equal(r.code, 0, r.output);
      const screen = await alice.waitFor("not connected: another login to this account");
      await alice.waitFor("· not connected to the server");
      assert.doesNotMatch(screen, /logged out|closed by this client|reconnecting/);
      await alice.line("/quit");
      assert.equal(await alice.exitCode(), 0);
    } finally {
      await alice.stop();
      await bob.client.close();
      await t.stop();
    }
  }),
);

Deno.test(
  "connect: a message that cannot go shows as not sent with why, and /retry sends it after logging in again",
  withLimit(async () => {
    // Bob may have one message waiting: while he is away, Alice's second is refused.
    const t = await startTestServer("sqlite", { maxPendingPerUser: 1 });
    const { alice, bob, profile } = await aliceChattingWithBob(t);
    let bob2: TestChat | null = null;
    try {
      await bob.client.close();
      await alice.line("first");
      await alice.waitFor(/you: first {2}✓/);
      await alice.line("stuck until retried");
      await alice.waitFor(/you: stuck until retried {2}…/);
      await alice.waitFor(
        /you: stuck until retried {2}✗ not sent: bob has too many undelivered\s+messages · \/retry/,
        SEND_FAILED_AFTER_MS + SCREEN_TIMEOUT_MS,
      );
      // Another login takes the account: nothing reconnects by itself now.
      const r = await runPesuchat(
        ["receive", `127.0.0.1:${t.port}`, "--wait", "0", "--profile", profile],
        { env: { PESUCHAT_PASSWORD: PW_ALICE } },
      );
      assert.equal(r.code, 0, r.output);
      await alice.waitFor("not connected: another login to this account");
      // Bob comes back and takes his waiting message; Alice retries, which means logging in.
      bob2 = await connectChat(t, bob.profile);
      await bob2.client.login({ username: "bob", password: PW_BOB });
      await bob2.waitFor(1);
      await alice.line("/retry");
      await alice.prompt("pesuchat ·");
      await alice.keys("Enter");
      await alice.prompt("Username");
      await alice.line("alice");
      await alice.prompt("Password");
      await alice.line(PW_ALICE);
      await bob2.waitFor(2, 60_000);
      assert.deepEqual(bob2.received.map((m) => m.text), ["first", "stuck until retried"]);
      await alice.prompt("Chats");
      await alice.keys("Enter");
      await alice.waitFor(/you: stuck until retried {2}✓/);
      await alice.line("/quit");
      assert.equal(await alice.exitCode(), 0);
    } finally {
      await alice.stop();
      await bob2?.client.close();
      await t.stop();
    }
  }),
);
