import assert from "node:assert/strict";
import { join } from "node:path";
import { AccountKey, SessionRecord } from "../crypto/mod.ts";
import { LocalStore } from "./local_store.ts";
import { MAX_SESSION_ATTEMPTS, SessionLock } from "./session_lock.ts";

/** Two connections to one store file, as two processes on one profile have. */
async function twoProcesses(): Promise<{ mine: LocalStore; other: LocalStore }> {
  const path = join(await Deno.makeTempDir({ prefix: "pesuchat_lock_" }), "store.db");
  const key = await AccountKey.generate();
  const mine = LocalStore.open(path);
  const other = LocalStore.open(path);
  mine.unlock(key);
  other.unlock(key);
  return { mine, other };
}

/** A step that loses to the other process `losses` times, then runs undisturbed. */
async function stepLosing(lock: SessionLock, other: LocalStore, losses: number): Promise<number> {
  const sealed = await other.sealSession("bob", SessionRecord.empty().serialize());
  let attempts = 0;
  return await lock.run("bob", () => {
    attempts++;
    if (attempts <= losses) {
      // The other process commits while this step is still computing.
      other.transaction(() => other.writeSession("bob", sealed, other.sessionVersion("bob")));
    }
    return Promise.resolve({ record: SessionRecord.empty(), result: attempts });
  });
}

Deno.test("SessionLock commits only on the version it read, retrying up to MAX_SESSION_ATTEMPTS", async () => {
  const { mine, other } = await twoProcesses();
  try {
    const lock = new SessionLock(mine);
    assert.equal(await stepLosing(lock, other, 0), 1);
    assert.equal(mine.sessionVersion("bob"), 1);
    // Losing N - 1 times still commits, on the last attempt, on top of every other write.
    assert.equal(await stepLosing(lock, other, MAX_SESSION_ATTEMPTS - 1), MAX_SESSION_ATTEMPTS);
    assert.equal(mine.sessionVersion("bob"), 1 + (MAX_SESSION_ATTEMPTS - 1) + 1);
    // Losing N times gives up, and writes nothing of its own.
    const before = mine.sessionVersion("bob");
    await assert.rejects(
      stepLosing(lock, other, MAX_SESSION_ATTEMPTS),
      /kept changing under this process/,
    );
    assert.equal(mine.sessionVersion("bob"), before + MAX_SESSION_ATTEMPTS);
  } finally {
    mine.close();
    other.close();
  }
});

Deno.test("SessionLock's cached record is used only while the row's version is unchanged", async () => {
  const { mine, other } = await twoProcesses();
  try {
    const lock = new SessionLock(mine);
    const first = await lock.current("bob");
    assert.equal(first.version, 0);
    assert.equal(await lock.current("bob"), first, "served from the cache");
    const sealed = await other.sealSession("bob", SessionRecord.empty().retire().serialize());
    other.transaction(() => other.writeSession("bob", sealed, 0));
    const next = await lock.current("bob");
    assert.notEqual(next, first);
    assert.equal(next.version, 1);
  } finally {
    mine.close();
    other.close();
  }
});
