/**
 * A stolen laptop: the profile folder as it sits on disk, read by someone without the password.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { LocalStore } from "../client/local_store.ts";
import { AccountKey, derivePasswordKeys, type KdfParams } from "../crypto/mod.ts";
import { connectChat } from "./support/chat.ts";
import { startTestServer } from "./support/server.ts";

const PW_A = "Zanzibar quilt 77";
const PW_B = "Okapi marmalade 31";
const TEXT = "the eagle lands at midnight";

async function filesUnder(dir: string): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const e of Deno.readDir(dir)) {
    const p = join(dir, e.name);
    if (e.isDirectory) out.push(...await filesUnder(p));
    else if (e.isFile) out.push(await Deno.readFile(p));
  }
  return out;
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

Deno.test("a stolen profile folder holds no message or private key in the clear, and only the password unseals it", async () => {
  const t = await startTestServer("sqlite");
  try {
    const a = await connectChat(t);
    const b = await connectChat(t);
    await a.client.signup({ fullName: "Zelda", username: "zelda", password: PW_A, backup: true });
    await b.client.signup({ fullName: "Otto", username: "otto", password: PW_B });
    await b.client.send("zelda", TEXT);
    await a.waitFor(1);
    await a.client.send("otto", "and the owl at dawn");
    await b.waitFor(1);
    await a.client.settle();
    const secrets = await a.client.exportSecretsUnsafe();
    const path = a.client.profilePath("zelda");
    await a.client.close();
    await b.client.close();

    const files = await filesUnder(a.profile.dir);
    assert.ok(files.length > 0);
    const te = new TextEncoder();
    for (const f of files) {
      assert.ok(!contains(f, te.encode(TEXT)), "a received message");
      assert.ok(!contains(f, te.encode("and the owl at dawn")), "a sent message");
      assert.ok(!contains(f, secrets.identity.subarray(1, 33)), "the identity signing seed");
      assert.ok(!contains(f, secrets.identity.subarray(33, 65)), "the identity DH key");
      assert.ok(!contains(f, secrets.deviceKey), "the device key");
    }

    // The thief has the salt and the cost (they are not secret); a wrong password opens nothing,
    // the right one does.
    const store = LocalStore.open(path);
    try {
      const salt = store.getMeta("salt")!;
      const kdf = JSON.parse(store.getMetaText("kdf")!) as KdfParams;
      const wrapped = store.getMeta("wrapped_account_key")!;
      const wrong = await derivePasswordKeys("Zanzibar quilt 78", salt, kdf);
      assert.equal(await AccountKey.unwrap(wrong.masterKey, wrapped).catch(() => null), null);
      const right = await derivePasswordKeys(PW_A, salt, kdf);
      const key = await AccountKey.unwrap(right.masterKey, wrapped);
      store.unlock(key);
      assert.deepEqual(await store.getSecret("device_key"), secrets.deviceKey);
    } finally {
      store.close();
    }
  } finally {
    await t.stop();
  }
});
