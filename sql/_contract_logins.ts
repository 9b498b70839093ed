/**
 * Contract tests for the failed-login counters that every server node shares.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MAX_THROTTLE_KEY_LENGTH } from "./limits.ts";
import { type ContractHarness, uniqueName } from "./_contract_fixtures.ts";
import { using } from "./_contract_users.ts";

/** Registers the login-failure tests. */
export function loginContract(h: ContractHarness): void {
  const t = (name: string, fn: () => Promise<void>) => Deno.test(`${h.kind}: ${name}`, fn);

  t(
    "putLoginFailures() stores and replaces counters that another store on the database reads",
    async () => {
      const key = `a:${uniqueName("addr")}`;
      await using(h, async (s) => {
        assert.equal(await s.loginFailures(key), null);
        await s.putLoginFailures(key, { count: 1, first: 10, lockedUntil: 0, lockouts: 0 });
        await s.putLoginFailures(key, { count: 5, first: 10, lockedUntil: 2000, lockouts: 1 });
      });
      // A second store on the same database (a restarted server, another node) sees them.
      await using(h, async (s) => {
        assert.deepEqual(await s.loginFailures(key), {
          count: 5,
          first: 10,
          lockedUntil: 2000,
          lockouts: 1,
        });
        await s.deleteLoginFailures(key);
        await s.deleteLoginFailures(key);
        assert.equal(await s.loginFailures(key), null);
      });
    },
  );

  t("pruneLoginFailures() forgets windows and locks that ended, keeps the rest", async () => {
    await using(h, async (s) => {
      const old = `a:${uniqueName("old")}`;
      const locked = `a:${uniqueName("locked")}`;
      const fresh = `a:${uniqueName("fresh")}`;
      await s.putLoginFailures(old, { count: 3, first: 100, lockedUntil: 0, lockouts: 0 });
      await s.putLoginFailures(locked, { count: 0, first: 100, lockedUntil: 9000, lockouts: 2 });
      await s.putLoginFailures(fresh, { count: 1, first: 5000, lockedUntil: 0, lockouts: 0 });
      assert.ok((await s.pruneLoginFailures(1000)) >= 1);
      assert.equal(await s.loginFailures(old), null);
      assert.equal((await s.loginFailures(locked))?.lockouts, 2);
      assert.equal((await s.loginFailures(fresh))?.count, 1);
    });
  });

  t(
    "login failure keys of MAX_THROTTLE_KEY_LENGTH are taken, one more is a RangeError",
    async () => {
      await using(h, async (s) => {
        const tag = uniqueName("k");
        const longest = tag + "x".repeat(MAX_THROTTLE_KEY_LENGTH - tag.length);
        await s.putLoginFailures(longest, { count: 1, first: 1, lockedUntil: 0, lockouts: 0 });
        assert.equal((await s.loginFailures(longest))?.count, 1);
        const tooLong = longest + "x";
        await assert.rejects(
          s.putLoginFailures(tooLong, { count: 1, first: 1, lockedUntil: 0, lockouts: 0 }),
          RangeError,
        );
        await assert.rejects(s.loginFailures(tooLong), RangeError);
      });
    },
  );
}
