import assert from "node:assert/strict";
import { join } from "node:path";
import { DEFAULT_WAIT_SECONDS, parseClientArgs, parseWait, report } from "../client/cli.ts";
import { Profile } from "../client/profile.ts";
import { UsageError } from "../client/tui/problems.ts";
import { MAX_WAIT_SECONDS } from "../client/tui/send_receive.ts";
import { accountProfile } from "./support/chat.ts";
import { runPesuchat } from "./support/process.ts";
import { startTestServer } from "./support/server.ts";

const PW_ALICE = "correct horse 1";
const PW_BOB = "battery staple 2";
const NO_TRACE = /\bat .*\.ts:\d+|\n\s+at /;

function jsonLines(output: string): Record<string, unknown>[] {
  return output.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

Deno.test("parseWait() takes 0 to MAX_WAIT_SECONDS and refuses MAX_WAIT_SECONDS + 1", () => {
  assert.equal(parseWait(undefined), DEFAULT_WAIT_SECONDS);
  assert.equal(parseWait("0"), 0);
  assert.equal(parseWait("0.5"), 0.5);
  assert.equal(parseWait(String(MAX_WAIT_SECONDS)), MAX_WAIT_SECONDS);
  assert.throws(() => parseWait(String(MAX_WAIT_SECONDS + 1)), UsageError);
  assert.throws(() => parseWait("-1"), UsageError);
  assert.throws(() => parseWait("soon"), UsageError);
  assert.throws(() => parseWait(""), UsageError);
});

Deno.test("parseClientArgs() reads each command's arguments and flags", () => {
  const fp = "SHA256:" + "A".repeat(43);
  assert.deepEqual(
    parseClientArgs("send", ["h.example:7400", "bob", "hello", "there", "--trust", fp]),
    {
      command: "send",
      help: false,
      hostname: "h.example",
      port: 7400,
      alternates: [],
      profile: undefined,
      trust: fp,
      user: undefined,
      peer: "bob",
      text: "hello there",
      json: false,
      wait: DEFAULT_WAIT_SECONDS,
    },
  );
  const r = parseClientArgs("receive", ["[::1]:7400", "--json", "--wait", "5", "--user", "al"]);
  assert.deepEqual([r.hostname, r.port, r.json, r.wait, r.user], ["::1", 7400, true, 5, "al"]);
  assert.equal(parseClientArgs("connect", ["--help"]).help, true);
  // Several addresses of one server (its nodes), tried in order.
  const many = parseClientArgs("receive", ["a.example:7400,[::1]:7401, b.example:7402"]);
  assert.deepEqual([many.hostname, many.port, many.alternates], ["a.example", 7400, [
    { hostname: "::1", port: 7401 },
    { hostname: "b.example", port: 7402 },
  ]]);
  for (
    const [command, args] of [
      ["connect", []],
      ["connect", ["nohost"]],
      ["connect", ["h:70000"]],
      ["connect", ["h:1", "extra"]],
      ["connect", ["h:1", "--user", "x"]], // connect has no --user
      ["send", ["h:1", "bob"]],
      ["receive", ["h:1", "--bogus"]],
      ["receive", ["h:1", "--trust", "SHA256:short"]],
      ["receive", ["h:1,"]],
      ["receive", ["h:1,h"]],
      ["receive", [Array.from({ length: 17 }, (_, i) => `h:${i + 1}`).join(",")]],
    ] as const
  ) {
    assert.throws(
      () => parseClientArgs(command, [...args]),
      UsageError,
      `${command} ${args.join(" ")}`,
    );
  }
});

Deno.test("pesuchat connect, send and receive --help print their usage", async () => {
  for (const command of ["connect", "send", "receive"]) {
    const r = await runPesuchat([command, "--help"]);
    assert.equal(r.code, 0, r.output);
    assert.match(r.output, new RegExp(`^usage: pesuchat ${command} HOST:PORT`));
    assert.match(r.output, /--profile DIR/);
  }
});

Deno.test("report() prints one line and a hint with the program's prefix, and the exit code", () => {
  const lines: string[] = [];
  assert.equal(report(new UsageError("missing HOST:PORT", "see --help"), (l) => lines.push(l)), 2);
  assert.deepEqual(lines, ["pesuchat: missing HOST:PORT", "pesuchat: see --help"]);
  lines.length = 0;
  assert.equal(report(new Deno.errors.ConnectionRefused("refused"), (l) => lines.push(l)), 1);
  assert.deepEqual(lines, [
    "pesuchat: cannot reach the server: the connection was refused",
    "pesuchat: is the server running? check the address and port",
  ]);
  lines.length = 0;
  const dns = new Error("failed to lookup address information: Name or service not known");
  assert.equal(report(dns, (l) => lines.push(l)), 1);
  assert.deepEqual(lines, [
    "pesuchat: cannot find that server: the host name is unknown",
    "pesuchat: check the spelling of the address",
  ]);
});

Deno.test("send and receive: a script sends, and receive --json prints one object per line", async () => {
  const t = await startTestServer("sqlite");
  const server = `127.0.0.1:${t.port}`;
  try {
    const alice = await accountProfile(t, "alice", PW_ALICE);
    const bob = await accountProfile(t, "bob", PW_BOB);
    const asAlice = { env: { PESUCHAT_PASSWORD: PW_ALICE } };
    const pwFile = join(bob, "..", `${bob.split("/").at(-1)}-pw`);
    await Deno.writeTextFile(pwFile, PW_BOB + "\n");
    const asBob = { env: { PESUCHAT_PASSWORD_FILE: pwFile } };

    const one = await runPesuchat([
      "send",
      server,
      "bob",
      "hello",
      "from",
      "a script",
      "--profile",
      alice,
    ], asAlice);
    assert.equal(one.code, 0, one.output);
    assert.equal(one.output, "");
    // TEXT "-" reads stdin: several lines, and an escape sequence a terminal would obey.
    const two = await runPesuchat(["send", server, "bob", "-", "--profile", alice], {
      ...asAlice,
      input: "line one\nline two \x1b[31mred\n",
    });
    assert.equal(two.code, 0, two.output);

    const received = await runPesuchat(
      ["receive", server, "--json", "--wait", "0.5", "--profile", bob],
      asBob,
    );
    assert.equal(received.code, 0, received.output);
    const objects = jsonLines(received.output);
    assert.equal(objects.length, 2, received.output);
    assert.equal(received.output.split("\n").length, 2, "nothing else on stdout or stderr");
    assert.deepEqual(objects.map((o) => [o.from, o.text]), [
      ["alice", "hello from a script"],
      ["alice", "line one\nline two \x1b[31mred"],
    ]);
    for (const o of objects) {
      assert.deepEqual(Object.keys(o).sort(), ["from", "id", "text", "ts", "type"]);
      assert.equal(o.type, "message");
      assert.match(o.id as string, /^[0-9a-f]{32}$/);
      assert.ok(Math.abs((o.ts as number) - Date.now()) < 60_000);
    }
    assert.ok(!received.output.includes("\x1b"), "JSON escapes control characters");

    // Received once: the next receive has nothing; plain output makes escapes harmless.
    const again = await runPesuchat(["receive", server, "--wait", "0", "--profile", bob], asBob);
    assert.equal(again.code, 0, again.output);
    assert.equal(again.output, "");
    await runPesuchat(["send", server, "bob", "\x1b[2Jcleared?", "--profile", alice], asAlice);
    const plain = await runPesuchat(["receive", server, "--wait", "0.5", "--profile", bob], asBob);
    assert.match(plain.output, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d alice: \uFFFD\[2Jcleared\?$/);

    // Bob's reply reaches Alice, who names herself with --user.
    const reply = await runPesuchat(["send", server, "alice", "got it", "--profile", bob], asBob);
    assert.equal(reply.code, 0, reply.output);
    const back = await runPesuchat(
      ["receive", server, "--json", "--wait", "0.5", "--user", "ALICE", "--profile", alice],
      asAlice,
    );
    assert.deepEqual(jsonLines(back.output).map((o) => o.text), ["got it"]);
  } finally {
    await t.stop();
  }
});

Deno.test("send and receive: each problem is one line and a hint, never a stack trace", async () => {
  const t = await startTestServer("sqlite");
  const server = `127.0.0.1:${t.port}`;
  try {
    const alice = await accountProfile(t, "alice", PW_ALICE);
    const asAlice = { env: { PESUCHAT_PASSWORD: PW_ALICE } };
    const cases: [string, string[], Record<string, string>, RegExp, number][] = [
      [
        "wrong password",
        ["send", server, "bob", "x", "--profile", alice],
        {
          PESUCHAT_PASSWORD: "not the password",
        },
        /^pesuchat: wrong username or password\npesuchat: check both/,
        1,
      ],
      [
        "no such user",
        ["send", server, "nobody", "x", "--profile", alice],
        asAlice.env,
        /^pesuchat: .*no user.*nobody/,
        1,
      ],
      [
        "no password",
        ["receive", server, "--profile", alice],
        {},
        /^pesuchat: no password\npesuchat: set PESUCHAT_PASSWORD/,
        1,
      ],
      [
        "no account",
        ["receive", server, "--profile", await Deno.makeTempDir()],
        asAlice.env,
        /^pesuchat: no account for 127\.0\.0\.1:\d+ in .*\npesuchat: sign up or log in once/,
        1,
      ],
      [
        "no such account",
        ["receive", server, "--user", "zed", "--profile", alice],
        asAlice.env,
        /^pesuchat: no account zed for/,
        1,
      ],
      ["bad --wait", ["receive", server, "--wait", "3601"], {}, /^pesuchat: --wait: expected/, 2],
      ["unknown flag", ["send", server, "--frobnicate"], {}, /^pesuchat: .*frobnicate/, 2],
      [
        "no terminal",
        ["connect", server, "--profile", alice],
        {},
        /^pesuchat: connect needs a terminal\npesuchat: from scripts, use 'pesuchat send'/,
        1,
      ],
    ];
    for (const [what, args, env, expected, code] of cases) {
      const r = await runPesuchat(args, { env });
      assert.equal(r.code, code, `${what}: ${r.output}`);
      assert.match(r.output, expected, what);
      assert.doesNotMatch(r.output, NO_TRACE, what);
      if (code === 2) {
        // A wrong command line: the problem, then the command's usage.
        assert.match(r.output, /^pesuchat: .*\n(pesuchat: )?\n?usage: pesuchat /, what);
      } else {
        assert.ok(r.output.split("\n").length <= 2, `${what}: ${r.output}`);
      }
    }

    // An unknown server key without --trust names the fingerprint to pass; a --trust that does
    // not match is refused; the right one works.
    await Deno.remove(join(alice, "known_hosts"));
    const wrongTrust = "SHA256:" + "A".repeat(43);
    const mismatch = await runPesuchat(
      ["receive", server, "--profile", alice, "--trust", wrongTrust],
      asAlice,
    );
    assert.equal(mismatch.code, 1, mismatch.output);
    assert.ok(
      mismatch.output.startsWith(
        `pesuchat: the key of ${server} is ${t.server.fingerprint}, not the --trust fingerprint\n` +
          "pesuchat: someone may be impersonating the server",
      ),
      mismatch.output,
    );
    await assert.rejects(Deno.stat(join(alice, "known_hosts")), Deno.errors.NotFound);
    const unknown = await runPesuchat(["receive", server, "--profile", alice], asAlice);
    assert.equal(unknown.code, 1);
    assert.match(unknown.output, /^pesuchat: the key of 127\.0\.0\.1:\d+ is not known yet/);
    assert.ok(unknown.output.includes(`--trust ${t.server.fingerprint}`), unknown.output);
    const trusted = await runPesuchat(
      ["receive", server, "--wait", "0", "--profile", alice, "--trust", t.server.fingerprint],
      asAlice,
    );
    assert.equal(trusted.code, 0, trusted.output);
    const known = await Deno.readTextFile(join(alice, "known_hosts"));
    assert.ok(known.startsWith(`${server} x25519 `), known);
  } finally {
    await t.stop();
  }
  // The server is gone now: the same command says it cannot reach it.
  const down = await runPesuchat(
    ["receive", server, "--profile", await accountProfileAfterStop(server)],
    { env: { PESUCHAT_PASSWORD: PW_ALICE } },
  );
  assert.equal(down.code, 1, down.output);
  assert.match(down.output, /^pesuchat: cannot reach the server: the connection was refused\n/);
  assert.doesNotMatch(down.output, NO_TRACE);
});

/** A profile that looks as if it had an account on `server` (the server is down anyway). */
async function accountProfileAfterStop(server: string): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "pesuchat_cli_profile_" });
  const p = new Profile(dir);
  await p.ensure();
  await Deno.writeFile(p.accountStore(server, "alice"), new Uint8Array());
  return dir;
}
