import assert from "node:assert/strict";
import { join } from "node:path";
import { randomBytes, toBase64 } from "../crypto/mod.ts";
import { fingerprint } from "../protocol/fingerprint.ts";
import { freePort } from "./support/process.ts";
import { startTestServer } from "./support/server.ts";
import { TmuxClient } from "./support/tmux.ts";

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "pesuchat_tui_" });
}

Deno.test("connect: a changed server key stops the client with a warning and no connection", async () => {
  const t = await startTestServer("sqlite");
  const server = `127.0.0.1:${t.port}`;
  const profile = await tempDir();
  const knownHosts = join(profile, "known_hosts");
  // The profile remembers another key for this address, as after a server reinstall or an attack.
  const oldKey = randomBytes(32);
  const line = `${server} x25519 ${toBase64(oldKey)}\n`;
  await Deno.writeTextFile(knownHosts, line);
  const c = await TmuxClient.start({ args: ["connect", server, "--profile", profile] });
  try {
    const screen = await c.waitFor(/\[exit \d+\]/);
    assert.match(screen, new RegExp(`WARNING: the server key for ${server} has changed`));
    assert.ok(screen.includes(await fingerprint(oldKey)), screen);
    assert.ok(screen.includes(t.server.fingerprint), screen);
    assert.match(screen, /impersonating the server/);
    assert.match(screen, /set up again \(reinstalled\)/);
    assert.match(screen, /remove\n.*the line for 127\.0\.0\.1:\d+ from\n/);
    assert.ok(screen.includes(knownHosts), screen);
    assert.doesNotMatch(screen, /Log in|Sign up/, "it never got as far as the menu");
    assert.equal(await c.exitCode(), 1);
    assert.equal(await Deno.readTextFile(knownHosts), line, "known_hosts is left alone");
    assert.ok(!t.log.some((l) => /login|signup/.test(l)), t.log.join("\n"));
  } finally {
    await c.stop();
    await t.stop();
  }
});

Deno.test("connect: declining an unknown server key connects to nothing and remembers nothing", async () => {
  const t = await startTestServer("sqlite");
  const profile = await tempDir();
  const c = await TmuxClient.start({
    args: ["connect", `127.0.0.1:${t.port}`, "--profile", profile],
  });
  try {
    const asked = await c.waitFor("Trust this server and remember its key?");
    assert.ok(asked.includes(t.server.fingerprint), asked);
    await c.keys("n");
    await c.waitFor("not connecting: the key of 127.0.0.1");
    assert.equal(await c.exitCode(), 1);
    await assert.rejects(Deno.stat(join(profile, "known_hosts")), Deno.errors.NotFound);
  } finally {
    await c.stop();
    await t.stop();
  }
});

Deno.test("connect: a --trust fingerprint that does not match is refused without a question", async () => {
  const t = await startTestServer("sqlite");
  const profile = await tempDir();
  const c = await TmuxClient.start({
    args: [
      "connect",
      `127.0.0.1:${t.port}`,
      "--profile",
      profile,
      "--trust",
      "SHA256:" + "B".repeat(43),
    ],
  });
  try {
    const screen = await c.waitFor(/\[exit \d+\]/);
    assert.ok(screen.includes(`is ${t.server.fingerprint}, not the --trust fingerprint`), screen);
    assert.doesNotMatch(screen, /Trust this server/);
    assert.equal(await c.exitCode(), 1);
    await assert.rejects(Deno.stat(join(profile, "known_hosts")), Deno.errors.NotFound);
  } finally {
    await c.stop();
    await t.stop();
  }
});

Deno.test("connect: a server that is down is one line and a choice to try again or quit", async () => {
  const port = freePort();
  const profile = await tempDir();
  const c = await TmuxClient.start({
    args: ["connect", `127.0.0.1:${port}`, "--profile", profile],
  });
  try {
    await c.waitFor("cannot reach the server: the connection was refused");
    await c.waitFor("Try again");
    await c.keys("Enter");
    await c.waitFor(/connection was refused[^]*connection was refused[^]*Try again/);
    await c.keys("Down", "Enter");
    const screen = await c.waitFor(/\[exit \d+\]/);
    assert.doesNotMatch(screen, /\bat .*\.ts:\d+/, "no stack trace");
    assert.equal(await c.exitCode(), 1);
  } finally {
    await c.stop();
  }
});

Deno.test("connect: a chat with oneself is refused, and Ctrl-C on the chat list quits", async () => {
  const t = await startTestServer("sqlite");
  const profile = await tempDir();
  const c = await TmuxClient.start({
    args: ["connect", `127.0.0.1:${t.port}`, "--profile", profile, "--trust", t.server.fingerprint],
  });
  try {
    await c.waitFor("Sign up");
    await c.keys("Down", "Enter");
    for (
      const [prompt, answer] of [
        ["Full name", "Carol Long-Name"],
        ["Email (optional", ""],
        ["Username (3-32", "carol"],
        ["Password (at least", "a good long password"],
        ["Password again", "a good long password"],
      ]
    ) {
      await c.prompt(prompt!);
      await c.line(answer!);
    }
    await c.prompt("Keep an encrypted backup");
    await c.keys("Enter"); // no backup
    await c.waitFor("Chats (none yet");
    await c.keys("Enter");
    await c.prompt("Chat with (username)");
    await c.line("carol");
    await c.waitFor("that is you");
    await c.keys("C-c");
    assert.equal(await c.exitCode(), 0);
  } finally {
    await c.stop();
    await t.stop();
  }
});
