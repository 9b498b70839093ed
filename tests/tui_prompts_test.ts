import assert from "node:assert/strict";
import { join } from "node:path";
import { accountProfile } from "./support/chat.ts";
import { freePort } from "./support/process.ts";
import { startTestServer } from "./support/server.ts";
import { TmuxClient } from "./support/tmux.ts";
import { tuiConnect, tuiOpenChat, tuiSignUp, withLimit } from "./support/tui.ts";
import { connectChat } from "./support/chat.ts";

const PW_ALICE = "correct horse 1";
/** What the shell finds after pesuchat exits: echo and line mode back on. */
const COOKED = "icanon echo";

/** What the forms' fields are answered with on the way to the next one. */
const ANSWERS: Record<string, string> = { "Full name": "Alice A", "Email (optional": "" };

/** Runs `args` under tmux until it exits; returns its exit code and the terminal's modes. */
async function exitOf(c: TmuxClient): Promise<{ code: number; tty: string }> {
  const code = await c.exitCode();
  return { code, tty: await c.ttyModes() };
}

Deno.test(
  "connect: Ctrl-D at every prompt goes back or leaves, and the terminal is never left without echo",
  withLimit(async () => {
    const t = await startTestServer("sqlite");
    const server = `127.0.0.1:${t.port}`;
    const profile = await Deno.makeTempDir({ prefix: "pesuchat_tui_" });
    const args = ["connect", server, "--profile", profile, "--trust", t.server.fingerprint];
    const clients: TmuxClient[] = [];
    const start = async (a: string[], env?: Record<string, string>) => {
      const c = await TmuxClient.start({ args: a, env });
      clients.push(c);
      return c;
    };
    try {
      // The welcome menu: Ctrl-D leaves.
      let c = await start(args);
      await c.prompt("pesuchat ·");
      await c.keys("C-d");
      assert.deepEqual(await exitOf(c), { code: 0, tty: COOKED });

      // Every sign-up and log-in field: Ctrl-D goes back to the menu, and it still answers.
      c = await start(args);
      for (
        const [menuKeys, fields] of [
          [["Down", "Enter"], ["Full name"]],
          [["Down", "Enter"], [
            "Full name",
            "Email (optional",
            "Username (3-32",
            "Password (at least",
          ]],
          [["Enter"], ["Username"]],
          [["Enter"], ["Username", "Password"]],
        ] as const
      ) {
        await c.prompt("pesuchat ·");
        await c.keys(...menuKeys);
        for (const [i, field] of fields.entries()) {
          await c.prompt(field);
          if (i < fields.length - 1) await c.line(ANSWERS[field] ?? "alice");
        }
        await c.keys("C-d");
      }
      // After all that, a password typed is still hidden (the terminal is still in raw mode).
      await c.prompt("pesuchat ·");
      await c.keys("Enter");
      await c.prompt("Username");
      await c.line("alice");
      await c.prompt("Password");
      await c.type("visible if echoed");
      await c.waitFor(/\*{17}/);
      assert.doesNotMatch(await c.screen(), /visible if echoed/);
      await c.keys("C-d");
      await c.prompt("pesuchat ·");
      await c.keys("C-d");
      assert.deepEqual(await exitOf(c), { code: 0, tty: COOKED });

      // The chat list: Ctrl-D leaves, and no stale list is left on the screen.
      c = await start(args);
      await tuiSignUp(c, "alice", PW_ALICE);
      await c.keys("C-d");
      assert.deepEqual(await exitOf(c), { code: 0, tty: COOKED });
      assert.doesNotMatch(await c.screen(), /New chat/);

      // The retry menu after a failed connection: Ctrl-D leaves.
      c = await start(["connect", `127.0.0.1:${freePort()}`, "--profile", profile]);
      await c.prompt("What now?");
      await c.keys("C-d");
      assert.deepEqual(await exitOf(c), { code: 1, tty: COOKED });

      // send's password prompt: Ctrl-D is "no password", one line, and the terminal is back.
      const scripted = await accountProfile(t, "bob", "battery staple 2");
      c = await start(["send", server, "alice", "hi", "--profile", scripted]);
      await c.prompt("Password for bob");
      await c.keys("C-d");
      assert.deepEqual(await exitOf(c), { code: 1, tty: COOKED });
      assert.match(await c.screen(), /pesuchat: no password/);

      // setup's launch password: Ctrl-D cancels setup.
      const dir = join(await Deno.makeTempDir({ prefix: "pesuchat_setup_" }), "srv");
      c = await start([
        "server",
        "setup",
        "--dir",
        dir,
        "--db",
        "sqlite",
        "--listen",
        "127.0.0.1",
        "--port",
        String(freePort()),
      ]);
      await c.prompt("Launch password");
      await c.keys("C-d");
      const done = await exitOf(c);
      assert.equal(done.tty, COOKED);
      assert.notEqual(done.code, 0);
      assert.match(await c.screen(), /cancelled/);
    } finally {
      for (const c of clients) await c.stop();
      await t.stop();
    }
  }),
);

Deno.test(
  "connect: at 40x10 the first-contact question keeps the fingerprint on the screen",
  withLimit(async () => {
    const t = await startTestServer("sqlite");
    const profile = await Deno.makeTempDir({ prefix: "pesuchat_tui_" });
    const c = await TmuxClient.start({
      args: ["connect", `127.0.0.1:${t.port}`, "--profile", profile],
      columns: 40,
      rows: 10,
    });
    try {
      const screen = await c.prompt("Trust this server");
      // Wrapped to 40 columns: the fingerprint, put back together, is on the screen.
      const joined = screen.split("\n").map((l) => l.replace(/^[│◆◇]?\s*/, "")).join("");
      assert.ok(joined.includes(t.server.fingerprint), screen);
      await c.keys("y");
      await c.prompt("pesuchat ·");
    } finally {
      await c.stop();
      await t.stop();
    }
  }),
);

Deno.test(
  "connect: a SIGTERM or SIGHUP in an open chat leaves the shell its own screen, with echo on",
  withLimit(async () => {
    const t = await startTestServer("sqlite");
    const bob = await connectChat(t);
    const clients: TmuxClient[] = [];
    try {
      await bob.client.signup({ fullName: "Bob", username: "bob", password: "battery staple 2" });
      for (const [signal, code] of [["SIGTERM", 143], ["SIGHUP", 129]] as const) {
        const c = await tuiConnect(t);
        clients.push(c);
        await tuiSignUp(c, `alice_${code}`, PW_ALICE);
        await tuiOpenChat(c, "bob");
        assert.equal(await c.alternateScreen(), true, "a chat is drawn on the alternate screen");
        await c.signal(signal);
        assert.deepEqual(await exitOf(c), { code, tty: COOKED });
        // The shell's screen is back: what the shell printed after the exit is on it.
        assert.equal(await c.alternateScreen(), false, `after ${signal}:\n${await c.screen()}`);
      }
    } finally {
      for (const c of clients) await c.stop();
      await bob.client.close();
      await t.stop();
    }
  }),
);
