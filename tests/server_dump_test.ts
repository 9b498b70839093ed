import assert from "node:assert/strict";
import { connectChat } from "./support/chat.ts";
import { DATABASE_KINDS } from "./support/databases.ts";
import { contains, dump, leaks } from "./support/dump.ts";
import { startTestServer } from "./support/server.ts";

const PASSWORDS = ["Zanzibar quilt 77", "Okapi marmalade 31"];
const TEXTS = ["the eagle lands at midnight", "bring the blue umbrella", "quokka-hexagon-laminate"];
const FULL_NAME = "Zelda Quintessence";
const EMAIL = "zelda.q@example.org";

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
