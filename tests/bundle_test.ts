import assert from "node:assert/strict";
import { join } from "node:path";
import denoJson from "../deno.json" with { type: "json" };
import { ALLOW_ENV } from "../scripts/permissions.ts";
import { freePort } from "./support/process.ts";
import { rawClient, signUp, startTestServer } from "./support/server.ts";
import { TmuxClient } from "./support/tmux.ts";

const ROOT = new URL("..", import.meta.url).pathname;

async function buildBundle(): Promise<string> {
  const built = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-run", "--allow-read", "--allow-write=dist", "scripts/bundle.ts"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(built.success, new TextDecoder().decode(built.stderr));
  return join(ROOT, "dist", "pesuchat");
}

Deno.test("the start task grants exactly the environment variables in scripts/permissions.ts", () => {
  const task = denoJson.tasks.start;
  assert.ok(task.split(" ").includes(ALLOW_ENV), `${task} should include ${ALLOW_ENV}`);
  assert.ok(!/\s-A\s|--allow-all/.test(task), "never all permissions");
});

Deno.test("the bundle's wrapper runs a server with narrow permissions that clients can use", async () => {
  const wrapper = await buildBundle();
  assert.match(await Deno.readTextFile(wrapper), /--allow-read="\$paths"/);
  const home = await Deno.makeTempDir({ prefix: "pesuchat_bundle_" });
  const port = freePort();
  const child = new Deno.Command(wrapper, {
    args: ["server", "run", "--dir", join(home, "srv"), "--init", "--port", String(port)],
    cwd: home,
    env: { DENO: Deno.execPath(), PESUCHAT_HOME: join(home, "profile"), NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let log = "";
  const deadline = Date.now() + 30_000;
  try {
    while (!log.includes("pesuchat: listening")) {
      assert.ok(Date.now() < deadline, log);
      const { value, done } = await reader.read();
      assert.ok(!done, `the server exited:\n${log}`);
      log += value;
    }
    const c = await rawClient(port);
    await signUp(c, "bundled");
    assert.equal((await c.conn.request("lookup", { username: "bundled" })).username, "bundled");
    c.conn.close();
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      log += value;
    }
    await child.stdout.cancel();
    assert.equal(status.code, 0, log);
    assert.doesNotMatch(log, /NotCapable|PermissionDenied|Requires .* access/);
  }
});

Deno.test("the bundle's wrapper runs the terminal client with narrow permissions, even under CI", async () => {
  const wrapper = await buildBundle();
  const t = await startTestServer("sqlite");
  const home = await Deno.makeTempDir({ prefix: "pesuchat_bundle_client_" });
  // CI=1 makes the colour detection probe more variables; each must be granted or it stops.
  const c = await TmuxClient.start({
    program: [wrapper],
    args: ["connect", `127.0.0.1:${t.port}`],
    env: { DENO: Deno.execPath(), PESUCHAT_HOME: home, CI: "1", COLORTERM: "truecolor" },
  });
  try {
    const asked = await c.waitFor("Trust this server and remember its key?");
    assert.ok(asked.includes(t.server.fingerprint), asked);
    await c.keys("y");
    await c.waitFor("Sign up");
    assert.match(await Deno.readTextFile(join(home, "known_hosts")), /^127\.0\.0\.1:\d+ x25519 /);
    assert.doesNotMatch(await c.screen(), /NotCapable|Requires .* access/);
  } finally {
    await c.stop();
    await t.stop();
  }
});

Deno.test("the bundle's wrapper lets setup --join read the folder it names, and nothing more", async () => {
  const wrapper = await buildBundle();
  const home = await Deno.makeTempDir({ prefix: "pesuchat_bundle_" });
  const env = { DENO: Deno.execPath(), PESUCHAT_HOME: join(home, "profile"), NO_COLOR: "1" };
  const run = async (...args: string[]) => {
    const out = await new Deno.Command(wrapper, { args, cwd: home, env }).output();
    const text = new TextDecoder().decode(out.stderr);
    assert.doesNotMatch(text, /not permitted|NotCapable/, text);
    return { code: out.code, text };
  };
  const made = await run("server", "setup", "--dir", join(home, "a"), "--yes", "--no-password");
  assert.equal(made.code, 0, made.text);
  // The wrapper read a's settings (an SQLite server, which cannot be joined): it was allowed to.
  const joined = await run("server", "setup", "--dir", join(home, "b"), "--join", join(home, "a"));
  assert.equal(joined.code, 1, joined.text);
  assert.match(joined.text, /uses SQLite, which only one machine can use/);
  await Deno.remove(home, { recursive: true });
});

Deno.test("the bundle's wrapper answers an empty path or one with a comma in pesuchat's words, never Deno's", async () => {
  const wrapper = await buildBundle();
  const home = await Deno.makeTempDir({ prefix: "pesuchat_bundle_" });
  for (
    const [args, problem] of [
      [["server", "run", "--dir", ""], /^pesuchat: --dir needs a value$/m],
      [["server", "run", "--dir="], /^pesuchat: --dir needs a value$/m],
      [
        ["connect", "127.0.0.1:1", "--profile", join(home, "a,b")],
        /--profile: a path with a comma/,
      ],
      [
        ["server", "setup", `--password-file=${join(home, "x,y")}`],
        /--password-file: a path with a comma/,
      ],
    ] as const
  ) {
    const out = await new Deno.Command(wrapper, {
      args: [...args],
      cwd: home,
      env: { DENO: Deno.execPath(), PESUCHAT_HOME: join(home, "profile"), NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 2, `${args.join(" ")}: ${stderr}`);
    assert.match(stderr, problem);
    assert.doesNotMatch(stderr, /panicked|RUST_BACKTRACE|backtrace|--allow-|error:/i, stderr);
  }
});
