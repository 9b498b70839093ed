/**
 * Server-held backups against a server that guesses passwords: sealed under a random recovery key,
 * opt-in, restored on a new machine with that key, and Argon2id that a server cannot talk down.
 * The real chat core over real TCP, the real databases.
 */

import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { ChatError, MAX_RECOVERY_KEY_ATTEMPTS } from "../client/chat.ts";
import { LocalStore } from "../client/local_store.ts";
import {
  AccountKey,
  DEFAULT_KDF_PARAMS,
  derivePasswordKeys,
  HmacKey,
  type KdfParams,
  LEGACY_KDF_PARAMS,
  newSalt,
  randomBytes,
  RecoveryKey,
} from "../crypto/mod.ts";
import { MYSQL_MIGRATIONS, SQLITE_MIGRATIONS } from "../sql/migrations.ts";
import { connectChat, type TestChat } from "./support/chat.ts";
import { adminConnection, DATABASE_KINDS, type FreshDatabase } from "./support/databases.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

const PW_A = "Zanzibar quilt 77";
const PW_B = "Okapi marmalade 31";
const te = new TextEncoder();

/** Every binary value in every table of the server's database. */
async function storedBlobs(db: FreshDatabase): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const take = (row: Record<string, unknown>) => {
    for (const v of Object.values(row)) if (v instanceof Uint8Array) out.push(new Uint8Array(v));
  };
  if (db.kind === "sqlite") {
    const d = new DatabaseSync(db.location, { readOnly: true });
    try {
      const tables = d.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
      for (const { name } of tables as { name: string }[]) {
        for (const row of d.prepare(`SELECT * FROM "${name}"`).all()) take(row);
      }
    } finally {
      d.close();
    }
    return out;
  }
  const c = await adminConnection();
  try {
    const name = new URL(db.location).pathname.slice(1);
    const [tables] = await c.query(
      "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = ?",
      [name],
    );
    for (const { t } of tables as { t: string }[]) {
      const [rows] = await c.query(`SELECT * FROM \`${name}\`.\`${t}\``);
      for (const row of rows as Record<string, unknown>[]) take(row);
    }
  } finally {
    await c.end();
  }
  return out;
}

async function userOf(t: TestServer, name: string) {
  return (await t.store.userByName(name))!;
}

async function signedUp(
  t: TestServer,
  username: string,
  password: string,
  backup: boolean,
): Promise<{ chat: TestChat; recoveryKey: string | null }> {
  const chat = await connectChat(t);
  const { recoveryKey } = await chat.client.signup({
    fullName: username.toUpperCase(),
    username,
    password,
    backup,
  });
  return { chat, recoveryKey };
}

for (const kind of DATABASE_KINDS) {
  Deno.test(`[${kind}] backup: nothing in the database opens under keys from the right password; the recovery key opens the backup`, async () => {
    const t = await startTestServer(kind);
    try {
      const { chat: a, recoveryKey } = await signedUp(t, "zelda", PW_A, true);
      const { chat: b } = await signedUp(t, "otto", PW_B, false);
      await a.client.send("otto", "the eagle lands at midnight");
      await b.waitFor(1);
      await a.client.settle();
      await a.client.backupNow();
      await a.client.changePassword(PW_A, PW_A + " again");

      // The server's best offline attack: it knows the salt and cost and guesses the password
      // right. Every key that password gives, against every stored value, opens nothing.
      const user = await userOf(t, "zelda");
      const { masterKey } = await derivePasswordKeys(PW_A + " again", user.salt, user.kdf);
      const blobs = await storedBlobs(t.db);
      assert.ok(blobs.length > 10, `the dump has blobs (${blobs.length})`);
      const ads = [new Uint8Array(), te.encode("backup zelda")];
      let opened = 0;
      for (const blob of blobs) {
        const account = await AccountKey.unwrap(masterKey, blob).catch(() => null);
        assert.equal(account, null, "no stored value is an account key wrapped by the password");
        for (const ad of ads) {
          assert.equal(await masterKey.open(blob, ad).catch(() => null), null);
        }
        if (await RecoveryKey.parse(recoveryKey!).openBackup(blob, ads[1]!).catch(() => null)) {
          opened++;
        }
      }
      assert.equal(opened, 1, "the recovery key opens exactly the backup");
      await a.client.close();
      await b.client.close();
    } finally {
      await t.stop();
    }
  });
}

