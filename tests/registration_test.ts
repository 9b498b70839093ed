/**
 * Who may sign up: open, token (one-time invites made and revoked with `pesuchat server invite`)
 * and closed, with sign-ups limited per address, through the real server, its command line and
 * the terminal client under tmux.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { randomBytes } from "../crypto/mod.ts";
import { ServerError } from "../client/connection.ts";
import { MAX_SIGNUPS_PER_ADDRESS } from "../protocol/limits.ts";
import { Registration, signupKey } from "../server/registration.ts";
import { freePort, PesuchatProcess, runPesuchat } from "./support/process.ts";
import { fakePrekeys, rawClient } from "./support/server.ts";
import { TmuxClient } from "./support/tmux.ts";
import { DATABASE_KINDS, freshDatabase } from "./support/databases.ts";
import { openStore } from "../sql/mod.ts";

const PW = "correct horse battery staple";

function signupBody(username: string, invite?: string) {
  return {
    username,
    fullName: "Test User",
    authKey: randomBytes(32),
    salt: randomBytes(16),
    kdf: { memoryKiB: 65536, passes: 3, parallelism: 4 },
    identity: randomBytes(129),
    prekeys: fakePrekeys(),
    ...(invite ? { invite } : {}),
  };
}

async function signupError(port: number, username: string, invite?: string) {
  const c = await rawClient(port);
  try {
    await c.conn.request("signup", signupBody(username, invite));
    return null;
  } catch (e) {
    assert.ok(e instanceof ServerError, String(e));
    return e;
  } finally {
    c.conn.close();
  }
}

/** A server set up and running in a temporary folder with `--registration mode`. */
async function server(mode: string) {
  const dir = join(await Deno.makeTempDir({ prefix: "pesuchat_reg_" }), "srv");
  const port = freePort();
  const made = await runPesuchat([
    "server",
    "setup",
    "--dir",
    dir,
    "--yes",
    "--no-password",
    "--port",
    `${port}`,
    "--registration",
    mode,
  ]);
  assert.equal(made.code, 0, made.output);
  assert.match(made.output, new RegExp(`sign-up: ${mode}`));
  const run = new PesuchatProcess(["server", "run", "--dir", dir]);
  await run.waitFor(/listening addr=/);
  return {
    dir,
    port,
    run,
    async stop() {
      run.kill("SIGTERM");
      await run.done;
    },
  };
}

Deno.test("registration token: one-time invites made and revoked by the operator", async () => {
  const s = await server("token");
  try {
    assert.equal((await signupError(s.port, "nobody"))?.code, "invite_required");
    const made = await runPesuchat(["server", "invite", "--dir", s.dir]);
    assert.equal(made.code, 0, made.output);
    const token = made.output.split("\n").find((l) => /^[0-9a-f]{32}$/.test(l))!;
    assert.ok(token, made.output);
    assert.equal(
      (await signupError(s.port, "wrongtoken", "x" + token.slice(1)))?.code,
      "invite_required",
    );
    assert.equal(await signupError(s.port, "invited", token), null, "the invite lets one in");
    const again = await signupError(s.port, "second", token);
    assert.equal(again?.code, "invite_required", "an invite works once");
    assert.match(again!.message, /not valid/);

    const other = (await runPesuchat(["server", "invite", "--dir", s.dir])).output
      .split("\n").find((l) => /^[0-9a-f]{32}$/.test(l))!;
    const revoked = await runPesuchat(["server", "invite", "--dir", s.dir, "--revoke", other]);
    assert.equal(revoked.code, 0, revoked.output);
    assert.match(revoked.output, /revoked/);
    assert.equal((await signupError(s.port, "late", other))?.code, "invite_required");
    const twice = await runPesuchat(["server", "invite", "--dir", s.dir, "--revoke", other]);
    assert.equal(twice.code, 1);
    assert.match(twice.output, /no such invite token/);
  } finally {
    await s.stop();
  }
});

Deno.test("registration token: the terminal client asks for the invite and signs up with it", async () => {
  const s = await server("token");
  const c = await TmuxClient.start({
    args: ["connect", `127.0.0.1:${s.port}`, "--profile", await Deno.makeTempDir()],
  });
  try {
    const token = (await runPesuchat(["server", "invite", "--dir", s.dir])).output
      .split("\n").find((l) => /^[0-9a-f]{32}$/.test(l))!;
    await c.prompt("Trust this server");
    await c.keys("y");
    await c.prompt("pesuchat ·");
    await c.keys("Down", "Enter");
    await c.prompt("Invite token");
    await c.line(token);
    await c.prompt("Full name");
    await c.line("Ivy Invited");
    await c.prompt("Email (optional");
    await c.line("");
    await c.prompt("Username (3-32 characters");
    await c.line("ivy");
    await c.prompt("Password (at least");
    await c.line(PW);
    await c.prompt("Password again");
    await c.line(PW);
    await c.prompt("Keep an encrypted backup");
    await c.keys("Enter");
    await c.waitFor(/Chats/);
  } finally {
    await c.stop();
    await s.stop();
  }
});

