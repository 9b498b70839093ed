import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, PesuchatProcess, runPesuchat, setupUnattended } from "./support/process.ts";
import { freshDatabase } from "./support/databases.ts";
import { openKeystore } from "../server/keystore.ts";

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "pesuchat_cli_" });
}

Deno.test("server setup runs unattended from flags, then run starts with the same fingerprint and stops on SIGTERM", async () => {
  const dir = join(await tempDir(), "srv");
  const pwFile = join(dir + "-pw");
  await Deno.writeTextFile(pwFile, "correct horse battery\n");
  const port = freePort();
  const setup = await runPesuchat([
    "server",
    "setup",
    "--dir",
    dir,
    "--yes",
    "--password-file",
    pwFile,
    "--port",
    String(port),
  ]);
  assert.equal(setup.code, 0, setup.output);
  const fp = setup.output.match(/fingerprint: (SHA256:\S+)/)?.[1];
  assert.ok(fp, setup.output);
  assert.match(setup.output, /4\/5 keystore: keystore.json, sealed with the launch password/);
  const keystore = await Deno.stat(join(dir, "keystore.json"));
  assert.equal(keystore.mode! & 0o077, 0, "the keystore is readable by its owner only");
  const config = JSON.parse(await Deno.readTextFile(join(dir, "server.json")));
  assert.deepEqual(config.listen, { hostname: "127.0.0.1", port });
  assert.equal(config.passwordProtected, true);

  const run = new PesuchatProcess(["server", "run", "--dir", dir, "--password-file", pwFile]);
  await run.waitFor(/listening addr=127\.0\.0\.1:\d+/);
  const line = await run.waitFor(/server key fingerprint=/);
  assert.ok(line.endsWith(fp!), `${line} vs ${fp}`);
  run.kill("SIGTERM");
  const status = await run.done;
  assert.equal(status.code, 0, run.output);
  assert.match(run.output, /stopped/);
});

Deno.test("server setup on an existing folder changes nothing and says what exists", async () => {
  const dir = join(await tempDir(), "srv");
  const port = freePort();
  assert.equal((await setupUnattended(dir, port)).code, 0);
  const before = await Promise.all(
    ["server.json", "keystore.json", "pesuchat.db"].map((f) => Deno.readFile(join(dir, f))),
  );
  const again = await setupUnattended(dir, port);
  assert.equal(again.code, 0, again.output);
  assert.match(again.output, /is set up already/);
  assert.match(again.output, /nothing was changed/);
  const after = await Promise.all(
    ["server.json", "keystore.json", "pesuchat.db"].map((f) => Deno.readFile(join(dir, f))),
  );
  assert.deepEqual(after, before);
  // With --change only the address moves; the keys stay.
  const changed = await runPesuchat([
    "server",
    "setup",
    "--dir",
    dir,
    "--change",
    "--port",
    "9999",
  ]);
  assert.equal(changed.code, 0, changed.output);
  assert.equal(JSON.parse(await Deno.readTextFile(join(dir, "server.json"))).listen.port, 9999);
  assert.deepEqual(await Deno.readFile(join(dir, "keystore.json")), before[1]);
});

Deno.test("server run refuses a wrong launch password with a clear message and starts nothing", async () => {
  const dir = join(await tempDir(), "srv");
  const port = freePort();
  const ok = await runPesuchat(["server", "setup", "--dir", dir, "--yes", "--port", String(port)], {
    env: { PESUCHAT_PASSWORD: "the right password" },
  });
  assert.equal(ok.code, 0, ok.output);
  const bad = await runPesuchat(["server", "run", "--dir", dir], {
    env: { PESUCHAT_PASSWORD: "the wrong password" },
  });
  assert.equal(bad.code, 1);
  assert.match(bad.output, /pesuchat: wrong launch password/);
  assert.doesNotMatch(bad.output, /\bat .*\.ts:\d+/, "no stack trace");
  const none = await runPesuchat(["server", "run", "--dir", dir]);
  assert.equal(none.code, 1);
  assert.match(none.output, /needs the launch password/);
  const missing = await runPesuchat(["server", "run", "--dir", join(dir, "nope")]);
  assert.equal(missing.code, 1);
  assert.match(missing.output, /is not set up/);
  assert.match(missing.output, /pesuchat server setup --dir/);
});

Deno.test("server setup asks its five questions when run interactively and takes the answers", async () => {
  const dir = join(await tempDir(), "srv");
  const port = freePort();
  // database: 1 (SQLite); launch password twice, the first too short; address; port.
  const answers = [
    "1",
    "short",
    "a long enough password",
    "a long enough password",
    "127.0.0.1",
    String(port),
  ].join("\n");
  const r = await runPesuchat(["server", "setup", "--dir", dir], { input: answers });
  assert.equal(r.code, 0, r.output);
  assert.match(r.output, /Database/);
  assert.match(r.output, /too short/);
  assert.match(r.output, /Port/);
  const config = JSON.parse(await Deno.readTextFile(join(dir, "server.json")));
  assert.equal(config.listen.port, port);
  assert.equal(config.database.kind, "sqlite");
  const run = await runPesuchat(["server", "run", "--dir", dir], {
    env: { PESUCHAT_PASSWORD: "wrong password!" },
  });
  assert.match(run.output, /wrong launch password/);
});

Deno.test("server setup with a MySQL URL keeps the database password in the keystore, not in server.json", async () => {
  const db = await freshDatabase("mysql");
  try {
    const dir = join(await tempDir(), "srv");
    const port = freePort();
    const r = await setupUnattended(dir, port, "--db", db.location);
    assert.equal(r.code, 0, r.output);
    const configText = await Deno.readTextFile(join(dir, "server.json"));
    const config = JSON.parse(configText);
    assert.equal(config.database.kind, "mysql");
    assert.equal(new URL(config.database.url).password, "", "no database password in server.json");
    assert.doesNotMatch(configText, /:[^/@:]+@/, "no user:password@ in server.json");
    const secrets = await openKeystore(await Deno.readTextFile(join(dir, "keystore.json")), null);
    assert.equal(secrets.dbPassword, decodeURIComponent(new URL(db.location).password));
    const run = new PesuchatProcess(["server", "run", "--dir", dir]);
    await run.waitFor(/listening addr=.* db=mysql/);
    run.kill("SIGINT");
    assert.equal((await run.done).code, 0, run.output);
  } finally {
    await db.drop();
  }
});
