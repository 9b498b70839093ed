import assert from "node:assert/strict";
import mysql from "mysql2/promise";
import { DEFAULT_TEST_MYSQL_URL } from "../scripts/test_db.ts";
import { openStore } from "./mod.ts";
import { parseLocation } from "./location.ts";
import type { Store } from "./store.ts";
import { storeContract } from "./store_contract.ts";
import { CONCURRENT_BUNDLES } from "./_contract_prekeys.ts";
import { rejectsWith } from "./_contract_users.ts";
import { makeUser, message, prekeySet } from "./_contract_fixtures.ts";

const base = Deno.env.get("PESUCHAT_TEST_MYSQL") ?? DEFAULT_TEST_MYSQL_URL;
const baseUrl = new URL(base);
const admin = await mysql.createConnection({ uri: base });

/** A URL for a new, empty database `pesuchat_test_<random>` (the test user's grant covers it). */
async function createDatabase(): Promise<{ name: string; url: string }> {
  const name = `pesuchat_test_${crypto.getRandomValues(new Uint8Array(6)).toHex()}`;
  await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

/** Ids of the connections other clients hold on database `name`. */
async function connectionsOn(name: string): Promise<number[]> {
  const [rows] = await admin.query(
    "SELECT id FROM information_schema.PROCESSLIST WHERE db = ? AND id <> CONNECTION_ID()",
    [name],
  );
  return (rows as { id: number }[]).map((r) => Number(r.id));
}

async function killAll(name: string): Promise<number> {
  const ids = await connectionsOn(name);
  for (const id of ids) await admin.query(`KILL ${id}`).catch(() => {});
  return ids.length;
}

/** Drops test databases over an hour old, left by an interrupted run or one run with --filter. */
async function dropStaleDatabases(): Promise<void> {
  const [rows] = await admin.query(
    "SELECT TABLE_SCHEMA AS name FROM information_schema.TABLES " +
      "WHERE TABLE_SCHEMA LIKE 'pesuchat\\_test\\_%' GROUP BY TABLE_SCHEMA " +
      "HAVING MAX(CREATE_TIME) < NOW() - INTERVAL 1 HOUR",
  );
  for (const { name } of rows as { name: string }[]) {
    if (/^pesuchat_test_[0-9a-f]{12}$/.test(name)) await admin.query(`DROP DATABASE ${name}`);
  }
}

await dropStaleDatabases();
const shared = await createDatabase();
{
  const store = await openStore(shared.url);
  await store.migrate();
  await store.close();
}

storeContract({
  kind: "mysql",
  open: () => openStore(shared.url),
  async empty() {
    const db = await createDatabase();
    const store = await openStore(db.url);
    return {
      store,
      async exec(sql: string) {
        await admin.query(`USE ${db.name}`);
        await admin.query(sql);
      },
      async drop() {
        await store.close();
        await admin.query(`DROP DATABASE ${db.name}`);
      },
    };
  },
});

async function usingStore(fn: (s: Store) => Promise<void>, poolSize = 4): Promise<void> {
  const store = await openStore(shared.url, { poolSize });
  try {
    await fn(store);
  } finally {
    await store.close();
  }
}

/** Fails the test instead of hanging when `p` does not settle within `ms`. */
async function within<T>(ms: number, p: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("mysql: migrate() makes InnoDB tables with utf8mb4_bin", async () => {
  const [rows] = await admin.query(
    "SELECT TABLE_NAME AS t, ENGINE AS e, TABLE_COLLATION AS c FROM information_schema.TABLES " +
      "WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME",
    [shared.name],
  );
  const tables = rows as { t: string; e: string; c: string }[];
  assert.deepEqual(tables.map((r) => r.t), [
    "backups",
    "devices",
    "invites",
    "kyber_last_resort",
    "kyber_prekeys",
    "login_failures",
    "one_time_prekeys",
    "queue",
    "schema_version",
    "signed_prekeys",
    "users",
  ]);
  assert.ok(tables.every((r) => r.e === "InnoDB"), JSON.stringify(tables));
  assert.ok(tables.every((r) => r.c === "utf8mb4_bin"), JSON.stringify(tables));
});

Deno.test(`mysql: takeBundle() races ${CONCURRENT_BUNDLES} calls over several connections`, async () => {
  await usingStore(async (s) => {
    const a = await makeUser(s, "pool", prekeySet(CONCURRENT_BUNDLES, CONCURRENT_BUNDLES));
    const bundles = await Promise.all(
      Array.from({ length: CONCURRENT_BUNDLES }, () => s.takeBundle(a.id)),
    );
    const ids = bundles.map((b) => b?.oneTimePrekey?.id);
    assert.equal(new Set(ids).size, CONCURRENT_BUNDLES);
    assert.ok(ids.every((id) => id !== undefined));
    // The pool really spread the calls over connections.
    assert.ok((await connectionsOn(shared.name)).length >= 2);
  }, 8);
});

Deno.test("mysql: a killed idle connection is replaced and no committed row is lost", async () => {
  await usingStore(async (s) => {
    const a = await makeUser(s, "killidle");
    const first = await s.enqueue([message(a.id, a.id, 1), message(a.id, a.id, 2)]);
    assert.ok(await killAll(shared.name) >= 1);
    // Each call either recovers on a fresh connection or says the database is unavailable.
    const settle = (p: Promise<unknown>) =>
      p.then(() => "ok", (e) => (e as { code?: string }).code);
    const outcomes = [
      await within(20_000, settle(s.enqueue([message(a.id, a.id, 3)]))),
      await within(20_000, settle(s.pending(a.id, 0, 10))),
    ];
    assert.ok(outcomes.every((o) => o === "ok" || o === "unavailable"), String(outcomes));
    const after = await within(20_000, s.pending(a.id, 0, 10));
    assert.deepEqual(after.map((m) => m.qid).slice(0, 2), first);
  });
});

Deno.test("mysql: a connection killed mid-transaction is retried and commits once", async () => {
  await usingStore(async (s) => {
    const a = await makeUser(s, "killbusy");
    const blocker = await mysql.createConnection({ uri: shared.url });
    try {
      // Hold the recipient's row so enqueue waits inside its transaction.
      await blocker.query("START TRANSACTION");
      await blocker.query("SELECT id FROM users WHERE id = ? FOR UPDATE", [a.id]);
      const item = message(a.id, a.id, 1);
      const enqueued = s.enqueue([item]).then((q) => q, (e) => e);
      // Wait (bounded) until the store's statement is waiting on the lock, then kill it.
      let killed = 0;
      for (let i = 0; i < 100 && killed === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
        const [rows] = await admin.query(
          "SELECT id FROM information_schema.PROCESSLIST WHERE db = ? AND info LIKE ?",
          [shared.name, "%FOR UPDATE%"],
        );
        for (const r of rows as { id: number }[]) {
          if (Number(r.id) === blocker.threadId) continue;
          await admin.query(`KILL ${r.id}`);
          killed++;
        }
      }
      assert.equal(killed, 1);
      await blocker.query("ROLLBACK");
      const result = await within(20_000, enqueued);
      if (Array.isArray(result)) {
        assert.deepEqual((await s.pending(a.id, 0, 10)).map((m) => m.qid), result);
      } else {
        assert.equal((result as { code?: string }).code, "unavailable");
      }
      // Whatever the outcome, a retry by the sender yields exactly one queued copy.
      const [qid] = await s.enqueue([item]);
      assert.deepEqual((await s.pending(a.id, 0, 10)).map((m) => m.qid), [qid]);
    } finally {
      await blocker.end();
    }
  });
});

Deno.test("mysql: an unreachable server fails with unavailable, without the password", async () => {
  const store = await openStore("mysql://someone:s3cret-pw@127.0.0.1:1/pesuchat_test_none");
  try {
    await rejectsWith(within(20_000, store.migrate()), "unavailable", ["s3cret-pw"]);
  } finally {
    await store.close();
  }
});

Deno.test("mysql: a wrong password fails with unavailable, without the password", async () => {
  const url = new URL(shared.url);
  url.password = "wrong-pw-123";
  const store = await openStore(url.toString());
  try {
    await rejectsWith(within(20_000, store.userById(1)), "unavailable", ["wrong-pw-123"]);
    assert.ok(!Deno.inspect(store).includes("wrong-pw-123"));
    assert.ok(!Deno.inspect(parseLocation(url.toString())).includes("wrong-pw-123"));
  } finally {
    await store.close();
  }
});

Deno.test("mysql: the test database is dropped at the end", async () => {
  await killAll(shared.name);
  await admin.query(`DROP DATABASE ${shared.name}`);
  await admin.end();
});