Deno.test("registration closed: sign-up is refused, and the terminal client says so plainly", async () => {
  const s = await server("closed");
  const c = await TmuxClient.start({
    args: ["connect", `127.0.0.1:${s.port}`, "--profile", await Deno.makeTempDir()],
  });
  try {
    const e = await signupError(s.port, "stranger");
    assert.equal(e?.code, "registration_closed");
    await c.prompt("Trust this server");
    await c.keys("y");
    await c.prompt("pesuchat ·");
    await c.keys("Down", "Enter");
    const screen = await c.waitFor("this server does not take new sign-ups");
    assert.doesNotMatch(screen, /Full name/, "no form typed for nothing");
  } finally {
    await c.stop();
    await s.stop();
  }
});

Deno.test("registration: setup --change switches the mode, and refuses it without --change", async () => {
  const s = await server("open");
  await s.stop();
  const refused = await runPesuchat([
    "server",
    "setup",
    "--dir",
    s.dir,
    "--registration",
    "closed",
  ]);
  assert.equal(refused.code, 1, refused.output);
  assert.match(refused.output, /--registration closed would change it/);
  const bad = await runPesuchat([
    "server",
    "setup",
    "--dir",
    s.dir,
    "--change",
    "--registration",
    "maybe",
  ]);
  assert.equal(bad.code, 1);
  assert.match(bad.output, /expected open, token or closed/);
  const changed = await runPesuchat([
    "server",
    "setup",
    "--dir",
    s.dir,
    "--change",
    "--registration",
    "closed",
  ]);
  assert.equal(changed.code, 0, changed.output);
  const run = new PesuchatProcess(["server", "run", "--dir", s.dir]);
  try {
    await run.waitFor(/listening addr=/);
    assert.equal((await signupError(s.port, "stranger"))?.code, "registration_closed");
  } finally {
    run.kill("SIGTERM");
    await run.done;
  }
});

Deno.test("sign-ups from one address are limited to MAX_SIGNUPS_PER_ADDRESS, N+1 is refused", async () => {
  const s = await server("open");
  try {
    for (let i = 0; i < MAX_SIGNUPS_PER_ADDRESS; i++) {
      assert.equal(await signupError(s.port, `user${i}`), null, `sign-up ${i + 1}`);
    }
    const e = await signupError(s.port, "onetoomany");
    assert.equal(e?.code, "rate_limited");
    assert.match(e!.message, /too many sign-ups from this address/);
  } finally {
    await s.stop();
  }
});

Deno.test("signupKey() counts IPv4 per address and IPv6 per /64", async () => {
  assert.equal(signupKey("192.0.2.7"), "192.0.2.7");
  assert.equal(signupKey("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
  assert.equal(signupKey("2001:db8:1:2::bbbb"), "2001:db8:1:2::/64");
  assert.notEqual(signupKey("2001:db8:1:3::1"), signupKey("2001:db8:1:2::1"));
  // The window lets the same address in again once it has passed.
  const r = new Registration("open", null as never);
  for (let i = 0; i < MAX_SIGNUPS_PER_ADDRESS; i++) await r.admit("192.0.2.7", undefined, 1000);
  await assert.rejects(r.admit("192.0.2.7", undefined, 1001));
  await r.admit("192.0.2.8", undefined, 1001);
  await r.admit("192.0.2.7", undefined, 1000 + 60 * 60_000);
});

for (const kind of DATABASE_KINDS) {
  Deno.test(`[${kind}] Store.takeInvite() takes a stored invite once; addInvite() is idempotent`, async () => {
    const db = await freshDatabase(kind);
    const store = await openStore(db.location);
    try {
      await store.migrate();
      const hash = randomBytes(32);
      assert.equal(await store.takeInvite(hash), false, "nothing stored yet");
      await store.addInvite(hash, 1);
      await store.addInvite(hash, 2);
      const [first, second] = await Promise.all([store.takeInvite(hash), store.takeInvite(hash)]);
      assert.deepEqual([first, second].sort(), [false, true], "two takers race: one wins");
      assert.equal(await store.takeInvite(hash), false, "used up");
    } finally {
      await store.close();
      await db.drop();
    }
  });
}
