import assert from "node:assert/strict";
import { connectChat } from "./support/chat.ts";
import { DATABASE_KINDS, type FreshDatabase, testMysqlUrl } from "./support/databases.ts";
import { startTestServer } from "./support/server.ts";
import { contains } from "./support/files.ts";

const PASSWORDS = ["Zanzibar quilt 77", "Okapi marmalade 31"];
const TEXTS = ["the eagle lands at midnight", "bring the blue umbrella", "quokka-hexagon-laminate"];
const FULL_NAME = "Zelda Quintessence";
const EMAIL = "zelda.q@example.org";

/** Everything the database holds, as bytes: the SQLite files, or a MariaDB dump with blobs in hex. */
async function dump(db: FreshDatabase): Promise<Uint8Array> {
  if (db.kind === "sqlite") {
    const parts = await Promise.all(
      ["", "-wal", "-shm"].map((s) =>
        Deno.readFile(db.location + s).catch(() => new Uint8Array(0))
      ),
    );
    return new Uint8Array(parts.flatMap((p) => [...p]));
  }
  const url = new URL(db.location);
  const base = testMysqlUrl();
  const out = await new Deno.Command("mariadb-dump", {
    args: [
      "--hex-blob",
      "--skip-extended-insert",
      `-h${url.hostname}`,
      `-P${url.port || "3306"}`,
      `-u${decodeURIComponent(base.username)}`,
      `-p${decodeURIComponent(base.password)}`,
      url.pathname.slice(1),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return out.stdout;
}

/** True when `secret` appears raw, or as hex in either case (how a dump writes blobs). */
function leaks(d: Uint8Array, secret: Uint8Array): boolean {
  const te = new TextEncoder();
  return contains(d, secret) || contains(d, te.encode(secret.toHex())) ||
    contains(d, te.encode(secret.toHex().toUpperCase()));
}

for (const kind of DATABASE_KINDS) {
  Deno.test(`[${kind}] a database dump after a conversation holds no password, private key, message, full name or email`, async () => {
    const t = await startTestServer(kind);
    try {
      const a = await connectChat(t);
      const b = await connectChat(t);
      await a.client.signup({
        fullName: FULL_NAME,
        email: EMAIL,
        username: "zelda",
        password: PASSWORDS[0]!,
        backup: true,
      });
      await b.client.signup({
        fullName: "Otto Marmalade",
        username: "otto",
        password: PASSWORDS[1]!,
      });
      await a.client.send("otto", TEXTS[0]!);
      await b.waitFor(1);
      await b.client.send("zelda", TEXTS[1]!);
      await a.waitFor(1);
      // One message stays queued: Otto is offline when it is sent.
      await b.client.close();
      await a.client.send("otto", TEXTS[2]!);
      await a.client.settle();
      await a.client.backupNow();
      const secrets = await a.client.exportSecretsUnsafe();
      const d = await dump(t.db);
      const te = new TextEncoder();
      assert.ok(contains(d, te.encode("zelda")), "the dump is readable: usernames are in it");
      for (const p of PASSWORDS) assert.ok(!leaks(d, te.encode(p)), `password ${p}`);
      for (const m of TEXTS) assert.ok(!leaks(d, te.encode(m)), `message ${m}`);
      assert.ok(!leaks(d, te.encode(FULL_NAME)), "full name");
      assert.ok(!leaks(d, te.encode(EMAIL)), "email");
      // The identity's Ed25519 seed and X25519 private key, and the device key.
      assert.ok(!leaks(d, secrets.identity.subarray(1, 33)), "identity signing seed");
      assert.ok(!leaks(d, secrets.identity.subarray(33, 65)), "identity DH private key");
      assert.ok(!leaks(d, secrets.deviceKey), "device private key");
      await a.client.close();
    } finally {
      await t.stop();
    }
  });
}
