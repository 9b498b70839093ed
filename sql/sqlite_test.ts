import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openSqlite } from "./sqlite.ts";
import { storeContract } from "./store_contract.ts";
import { rejectsWith } from "./_contract_users.ts";
import { makeUser, message } from "./_contract_fixtures.ts";

const dir = await Deno.makeTempDir({ prefix: "pesuchat_sqlite_test_" });
const shared = `${dir}/shared.db`;
let files = 0;

{
  const store = openSqlite(shared);
  await store.migrate();
  await store.close();
}

function removeDb(path: string): Promise<void[]> {
  return Promise.all(["", "-wal", "-shm"].map((s) => Deno.remove(path + s).catch(() => {})));
}

storeContract({
  kind: "sqlite",
  open() {
    return Promise.resolve(openSqlite(shared));
  },
  empty() {
    const path = `${dir}/empty_${++files}.db`;
    const store = openSqlite(path);
    return Promise.resolve({
      store,
      exec(sql: string) {
        const db = new DatabaseSync(path);
        try {
          db.exec(sql);
        } finally {
          db.close();
        }
        return Promise.resolve();
      },
      scalar(sql: string) {
        const db = new DatabaseSync(path);
        try {
          return Promise.resolve(Number(Object.values(db.prepare(sql).get() ?? {})[0]));
        } finally {
          db.close();
        }
      },
      async drop() {
        await store.close();
        await removeDb(path);
      },
    });
  },
});

Deno.test("openSqlite() turns on WAL, synchronous=NORMAL (the WAL is synced per write), foreign keys and a busy timeout", async () => {
  const store = openSqlite(shared, { busyTimeoutMs: 1234 });
  try {
    assert.deepEqual(await store.settings(), {
      journalMode: "wal",
      synchronous: 1,
      foreignKeys: true,
      busyTimeoutMs: 1234,
      maxPageCount: (await store.settings()).maxPageCount,
    });
    assert.ok((await store.settings()).maxPageCount > 1_000_000_000);
  } finally {
    await store.close();
  }
});

Deno.test("enqueue() on a full database fails with full, keeps nothing and leaves the store usable", async () => {
  const path = `${dir}/full_${++files}.db`;
  const store = openSqlite(path, { maxBytes: 256 * 1024 });
  try {
    await store.migrate();
    const a = await makeUser(store, "full");
    const big = (n: number) => ({ ...message(a.id, a.id, n), body: new Uint8Array(8192).fill(n) });
    const queued: number[] = [];
    let failure: unknown;
    // 256 KiB holds fewer than 32 bodies of 8 KiB: the loop ends on the error well before 64.
    for (let n = 0; n < 64 && failure === undefined; n += 4) {
      const batch = [big(n), big(n + 1), big(n + 2), big(n + 3)];
      await store.enqueue(batch).then((q) => queued.push(...q), (e) => failure = e);
    }
    assert.ok(failure !== undefined, "the database never filled up");
    await rejectsWith(Promise.reject(failure), "full");
    // The failed batch left nothing behind, and reads still work.
    assert.equal(await store.pendingCount(a.id), queued.length);
    assert.deepEqual((await store.pending(a.id, 0, 100)).map((m) => m.qid), queued);
    // Acknowledging frees pages for new messages.
    assert.equal(await store.ack(a.id, queued), queued.length);
    const [qid] = await store.enqueue([big(99)]);
    assert.deepEqual((await store.pending(a.id, 0, 10)).map((m) => m.qid), [qid]);
  } finally {
    await store.close();
    await removeDb(path);
  }
});

Deno.test("openSqlite() on a path that cannot be opened fails with unavailable", () => {
  assert.throws(
    () => openSqlite(`${dir}/no/such/folder/x.db`),
    (e: unknown) => (e as { code?: string }).code === "unavailable",
  );
});

Deno.test("enqueue() fails with unavailable while another process holds the write lock too long", async () => {
  const path = `${dir}/busy_${++files}.db`;
  const store = openSqlite(path, { busyTimeoutMs: 50 });
  const other = new DatabaseSync(path);
  try {
    await store.migrate();
    const a = await makeUser(store, "busy");
    other.exec("BEGIN IMMEDIATE");
    await rejectsWith(store.enqueue([message(a.id, a.id, 1)]), "unavailable");
    other.exec("ROLLBACK");
    assert.equal((await store.enqueue([message(a.id, a.id, 2)])).length, 1);
  } finally {
    other.close();
    await store.close();
    await removeDb(path);
  }
});

Deno.test("openSqlite() refuses a negative busy timeout and a size that is not positive", () => {
  assert.throws(() => openSqlite(shared, { busyTimeoutMs: -1 }), RangeError);
  assert.throws(() => openSqlite(shared, { maxBytes: 0 }), RangeError);
  assert.throws(() => openSqlite(shared, { maxBytes: NaN }), RangeError);
});
