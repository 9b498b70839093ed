/**
 * Contract tests for schema migration, users and devices.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Store, StoreError, type StoreErrorCode } from "./store.ts";
import { SCHEMA_VERSION } from "./migrations.ts";
import { MAX_DEVICE_KEY_BYTES, MAX_USERNAME_LENGTH } from "./limits.ts";
import {
  type ContractHarness,
  filled,
  makeUser,
  message,
  newUser,
  prekeySet,
  random,
  uniqueName,
} from "./_contract_fixtures.ts";

/** Asserts that `promise` rejects with a StoreError of `code` whose message avoids `secrets`. */
export async function rejectsWith(
  promise: Promise<unknown>,
  code: StoreErrorCode,
  secrets: string[] = [],
): Promise<void> {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof StoreError, `expected a StoreError, got ${e}`);
    assert.equal(e.code, code, `expected code ${code}, got ${e.code}: ${e.message}`);
    for (const s of secrets) assert.ok(!e.message.includes(s), `message leaks ${s}: ${e.message}`);
    return true;
  });
}

/** Opens a store on the shared database, runs `fn`, and closes it whatever happens. */
export async function using(h: ContractHarness, fn: (s: Store) => Promise<void>): Promise<void> {
  const store = await h.open();
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

/** Registers the migration, user and device tests. */
export function userContract(h: ContractHarness): void {
  const t = (name: string, fn: () => Promise<void>) => Deno.test(`${h.kind}: ${name}`, fn);

  t(
    "migrate() creates the schema on an empty database and is a no-op the second time",
    async () => {
      const db = await h.empty();
      try {
        assert.deepEqual(await db.store.migrate(), { from: 0, to: SCHEMA_VERSION });
        assert.deepEqual(await db.store.migrate(), { from: SCHEMA_VERSION, to: SCHEMA_VERSION });
        const u = await makeUser(db.store, "mig");
        assert.equal((await db.store.userById(u.id))?.username, u.username);
      } finally {
        await db.drop();
      }
    },
  );

  t("migrate() refuses a database whose schema is newer and changes nothing", async () => {
    const db = await h.empty();
    try {
      await db.store.migrate();
      const u = await makeUser(db.store, "newer");
      await db.exec(
        `INSERT INTO schema_version (version, applied_at) VALUES (${SCHEMA_VERSION + 1}, 0)`,
      );
      await rejectsWith(db.store.migrate(), "schema");
      assert.equal((await db.store.userById(u.id))?.username, u.username);
      await rejectsWith(db.store.migrate(), "schema");
    } finally {
      await db.drop();
    }
  });

  t("createUser() stores the user, found by name, id and device", async () => {
    await using(h, async (s) => {
      const username = uniqueName("alice");
      const deviceKey = random(32);
      const created = await s.createUser(newUser(username), prekeySet(), deviceKey);
      assert.ok(created.id > 0);
      const expected = { ...newUser(username), id: created.id };
      assert.deepEqual(created, expected);
      assert.deepEqual(await s.userByName(username), expected);
      assert.deepEqual(await s.userById(created.id), expected);
      assert.deepEqual(await s.userByDevice(deviceKey), expected);
      assert.equal(await s.userByName(uniqueName("nobody")), null);
      assert.equal(await s.userById(created.id + 1_000_000), null);
      assert.equal(await s.userByDevice(random(32)), null);
      // Usernames compare byte for byte (the caller canonicalises them first).
      assert.equal(await s.userByName(username.toUpperCase()), null);
    });
  });

  t("createUser() with a taken username fails with conflict and keeps nothing of it", async () => {
    await using(h, async (s) => {
      const first = await makeUser(s, "taken");
      const device = random(32);
      await rejectsWith(
        s.createUser(newUser(first.username), prekeySet(), device),
        "conflict",
        [first.username],
      );
      assert.equal(await s.userByDevice(device), null);
      assert.equal((await s.userByDevice(first.deviceKey))?.id, first.id);
    });
  });

  t("createUser() accepts a username of MAX_USERNAME_LENGTH and refuses one longer", async () => {
    await using(h, async (s) => {
      const long = uniqueName("l").padEnd(MAX_USERNAME_LENGTH, "x");
      const u = await s.createUser(newUser(long), prekeySet(), random(32));
      assert.equal((await s.userById(u.id))?.username, long);
      await assert.rejects(
        s.createUser(newUser(long + "y"), prekeySet(), random(32)),
        RangeError,
      );
    });
  });

  t("bindDevice() replaces the user's device and moves a key from another user", async () => {
    await using(h, async (s) => {
      const a = await makeUser(s, "binda");
      const b = await makeUser(s, "bindb");
      const next = random(32);
      await s.bindDevice(a.id, next);
      assert.equal(await s.userByDevice(a.deviceKey), null);
      assert.equal((await s.userByDevice(next))?.id, a.id);
      await s.bindDevice(a.id, next); // rebinding the same key is harmless
      assert.equal((await s.userByDevice(next))?.id, a.id);
      await s.bindDevice(b.id, next);
      assert.equal((await s.userByDevice(next))?.id, b.id);
      assert.equal(await s.userByDevice(b.deviceKey), null);
      await rejectsWith(s.bindDevice(b.id + 1_000_000, random(32)), "not_found");
    });
  });

  t("bindDevice() accepts a key of MAX_DEVICE_KEY_BYTES and refuses one longer", async () => {
    await using(h, async (s) => {
      const a = await makeUser(s, "bindlen");
      const key = random(MAX_DEVICE_KEY_BYTES);
      await s.bindDevice(a.id, key);
      assert.equal((await s.userByDevice(key))?.id, a.id);
      await assert.rejects(s.bindDevice(a.id, random(MAX_DEVICE_KEY_BYTES + 1)), RangeError);
    });
  });

  t("unbindDevice() removes the binding and ignores an unknown key", async () => {
    await using(h, async (s) => {
      const a = await makeUser(s, "unbind");
      await s.unbindDevice(a.deviceKey);
      assert.equal(await s.userByDevice(a.deviceKey), null);
      await s.unbindDevice(random(32));
      assert.equal((await s.userById(a.id))?.username, a.username);
    });
  });

  t("updateCredentials() replaces salt, KDF parameters and verifier only", async () => {
    await using(h, async (s) => {
      const a = await makeUser(s, "creds");
      const credentials = {
        salt: filled(16, 20),
        kdf: { memoryKiB: 65_536, passes: 3, parallelism: 4 },
        verifierSalt: filled(16, 21),
        verifier: filled(32, 22),
      };
      await s.updateCredentials(a.id, credentials);
      // The same values again still find the row (MySQL counts it as matched, not changed).
      await s.updateCredentials(a.id, credentials);
      const after = await s.userById(a.id);
      assert.deepEqual(after, { ...newUser(a.username), ...credentials, id: a.id });
      await rejectsWith(s.updateCredentials(a.id + 1_000_000, credentials), "not_found");
    });
  });

  t("replaceIdentity() replaces the identity key and every prekey", async () => {
    await using(h, async (s) => {
      const a = await makeUser(s, "replace", prekeySet(5, 5));
      const keys = prekeySet(2, 1);
      keys.signedPrekey = { id: 70, publicKey: filled(32, 70), signature: filled(64, 71) };
      await s.replaceIdentity(a.id, filled(128, 99), keys);
      assert.deepEqual((await s.userById(a.id))?.identityKey, filled(128, 99));
      assert.deepEqual(await s.prekeyCounts(a.id), { oneTime: 2, kyber: 1 });
      const bundle = await s.takeBundle(a.id);
      assert.deepEqual(bundle?.identityKey, filled(128, 99));
      assert.deepEqual(bundle?.signedPrekey, keys.signedPrekey);
      await rejectsWith(s.replaceIdentity(a.id + 1_000_000, filled(128, 1), keys), "not_found");
    });
  });

  t("deleteUser() removes the user and everything of theirs", async () => {
    await using(h, async (s) => {
      const a = await makeUser(s, "doomed");
      const b = await makeUser(s, "friend");
      await s.putBackup(a.id, { blob: filled(100, 2), updatedAt: 1 });
      const [toA] = await s.enqueue([message(a.id, b.id, 1)]);
      const [fromA] = await s.enqueue([message(b.id, a.id, 2)]);
      await s.deleteUser(a.id);
      assert.equal(await s.userById(a.id), null);
      assert.equal(await s.userByName(a.username), null);
      assert.equal(await s.userByDevice(a.deviceKey), null);
      assert.deepEqual(await s.prekeyCounts(a.id), { oneTime: 0, kyber: 0 });
      assert.equal(await s.takeBundle(a.id), null);
      assert.equal(await s.getBackup(a.id), null);
      assert.equal(await s.pendingCount(a.id), 0);
      assert.equal(await s.ack(a.id, [toA!]), 0);
      // A message the deleted user already sent is still delivered.
      assert.deepEqual((await s.pending(b.id, 0, 10)).map((m) => m.qid), [fromA]);
      await s.deleteUser(a.id); // deleting again is harmless
      // The name is free again, and the new account gets a new id.
      const again = await s.createUser(newUser(a.username), prekeySet(), random(32));
      assert.ok(again.id > b.id);
      assert.equal(await s.pendingCount(again.id), 0);
    });
  });
}
