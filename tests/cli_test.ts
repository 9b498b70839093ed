import assert from "node:assert/strict";
import { CONNECT_TIMEOUT_MS } from "../client/connection.ts";
import { TmuxClient } from "./support/tmux.ts";

async function pesuchat(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", new URL("../main.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

/** pesuchat with every permission, for commands that load the client or the server. */
async function pesuchatAll(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", new URL("../main.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
    stdin: "null",
    env: { NO_COLOR: "1" },
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

Deno.test("pesuchat --version prints the version from deno.json", async () => {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const r = await pesuchat("--version");
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), `pesuchat ${denoJson.version}`);
});

Deno.test("pesuchat --help lists every command", async () => {
  const r = await pesuchat("--help");
  assert.equal(r.code, 0);
  for (const cmd of ["server setup", "server run", "connect", "send", "receive"]) {
    assert.match(r.stdout, new RegExp(`pesuchat ${cmd}`));
  }
});

Deno.test("pesuchat with an unknown command exits 2 with a hint", async () => {
  const r = await pesuchat("frobnicate");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command/);
  assert.match(r.stderr, /pesuchat --help/);
});

Deno.test("pesuchat server --help and pesuchat help COMMAND print that command's help", async () => {
  const server = await pesuchat("server", "--help");
  assert.equal(server.code, 0, server.stderr);
  assert.match(server.stdout, /usage: pesuchat server setup\|run/);
  for (
    const [words, usage] of [
      [["help", "connect"], /usage: pesuchat connect HOST:PORT/],
      [["help", "send"], /usage: pesuchat send HOST:PORT\[,HOST:PORT…\] USER TEXT/],
      [["help", "server", "setup"], /usage: pesuchat server setup \[flags\]/],
      [["help", "server"], /usage: pesuchat server setup\|run/],
    ] as const
  ) {
    const r = await pesuchatAll(...words);
    assert.equal(r.code, 0, `${words.join(" ")}: ${r.stderr}`);
    assert.match(r.stdout, usage);
  }
});

Deno.test("every usage error exits 2 with one line saying what is wrong and the usage on stderr", async () => {
  const cases: [string[], RegExp, RegExp][] = [
    [[], /a command is missing/, /usage:\n\s+pesuchat server setup/],
    [["server"], /setup or run is missing/, /usage: pesuchat server setup\|run/],
    [["server", "strat"], /unknown command 'server strat'/, /usage: pesuchat server/],
    [["server", "run", "--port", "70000"], /--port: expected a port/, /usage: pesuchat server run/],
    [["server", "setup", "--dir"], /--dir needs a value/, /usage: pesuchat server setup/],
    [["connect"], /missing HOST:PORT/, /usage: pesuchat connect HOST:PORT/],
    [["send", "127.0.0.1:7400", "bob"], /missing USER or TEXT/, /usage: pesuchat send/],
    [
      ["receive", "127.0.0.1:7400", "--wait", "x"],
      /--wait: expected seconds/,
      /usage: pesuchat receive/,
    ],
    [["receive", "127.0.0.1:7400", "extra"], /unexpected/, /usage: pesuchat receive/],
    [["help", "frobnicate"], /no help for 'frobnicate'/, /usage:/],
  ];
  for (const [args, problem, usage] of cases) {
    const r = await pesuchatAll(...args);
    const what = `pesuchat ${args.join(" ")}`;
    assert.equal(r.code, 2, `${what}: ${r.stderr}`);
    assert.equal(r.stdout, "", `${what}: nothing on stdout`);
    assert.match(r.stderr, problem, what);
    assert.match(r.stderr, usage, what);
  }
});

Deno.test("an unknown flag is named with the nearest known one", async () => {
  const trust = await pesuchatAll("connect", "127.0.0.1:7400", "--trsut", "SHA256:x");
  assert.equal(trust.code, 2);
  assert.match(trust.stderr, /^pesuchat: unknown flag --trsut \(did you mean --trust\?\)$/m);
  assert.match(trust.stderr, /usage: pesuchat connect/);
  const port = await pesuchatAll("server", "setup", "--prot", "7400");
  assert.match(port.stderr, /unknown flag --prot \(did you mean --port\?\)/);
  const far = await pesuchatAll("receive", "127.0.0.1:7400", "--xyzzy");
  assert.match(far.stderr, /^pesuchat: unknown flag --xyzzy$/m, "no guess when nothing is near");
});

Deno.test("connect to a port that accepts and never answers says which host:port timed out", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const c of listener) held.push(c); // accepted, never answered
  })();
  const server = `127.0.0.1:${listener.addr.port}`;
  const c = await TmuxClient.start({
    args: ["connect", server, "--profile", await Deno.makeTempDir({ prefix: "pesuchat_cli_" })],
  });
  try {
    const screen = await c.waitFor(`no answer from ${server}`, CONNECT_TIMEOUT_MS * 4);
    assert.doesNotMatch(screen, /unexpected error|Interrupted|BadResource/, screen);
  } finally {
    await c.stop();
    listener.close();
    await accepting.catch(() => {});
    for (const h of held) h.close();
  }
});
