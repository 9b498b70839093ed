/**
 * Contract tests for prekeys and bundles.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MAX_BATCH } from "./limits.ts";
import { type ContractHarness, filled, makeUser, prekeySet, signed } from "./_contract_fixtures.ts";
import { rejectsWith, using } from "./_contract_users.ts";

/** How many takeBundle calls race in the concurrency test. */
export const CONCURRENT_BUNDLES = 50;

/** Registers the prekey and bundle tests. */
export function prekeyContract(h: ContractHarness): void {
  const t = (name: string, fn: () => Promise<void>) => Deno.test(`${h.kind}: ${name}`, fn);

  t("addOneTimePrekeys() and addKyberPrekeys() add keys that prekeyCounts() counts", async () => {
    await using(h, async (s) => {
      const a = await makeUser(s, "counts", prekeySet(3, 2));
      assert.deepEqual(await s.prekeyCounts(a.id), { oneTime: 3, kyber: 2 });
      await s.addOneTimePrekeys(a.id, [{ id: 10, publicKey: filled(32, 10) }]);
      await s.addKyberPrekeys(a.id, [signed(10, 1568), signed(11, 1568)]);
      await s.addOneTimePrekeys(a.id, []);
      assert.deepEqual(await s.prekeyCounts(a.id), { oneTime: 4, kyber: 4 });
      assert.deepEqual(await s.prekeyCounts(a.id + 1_000_000), { oneTime: 0, kyber: 0 });
    });
  });

  t("addOneTimePrekeys() takes MAX_BATCH keys and refuses one more", async () => {
    await using(h, async (s) => {
      const a = await makeUser(s, "batch", prekeySet(0, 0));
      const keys = (from: number, n: number) =>
        Array.from({ length: n }, (_, i) => ({ id: from + i, publicKey: filled(32, i & 0xff) }));
      await s.addOneTimePrekeys(a.id, keys(1, MAX_BATCH));
      await assert.rejects(s.addOneTimePrekeys(a.id, keys(5000, MAX_BATCH + 1)), RangeError);
      assert.deepEqual(await s.prekeyCounts(a.id), { oneTime: MAX_BATCH, kyber: 0 });
    });
  });

  t("addOneTimePrekeys() with an id the user has fails with conflict and adds none", async () => {
    await using(h, async (s) => {
      const a = await makeUser(s, "dupkey", prekeySet(3, 2));
      await rejectsWith(
        s.addOneTimePrekeys(a.id, [
          { id: 100, publicKey: filled(32, 1) },
          { id: 2, publicKey: filled(32, 1) },
        ]),
        "conflict",
      );
      await rejectsWith(s.addKyberPrekeys(a.id, [signed(50), signed(1)]), "conflict");
      assert.deepEqual(await s.prekeyCounts(a.id), { oneTime: 3, kyber: 2 });
      // Another user may use the same ids.
      const b = await makeUser(s, "dupkey2", prekeySet(3, 2));
      assert.deepEqual(await s.prekeyCounts(b.id), { oneTime: 3, kyber: 2 });
      await rejectsWith(
        s.addOneTimePrekeys(b.id + 1_000_000, [{ id: 1, publicKey: filled(32, 1) }]),
        "not_found",
      );
    });
  });

  t("takeBundle() hands each one-time key out once, then the last-resort ML-KEM key", async () => {
    await using(h, async (s) => {
      const keys = prekeySet(2, 1);
      const a = await makeUser(s, "bundle", keys);
      const first = await s.takeBundle(a.id);
      assert.deepEqual(first, {
        identityKey: filled(128, 5),
        signedPrekey: keys.signedPrekey,
        oneTimePrekey: keys.oneTimePrekeys[0],
        kyberPrekey: keys.kyberPrekeys[0],
        kyberLastResort: false,
      });
      const second = await s.takeBundle(a.id);
      assert.deepEqual(second?.oneTimePrekey, keys.oneTimePrekeys[1]);
      assert.deepEqual(second?.kyberPrekey, keys.kyberLastResort);
      assert.equal(second?.kyberLastResort, true);
      const third = await s.takeBundle(a.id);
      assert.equal(third?.oneTimePrekey, null);
      assert.deepEqual(third?.kyberPrekey, keys.kyberLastResort);
      assert.deepEqual(await s.prekeyCounts(a.id), { oneTime: 0, kyber: 0 });
      assert.equal(await s.takeBundle(a.id + 1_000_000), null);
    });
  });

  t(
    "takeBundle(id, false) hands out the last-resort keys and removes no one-time key",
    async () => {
      await using(h, async (s) => {
        const keys = prekeySet(2, 1);
        const a = await makeUser(s, "bundlenone", keys);
        const b = await s.takeBundle(a.id, false);
        assert.equal(b?.oneTimePrekey, null);
        assert.deepEqual(b?.kyberPrekey, keys.kyberLastResort);
        assert.equal(b?.kyberLastResort, true);
        assert.deepEqual(await s.prekeyCounts(a.id), { oneTime: 2, kyber: 1 });
      });
    },
  );

  t("setSignedPrekey() and setKyberLastResort() replace the keys bundles carry", async () => {
    await using(h, async (s) => {
      const a = await makeUser(s, "rotate", prekeySet(0, 0));
      await s.setSignedPrekey(a.id, signed(8));
      await s.setKyberLastResort(a.id, signed(9001, 1568));
      const bundle = await s.takeBundle(a.id);
      assert.deepEqual(bundle?.signedPrekey, signed(8));
      assert.deepEqual(bundle?.kyberPrekey, signed(9001, 1568));
      await rejectsWith(s.setSignedPrekey(a.id + 1_000_000, signed(8)), "not_found");
    });
  });

  t(
    `takeBundle() called ${CONCURRENT_BUNDLES} times at once never repeats a one-time key`,
    async () => {
      await using(h, async (s) => {
        // Fewer keys than callers, so some callers must see the keys run out.
        const oneTime = CONCURRENT_BUNDLES - 10;
        const kyber = CONCURRENT_BUNDLES - 5;
        const a = await makeUser(s, "race", prekeySet(oneTime, kyber));
        const bundles = await Promise.all(
          Array.from({ length: CONCURRENT_BUNDLES }, () => s.takeBundle(a.id)),
        );
        const oneTimeIds = bundles.flatMap((b) => b?.oneTimePrekey ? [b.oneTimePrekey.id] : []);
        const kyberIds = bundles.flatMap((b) => b && !b.kyberLastResort ? [b.kyberPrekey.id] : []);
        assert.equal(oneTimeIds.length, oneTime);
        assert.equal(new Set(oneTimeIds).size, oneTime);
        assert.equal(kyberIds.length, kyber);
        assert.equal(new Set(kyberIds).size, kyber);
        assert.equal(bundles.filter((b) => b?.kyberLastResort).length, CONCURRENT_BUNDLES - kyber);
        assert.deepEqual(await s.prekeyCounts(a.id), { oneTime: 0, kyber: 0 });
      });
    },
  );
}