Deno.test("backup: restore on a fresh profile with the recovery key; a wrong or malformed key is refused clearly and changes nothing", async () => {
  const t = await startTestServer("sqlite");
  try {
    const { chat: a, recoveryKey } = await signedUp(t, "alice", PW_A, true);
    const { chat: b } = await signedUp(t, "bob", PW_B, false);
    assert.match(recoveryKey!, /^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
    await b.client.send("alice", "before the move");
    await a.waitFor(1);
    await a.client.close(); // uploads a last backup

    // Giving up at the key leaves no profile behind and nothing changed on the server.
    const giveUp = await connectChat(t);
    await assert.rejects(
      giveUp.client.login({
        username: "alice",
        password: PW_A,
        restore: () => Promise.resolve(true),
        recoveryKey: () => Promise.resolve(null),
      }),
      (e) => e instanceof ChatError && e.code === "restore_cancelled",
    );
    assert.equal(await giveUp.profile.hasAccount(giveUp.client.server, "alice"), false);
    await giveUp.client.close();

    // A wrong key (well formed), then a malformed one, then the right one as the user typed it.
    const fresh = await connectChat(t);
    const typed = [RecoveryKey.generate().textUnsafe(), "abcd 1234", recoveryKey!.toUpperCase()];
    const problems: (string | null)[] = [];
    const r = await fresh.client.login({
      username: "alice",
      password: PW_A,
      restore: () => Promise.resolve(true),
      recoveryKey: (problem) => {
        problems.push(problem);
        return Promise.resolve(typed.shift() ?? null);
      },
    });
    assert.deepEqual(r, { restored: true, newIdentity: false });
    assert.equal(problems[0], null);
    assert.match(problems[1]!, /does not open this backup/);
    assert.match(problems[2]!, /has 64 characters/);
    assert.deepEqual((await fresh.client.history("bob")).map((m) => m.text), ["before the move"]);
    // The restored profile keeps backing up under the same key.
    assert.equal(await fresh.client.backupsOn(), true);

    // MAX_RECOVERY_KEY_ATTEMPTS tries: the right key on the last one still opens the backup…
    const last = await connectChat(t);
    let tries = 0;
    const r2 = await last.client.login({
      username: "alice",
      password: PW_A,
      restore: () => Promise.resolve(true),
      recoveryKey: () =>
        Promise.resolve(
          ++tries < MAX_RECOVERY_KEY_ATTEMPTS ? RecoveryKey.generate().textUnsafe() : recoveryKey!,
        ),
    });
    assert.equal(r2.restored, true);
    assert.equal(tries, MAX_RECOVERY_KEY_ATTEMPTS);
    await last.client.close();
    // …and with every one of them wrong it is refused, asking no more, writing nothing.
    const wrong = await connectChat(t);
    tries = 0;
    await assert.rejects(
      wrong.client.login({
        username: "alice",
        password: PW_A,
        restore: () => Promise.resolve(true),
        recoveryKey: () => Promise.resolve((tries++, RecoveryKey.generate().textUnsafe())),
      }),
      (e) => e instanceof ChatError && e.code === "wrong_recovery_key",
    );
    assert.equal(tries, MAX_RECOVERY_KEY_ATTEMPTS);
    assert.equal(await wrong.profile.hasAccount(wrong.client.server, "alice"), false);
    await wrong.client.close();
    await fresh.client.close();
    await b.client.close();
  } finally {
    await t.stop();
  }
});

Deno.test("backup: without opting in the server never holds a backup; turning backups off deletes it", async () => {
  const t = await startTestServer("sqlite");
  try {
    const { chat: a, recoveryKey } = await signedUp(t, "alice", PW_A, false);
    const { chat: b } = await signedUp(t, "bob", PW_B, false);
    assert.equal(recoveryKey, null);
    await b.client.send("alice", "hello");
    await a.waitFor(1);
    await assert.rejects(
      a.client.backupNow(),
      (e) => e instanceof ChatError && e.code === "backups_off",
    );
    await a.client.close(); // would upload a last backup if backups were on
    const id = (await userOf(t, "alice")).id;
    assert.equal(await t.store.getBackup(id), null);

    // Turned on in settings: a new key, a backup; turned off: gone from the server.
    const again = await connectChat(t, a.profile);
    await again.client.login({ username: "alice", password: PW_A });
    const key = await again.client.enableBackups();
    assert.ok((await t.store.getBackup(id))!.blob.length > 0);
    await again.client.disableBackups();
    assert.equal(await t.store.getBackup(id), null);
    assert.equal(await again.client.backupsOn(), false);
    await again.client.close();

    // On another machine there is nothing to restore: the login never asks.
    const fresh = await connectChat(t);
    let asked = false;
    const r = await fresh.client.login({
      username: "alice",
      password: PW_A,
      restore: () => Promise.resolve(asked = true),
      recoveryKey: () => Promise.resolve(key),
    });
    assert.equal(asked, false);
    assert.deepEqual(r, { restored: false, newIdentity: true });
    await fresh.client.close();
    await b.client.close();
  } finally {
    await t.stop();
  }
});

/** What an older version left: the account stretched at the legacy cost, here and on the server. */
async function makeLegacy(t: TestServer, chat: TestChat, username: string, pw: string) {
  const path = chat.client.profilePath(username);
  await chat.client.close();
  const store = LocalStore.open(path);
  try {
    const current = await derivePasswordKeys(
      pw,
      store.getMeta("salt")!,
      JSON.parse(store.getMetaText("kdf")!) as KdfParams,
    );
    const account = await AccountKey.unwrap(
      current.masterKey,
      store.getMeta("wrapped_account_key")!,
    );
    const salt = newSalt();
    const legacy = await derivePasswordKeys(pw, salt, LEGACY_KDF_PARAMS);
    const verifierSalt = randomBytes(32);
    const verifier = await (await HmacKey.import(verifierSalt)).sign(legacy.authKey.bytesUnsafe());
    await t.store.updateCredentials((await userOf(t, username)).id, {
      salt,
      kdf: { ...LEGACY_KDF_PARAMS },
      verifierSalt,
      verifier,
    });
    store.setMeta("salt", salt);
    store.setMeta("kdf", JSON.stringify(LEGACY_KDF_PARAMS));
    store.setMeta("wrapped_account_key", await account.wrap(legacy.masterKey));
  } finally {
    store.close();
  }
}

Deno.test("argon2id: new accounts use 64 MiB, t=3, p=4; a cheaper answer is refused unless this machine knows the account; a password change upgrades", async () => {
  const t = await startTestServer("sqlite");
  try {
    const { chat: a } = await signedUp(t, "alice", PW_A, false);
    assert.deepEqual((await userOf(t, "alice")).kdf, { ...DEFAULT_KDF_PARAMS });
    assert.deepEqual(DEFAULT_KDF_PARAMS, { memoryKiB: 65536, passes: 3, parallelism: 4 });

    // Alice's account as an older version made it.
    await makeLegacy(t, a, "alice", PW_A);
    // On a machine that does not know the account, the cheap answer could be a server lowering
    // the cost to crack the auth key: refused before anything is derived or sent.
    const fresh = await connectChat(t);
    const failedBefore = t.log.filter((l) => l.includes("login failed")).length;
    await assert.rejects(
      fresh.client.login({ username: "alice", password: PW_A }),
      (e) => e instanceof ChatError && e.code === "weak_kdf",
    );
    assert.equal(t.log.filter((l) => l.includes("login failed")).length, failedBefore);
    await fresh.client.close();

    // Where the profile recorded that cost, the login works, and a password change upgrades.
    const home = await connectChat(t, a.profile);
    await home.client.login({ username: "alice", password: PW_A });
    await home.client.changePassword(PW_A, PW_B);
    assert.deepEqual((await userOf(t, "alice")).kdf, { ...DEFAULT_KDF_PARAMS });
    await home.client.close();
    const elsewhere = await connectChat(t);
    await elsewhere.client.login({ username: "alice", password: PW_B });
    await elsewhere.client.close();

    // A server that answers with absurd memory is refused too.
    const bob = await signedUp(t, "bob", PW_A, false);
    await bob.chat.client.close();
    const u = await userOf(t, "bob");
    await t.store.updateCredentials(u.id, {
      salt: u.salt,
      kdf: { memoryKiB: 4 * 1024 * 1024, passes: 3, parallelism: 4 },
      verifierSalt: u.verifierSalt,
      verifier: u.verifier,
    });
    const bob2 = await connectChat(t, bob.chat.profile);
    await assert.rejects(
      bob2.client.login({ username: "bob", password: PW_A }),
      (e) =>
        e instanceof ChatError && e.code === "weak_kdf" && /outside the safe range/.test(e.message),
    );
    await bob2.client.close();
  } finally {
    await t.stop();
  }
});

Deno.test("password changed on another machine: this profile asks for the previous password once, then opens with the new one", async () => {
  const t = await startTestServer("sqlite");
  try {
    const { chat: home } = await signedUp(t, "alice", PW_A, false);
    const { chat: bob } = await signedUp(t, "bob", PW_B, false);
    await bob.client.send("alice", "kept on this machine");
    await home.waitFor(1);
    await home.client.close();
    const work = await connectChat(t);
    await work.client.login({ username: "alice", password: PW_A });
    await work.client.changePassword(PW_A, PW_B + " new");
    await work.client.close();

    // Back home: the server knows only the new password, the profile only the old one.
    const refused = await connectChat(t, home.profile);
    await assert.rejects(
      refused.client.login({ username: "alice", password: PW_B + " new" }),
      (e) =>
        e instanceof ChatError && e.code === "wrong_password" &&
        /previous password/.test(e.message),
    );
    await refused.client.close();
    const again = await connectChat(t, home.profile);
    let asked = 0;
    await again.client.login({
      username: "alice",
      password: PW_B + " new",
      previousPassword: () => Promise.resolve((asked++, PW_A)),
    });
    assert.equal(asked, 1);
    assert.deepEqual((await again.client.history("bob")).map((m) => m.text), [
      "kept on this machine",
    ]);
    await again.client.close();
    const later = await connectChat(t, home.profile);
    await later.client.login({ username: "alice", password: PW_B + " new" });
    await later.client.close();
    await bob.client.close();
  } finally {
    await t.stop();
  }
});

for (const kind of DATABASE_KINDS) {
  Deno.test(`[${kind}] migration 3 empties the account keys older versions stored wrapped under the password`, async () => {
    const migrations = kind === "sqlite" ? SQLITE_MIGRATIONS : MYSQL_MIGRATIONS;
    const m = migrations.find((x) => x.version === 3)!;
    assert.match(m.name, /password-derived/);
    const t = await startTestServer(kind);
    try {
      const { chat: a } = await signedUp(t, "alice", PW_A, true);
      await a.client.close();
      const id = (await userOf(t, "alice")).id;
      const planted = randomBytes(60);
      const run = async (sql: string, params: unknown[] = []) => {
        if (t.db.kind === "sqlite") {
          const d = new DatabaseSync(t.db.location);
          try {
            d.prepare(sql).run(...(params as Uint8Array[]));
          } finally {
            d.close();
          }
          return;
        }
        const c = await adminConnection();
        try {
          await c.query(`USE \`${new URL(t.db.location).pathname.slice(1)}\``);
          await c.query(sql, params);
        } finally {
          await c.end();
        }
      };
      // What an older version left: a wrapped account key beside the backup.
      await run("UPDATE backups SET wrapped_key = ? WHERE user_id = ?", [planted, id]);
      assert.ok(
        (await storedBlobs(t.db)).some((b) =>
          b.length === 60 && b.every((x, i) => x === planted[i])
        ),
      );
      for (const sql of m.statements) await run(sql);
      assert.ok(
        !(await storedBlobs(t.db)).some((b) =>
          b.length === 60 && b.every((x, i) => x === planted[i])
        ),
      );
      assert.ok(await t.store.getBackup(id), "the backup row stays (migrations never drop)");
    } finally {
      await t.stop();
    }
  });
}
