import assert from "node:assert/strict";
import { join } from "node:path";
import { sharedBusUrl } from "./support/bus_servers.ts";
import { freshDatabase } from "./support/databases.ts";
import { freePort, PesuchatProcess, runPesuchat, setupUnattended } from "./support/process.ts";
import { mid, rawClient, signUp } from "./support/server.ts";

const FINGERPRINT = /SHA256:[A-Za-z0-9+/]{43}/;

Deno.test({
  name:
    "server setup --join makes a node with the cluster's key, after checking the keystore opens",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const db = await freshDatabase("mysql");
    const base = await Deno.makeTempDir({ prefix: "pesuchat_join_" });
    const [d0, d1, lite] = ["node0", "node1", "lite"].map((n) => join(base, n)) as [
      string,
      string,
      string,
    ];
    const pw = join(base, "launch-password");
    const wrongPw = join(base, "wrong-password");
    await Deno.writeTextFile(pw, "launch password 1\n");
    await Deno.writeTextFile(wrongPw, "not the password\n");
    const [p0, p1] = [freePort(), freePort()];
    const nodes: PesuchatProcess[] = [];
    try {
      const made = await runPesuchat([
        "server",
        "setup",
        "--dir",
        d0,
        "--db",
        db.location,
        "--password-file",
        pw,
        "--port",
        String(p0),
        "--yes",
      ]);
      assert.equal(made.code, 0, made.output);
      const fp = made.output.match(FINGERPRINT)![0];
      const joinArgs = (...extra: string[]) =>
        runPesuchat(["server", "setup", "--dir", d1, "--join", d0, ...extra]);

      const noPassword = await joinArgs();
      assert.equal(noPassword.code, 1, noPassword.output);
      assert.match(noPassword.output, /sealed with the launch password/);
      const wrong = await joinArgs("--password-file", wrongPw);
      assert.equal(wrong.code, 1, wrong.output);
      assert.match(wrong.output, /wrong launch password/);
      await assert.rejects(Deno.stat(d1), Deno.errors.NotFound);

      const joined = await joinArgs("--password-file", pw, "--port", String(p1));
      assert.equal(joined.code, 0, joined.output);
      assert.equal(joined.output.match(FINGERPRINT)?.[0], fp, "the same key, not a new one");
      assert.equal((await Deno.stat(join(d1, "keystore.json"))).mode! & 0o777, 0o600);
      assert.equal(JSON.parse(await Deno.readTextFile(join(d1, "server.json"))).listen.port, p1);
      const again = await joinArgs("--password-file", pw);
      assert.equal(again.code, 1, again.output);
      assert.match(again.output, /set up already/);

      assert.equal((await setupUnattended(lite, freePort())).code, 0);
      const fromLite = await runPesuchat([
        "server",
        "setup",
        "--dir",
        join(base, "x"),
        "--join",
        lite,
      ]);
      assert.equal(fromLite.code, 1, fromLite.output);
      assert.match(fromLite.output, /uses SQLite, which only one machine can use/);

      // Both nodes run on the bus with one key, and a message crosses from one to the other.
      for (const d of [d0, d1]) {
        const n = new PesuchatProcess([
          "server",
          "run",
          "--dir",
          d,
          "--password-file",
          pw,
          "--bus",
          sharedBusUrl("nats"),
        ]);
        nodes.push(n);
        assert.match(await n.waitFor(/server key/), new RegExp(fp.replace(/[+/]/g, "\\$&")));
        await n.waitFor(/bus up/);
      }
      const a = await rawClient(p0);
      const b = await rawClient(p1);
      await signUp(a, "alice");
      await signUp(b, "bob");
      await a.conn.request("send", { to: "bob", mid: mid(), body: new Uint8Array([1]) });
      await b.waitFor(1);
      a.conn.close();
      b.conn.close();
    } finally {
      for (const n of nodes) n.kill("SIGKILL");
      await Promise.all(nodes.map((n) => n.done));
      await Deno.remove(base, { recursive: true });
      await db.drop();
    }
  },
});
