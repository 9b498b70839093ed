/**
 * What an operator sees, through the real program: `pesuchat server …` processes, their exit
 * codes and their stderr.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, PesuchatProcess, runPesuchat, setupUnattended } from "./support/process.ts";
import { freshDatabase } from "./support/databases.ts";
import { TmuxClient } from "./support/tmux.ts";

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "pesuchat_op_" });
}

Deno.test("a client that declines the key at first contact is not logged as a failed handshake", async () => {
  const dir = join(await tempDir(), "srv");
  const port = freePort();
  assert.equal((await setupUnattended(dir, port)).code, 0);
  const run = new PesuchatProcess(["server", "run", "--dir", dir]);
  try {
    await run.waitFor(/listening addr=/);
    const c = await TmuxClient.start({
      args: ["connect", `127.0.0.1:${port}`, "--profile", await tempDir()],
    });
    try {
      await c.waitFor("Trust this server and remember its key?");
      await c.keys("n");
      await c.waitFor("not connecting");
      assert.equal(await c.exitCode(), 1);
    } finally {
      await c.stop();
    }
    await run.waitFor(/left during the handshake/);
    assert.doesNotMatch(run.output, /handshake failed/);
  } finally {
    run.kill("SIGTERM");
    await run.done;
  }
});

/** Runs SQL as MariaDB's root over the local socket, as scripts/test_db.ts does. */
async function asRoot(sql: string): Promise<void> {
  const child = new Deno.Command("mariadb", {
    args: ["-uroot"],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  await w.write(new TextEncoder().encode(sql));
  await w.close();
  const out = await child.output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
}

async function files(dir: string): Promise<string[]> {
  try {
    return (await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort();
  } catch {
    return [];
  }
}

Deno.test("[mysql] a rotated database password is applied with setup --change --db, the server key stays", async () => {
  const db = await freshDatabase("mysql");
  const user = `pesuchat_rot_${crypto.getRandomValues(new Uint8Array(4)).toHex()}`;
  const dbName = new URL(db.location).pathname.slice(1);
  await asRoot(`CREATE USER '${user}'@'127.0.0.1' IDENTIFIED BY 'old-Secret-1';
    GRANT ALL PRIVILEGES ON \`${dbName}\`.* TO '${user}'@'127.0.0.1';`);
  try {
    const dir = join(await tempDir(), "srv");
    const port = freePort();
    const launch = { PESUCHAT_PASSWORD: "launch password 1" };
    const url = (pw: string) => `mysql://${user}:${pw}@127.0.0.1:3306/${dbName}`;
    const made = await runPesuchat(
      ["server", "setup", "--dir", dir, "--db", url("old-Secret-1"), "--port", `${port}`, "--yes"],
      { env: launch },
    );
    assert.equal(made.code, 0, made.output);
    const fp = made.output.match(/fingerprint: (SHA256:\S+)/)![1]!;

    await asRoot(`ALTER USER '${user}'@'127.0.0.1' IDENTIFIED BY 'new-Secret-2';`);
    const refused = await runPesuchat(["server", "run", "--dir", dir], { env: launch });
    assert.equal(refused.code, 1, refused.output);
    assert.match(refused.output, /refused user pesuchat_rot_\w+.*\(ER_ACCESS_DENIED_ERROR\)/);
    assert.match(refused.output, new RegExp(`setup --dir ${dir} --change --db`));
    assert.doesNotMatch(refused.output, /old-Secret-1|new-Secret-2/);

    // Without --change the new URL is refused, and says to add it.
    const noChange = await runPesuchat(
      ["server", "setup", "--dir", dir, "--db", url("new-Secret-2")],
      { env: launch },
    );
    assert.equal(noChange.code, 1, noChange.output);
    assert.match(noChange.output, /add --change/);
    assert.doesNotMatch(noChange.output, /new-Secret-2/);

    const changed = await runPesuchat(
      ["server", "setup", "--dir", dir, "--change", "--db", url("new-Secret-2")],
      { env: launch },
    );
    assert.equal(changed.code, 0, changed.output);
    assert.match(changed.output, /sealed again with the same launch password/);
    assert.doesNotMatch(changed.output, /new-Secret-2/);
    assert.doesNotMatch(await Deno.readTextFile(join(dir, "server.json")), /Secret/);

    const run = new PesuchatProcess(["server", "run", "--dir", dir], { env: launch });
    try {
      const line = await run.waitFor(/server key fingerprint=/);
      assert.ok(line.endsWith(fp), `the same server key: ${line} vs ${fp}`);
    } finally {
      run.kill("SIGTERM");
      assert.equal((await run.done).code, 0, run.output);
    }

    // A locked account is named as such.
    await asRoot(`ALTER USER '${user}'@'127.0.0.1' ACCOUNT LOCK;`);
    const locked = await runPesuchat(["server", "run", "--dir", dir], { env: launch });
    assert.equal(locked.code, 1, locked.output);
    assert.match(
      locked.output,
      /account pesuchat_rot_\w+ is locked \(ER_ACCOUNT_HAS_BEEN_LOCKED\)/,
    );
    assert.match(locked.output, /ACCOUNT UNLOCK/);
  } finally {
    await asRoot(`DROP USER IF EXISTS '${user}'@'127.0.0.1';`);
    await db.drop();
  }
});

Deno.test("setup --change re-seals the keystore only when a new launch password is asked for", async () => {
  const dir = join(await tempDir(), "srv");
  const pw = (name: string, text: string) => {
    const f = join(dir + `-${name}`);
    Deno.writeTextFileSync(f, text);
    return f;
  };
  const first = pw("a", "first launch password");
  assert.equal(
    (await runPesuchat([
      "server",
      "setup",
      "--dir",
      dir,
      "--yes",
      "--password-file",
      first,
      "--port",
      `${freePort()}`,
    ])).code,
    0,
  );
  const before = await Deno.readFile(join(dir, "keystore.json"));
  // Another password happens to be exported: changing the port must not seal with it.
  const port = await runPesuchat(["server", "setup", "--dir", dir, "--change", "--port", "7411"], {
    env: { PESUCHAT_PASSWORD: "some other password" },
  });
  assert.equal(port.code, 0, port.output);
  assert.deepEqual(await Deno.readFile(join(dir, "keystore.json")), before, "not re-sealed");
  const opens = await runPesuchat(["server", "setup", "--dir", dir, "--change"], {
    env: { PESUCHAT_PASSWORD_FILE: first },
  });
  assert.equal(opens.code, 0, opens.output);

  // A new password given by flag re-seals, with the current one to open it.
  const second = pw("b", "second launch password");
  const changed = await runPesuchat(
    ["server", "setup", "--dir", dir, "--change", "--password-file", second],
    { env: { PESUCHAT_CURRENT_PASSWORD: "first launch password" } },
  );
  assert.equal(changed.code, 0, changed.output);
  assert.match(changed.output, /sealed with the new launch password/);
  const old = await runPesuchat(["server", "run", "--dir", dir, "--password-file", first]);
  assert.match(old.output, /wrong launch password/);
});

Deno.test("a damaged keystore says it is damaged, a wrong password says it is wrong", async () => {
  const dir = join(await tempDir(), "srv");
  const made = await runPesuchat(
    ["server", "setup", "--dir", dir, "--yes", "--port", `${freePort()}`],
    { env: { PESUCHAT_PASSWORD: "the right password" } },
  );
  assert.equal(made.code, 0, made.output);
  const path = join(dir, "keystore.json");
  const k = JSON.parse(await Deno.readTextFile(path));
  // One byte of the sealed secrets flipped, as a bad disk would.
  const sealed = Uint8Array.fromBase64(k.sealed);
  sealed[10]! ^= 1;
  await Deno.writeTextFile(path, JSON.stringify({ ...k, sealed: sealed.toBase64() }));
  const flipped = await runPesuchat(["server", "run", "--dir", dir], {
    env: { PESUCHAT_PASSWORD: "the right password" },
  });
  assert.equal(flipped.code, 1);
  assert.match(flipped.output, /keystore\.json: the keystore is damaged/);
  assert.match(flipped.output, /restore keystore\.json from a backup/);
  assert.doesNotMatch(flipped.output, /wrong launch password/);
  const wrong = await runPesuchat(["server", "run", "--dir", dir], {
    env: { PESUCHAT_PASSWORD: "not the password" },
  });
  assert.match(wrong.output, /wrong launch password/);
  // Cut short, as by a full disk.
  await Deno.writeTextFile(path, JSON.stringify(k).slice(0, 40));
  const cut = await runPesuchat(["server", "run", "--dir", dir], {
    env: { PESUCHAT_PASSWORD: "the right password" },
  });
  assert.equal(cut.code, 1);
  assert.match(cut.output, /the keystore is damaged/);
});

Deno.test("setup checks every answer before it makes a key or writes a file, and never echoes a database password", async () => {
  const root = await tempDir();
  const bad: [string[], RegExp][] = [
    [["--listen", "not an address!"], /--listen: expected an IP address or a host name/],
    [["--listen", "192.0.2.77"], /cannot listen on 192\.0\.2\.77/],
    [
      ["--db", "mysql://pesuchat:hunter2-secret@127.0.0.1:1/db"],
      /nothing accepts connections at 127\.0\.0\.1:1/,
    ],
    [["--db", "postgres://u:hunter2-secret@host/db"], /unknown database "postgres"/],
    [["--db", "mysql://u:hunter2-secret@[bad/db"], /not a valid mysql:\/\/ URL|not a valid mysql/],
  ];
  for (const [flags, problem] of bad) {
    const dir = join(root, `srv${bad.findIndex((b) => b[0] === flags)}`);
    const r = await runPesuchat([
      "server",
      "setup",
      "--dir",
      dir,
      "--yes",
      "--no-password",
      ...flags,
    ]);
    assert.equal(r.code, 1, `${flags.join(" ")}: ${r.output}`);
    assert.match(r.output, problem);
    assert.doesNotMatch(r.output, /hunter2/, "the database password is never repeated");
    assert.deepEqual(await files(dir), [], `${flags.join(" ")}: nothing written`);
  }
  const short = join(root, "short-pw");
  await Deno.writeTextFile(short, "short");
  const tooShort = await runPesuchat(
    ["server", "setup", "--dir", join(root, "pw"), "--yes", "--password-file", short],
  );
  assert.equal(tooShort.code, 1);
  assert.match(tooShort.output, /at least 8 characters/);
  assert.deepEqual(await files(join(root, "pw")), []);
});

Deno.test("interactive setup asks for the folder first, and answers that run out are an error (exit 1)", async () => {
  const root = await tempDir();
  const dir = join(root, "asked");
  const port = freePort();
  const answers = [dir, "1", "launch password", "launch password", "127.0.0.1", `${port}`];
  const r = await runPesuchat(["server", "setup"], { input: answers.join("\n") });
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /Folder for the server's files \[pesuchat-data\]/);
  assert.equal(JSON.parse(await Deno.readTextFile(join(dir, "server.json"))).listen.port, port);

  const short = await runPesuchat(["server", "setup", "--dir", join(root, "short")], {
    input: ["1", "launch password"].join("\n"),
  });
  assert.equal(short.code, 1, short.output);
  assert.match(
    short.output,
    /the answers on stdin ran out before this question: Launch password again/,
  );
  assert.deepEqual(await files(join(root, "short")), [], "nothing written");
});

Deno.test("a flag that would change an existing setup is refused without --change; the same flags are not", async () => {
  const dir = join(await tempDir(), "srv");
  const port = freePort();
  assert.equal((await setupUnattended(dir, port)).code, 0);
  const same = await setupUnattended(dir, port);
  assert.equal(same.code, 0, same.output);
  assert.match(same.output, /nothing was changed/);
  const other = await setupUnattended(dir, port + 1);
  assert.equal(other.code, 1, other.output);
  assert.match(other.output, /--port \d+ would change it/);
  assert.match(other.output, /add --change/);
  assert.equal(JSON.parse(await Deno.readTextFile(join(dir, "server.json"))).listen.port, port);
});

Deno.test("[sqlite] a database file that was emptied or lost is refused unless run with --init", async () => {
  const dir = join(await tempDir(), "srv");
  const port = freePort();
  assert.equal((await setupUnattended(dir, port)).code, 0);
  const file = join(dir, "pesuchat.db");
  await Deno.writeFile(file, new Uint8Array(0));
  const emptied = await runPesuchat(["server", "run", "--dir", dir]);
  assert.equal(emptied.code, 1, emptied.output);
  assert.match(emptied.output, /pesuchat\.db is empty; nothing was started/);
  assert.match(emptied.output, /run again with --init/);
  await Deno.remove(file);
  const lost = await runPesuchat(["server", "run", "--dir", dir]);
  assert.equal(lost.code, 1, lost.output);
  assert.match(lost.output, /pesuchat\.db is missing/);
  await assert.rejects(Deno.stat(file), Deno.errors.NotFound, "no new empty file was made");
  const init = new PesuchatProcess(["server", "run", "--dir", dir, "--init"]);
  try {
    await init.waitFor(/listening addr=/);
  } finally {
    init.kill("SIGTERM");
    await init.done;
  }
});

Deno.test("[sqlite] a damaged database file, one that cannot be opened and a folder that cannot be made are named as such", async () => {
  const dir = join(await tempDir(), "srv");
  assert.equal((await setupUnattended(dir, freePort())).code, 0);
  const file = join(dir, "pesuchat.db");
  await Deno.writeTextFile(
    file,
    "this is not an sqlite file at all, just some text on the disk ".repeat(100),
  );
  for (const f of await files(dir)) {
    if (f.startsWith("pesuchat.db-")) await Deno.remove(join(dir, f));
  }
  const damaged = await runPesuchat(["server", "run", "--dir", dir]);
  assert.equal(damaged.code, 1, damaged.output);
  assert.match(damaged.output, /pesuchat\.db is damaged \(SQLITE_NOTADB\)/);
  assert.match(damaged.output, /restore it from a backup/);
  assert.doesNotMatch(damaged.output, /mysql|MySQL|MariaDB/);

  // A database path this user cannot open as a file (root can write any folder, so the test
  // puts a folder where the file should be).
  await Deno.remove(file);
  await Deno.mkdir(file);
  const unopenable = await runPesuchat(["server", "run", "--dir", dir]);
  assert.equal(unopenable.code, 1, unopenable.output);
  assert.match(unopenable.output, /cannot open or write the database .*pesuchat\.db/);
  assert.doesNotMatch(unopenable.output, /mysql|MySQL|MariaDB|URL/);
  // A folder that cannot be made.
  const r = await runPesuchat(
    ["server", "setup", "--dir", "/proc/pesuchat-no-such/srv", "--yes", "--no-password"],
  );
  assert.equal(r.code, 1, r.output);
  assert.match(r.output, /cannot create the folder \/proc\/pesuchat-no-such\/srv/);
  assert.doesNotMatch(r.output, /mysql|MySQL|MariaDB|unexpected/);
});
