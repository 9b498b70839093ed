import assert from "node:assert/strict";
import { AccountKey, IdentityKeyPair } from "../crypto/mod.ts";
import { LocalStore, PrekeyKind } from "./local_store.ts";
import {
  ClientPrekeys,
  KYBER_BATCH,
  KYBER_LOW,
  LAST_RESORT_KEEP_MS,
  LAST_RESORT_ROTATE_MS,
  ONE_TIME_BATCH,
  ONE_TIME_LOW,
  SIGNED_PREKEY_KEEP_MS,
  SIGNED_PREKEY_ROTATE_MS,
} from "./prekeys.ts";

async function fresh(): Promise<ClientPrekeys> {
  const dir = await Deno.makeTempDir({ prefix: "pesuchat_prekeys_" });
  const store = LocalStore.open(`${dir}/local.db`);
  store.unlock(await AccountKey.generate());
  return new ClientPrekeys(store, await IdentityKeyPair.generate());
}

Deno.test("ClientPrekeys.initialSet() stores every private key it publishes", async () => {
  const p = await fresh();
  const set = await p.initialSet();
  assert.equal(set.oneTimePrekeys.length, ONE_TIME_BATCH);
  assert.equal(set.kyberPrekeys.length, KYBER_BATCH);
  assert.ok(await p.signedPrekey(set.signedPrekey.id));
  assert.ok((await p.kyberPrekey(set.kyberLastResort.id))?.lastResort);
  for (const k of set.oneTimePrekeys) assert.ok(await p.oneTimePrekey(k.id));
  const ids = [set.signedPrekey.id, set.kyberLastResort.id, ...set.oneTimePrekeys.map((k) => k.id)];
  assert.equal(new Set(ids).size, ids.length, "ids never repeat");
  p.store.close();
});

Deno.test("ClientPrekeys.replenish() tops up below the low marks and not at them", async () => {
  const p = await fresh();
  assert.equal(await p.replenish({ oneTime: ONE_TIME_LOW, kyber: KYBER_LOW }), null);
  const more = await p.replenish({ oneTime: ONE_TIME_LOW - 1, kyber: KYBER_LOW - 1 });
  assert.equal(more?.oneTimePrekeys?.length, ONE_TIME_BATCH - (ONE_TIME_LOW - 1));
  assert.equal(more?.kyberPrekeys?.length, KYBER_BATCH - (KYBER_LOW - 1));
  for (const k of more!.oneTimePrekeys!) assert.ok(await p.oneTimePrekey(k.id));
  p.store.close();
});

Deno.test("ClientPrekeys.rotateIfDue() replaces the signed prekey on schedule and keeps the old one a while", async () => {
  const p = await fresh();
  const set = await p.initialSet();
  const made = (await p.signedPrekey(set.signedPrekey.id))!.createdAt;
  assert.equal(await p.rotateIfDue(made + SIGNED_PREKEY_ROTATE_MS - 1), null);
  const rotated = await p.rotateIfDue(made + SIGNED_PREKEY_ROTATE_MS + 1);
  assert.ok(rotated?.signedPrekey && rotated.signedPrekey.id !== set.signedPrekey.id);
  // Messages started with the old key can still be read for a while…
  assert.ok(await p.signedPrekey(set.signedPrekey.id));
  // …and after the keeping period it is gone.
  await p.rotateIfDue(made + SIGNED_PREKEY_ROTATE_MS + SIGNED_PREKEY_KEEP_MS + 2);
  assert.equal(await p.signedPrekey(set.signedPrekey.id), null);
  assert.ok(p.store.listPrekeys(PrekeyKind.signed).length >= 1);
  p.store.close();
});

Deno.test("ClientPrekeys.rotateIfDue() replaces the last-resort ML-KEM key at LAST_RESORT_ROTATE_MS, keeps it LAST_RESORT_KEEP_MS", async () => {
  let now = 1_000_000_000_000;
  const dir = await Deno.makeTempDir({ prefix: "pesuchat_prekeys_" });
  const store = LocalStore.open(`${dir}/local.db`);
  store.unlock(await AccountKey.generate());
  const p = new ClientPrekeys(store, await IdentityKeyPair.generate(), () => now);
  const set = await p.initialSet();
  const old = set.kyberLastResort.id;
  now += LAST_RESORT_ROTATE_MS - 1;
  assert.equal((await p.rotateIfDue())?.kyberLastResort, undefined, "N-1: not yet");
  now += 1;
  const rotated = await p.rotateIfDue();
  assert.ok(rotated?.kyberLastResort && rotated.kyberLastResort.id !== old, "N: replaced");
  assert.equal((await p.kyberPrekey(rotated.kyberLastResort.id))?.lastResort, true);
  now += LAST_RESORT_KEEP_MS;
  await p.rotateIfDue();
  assert.ok(await p.kyberPrekey(old), "kept for LAST_RESORT_KEEP_MS after it was replaced");
  now += 1;
  await p.rotateIfDue();
  assert.equal(await p.kyberPrekey(old), null, "and gone one moment later");
  store.close();
});

Deno.test("ClientPrekeys.consume() deletes used one-time keys but never the last-resort key", async () => {
  const p = await fresh();
  const set = await p.initialSet();
  const otk = set.oneTimePrekeys[0]!.id;
  p.consume({ oneTimePrekeyId: otk, kyberPrekeyId: set.kyberPrekeys[0]!.id });
  assert.equal(await p.oneTimePrekey(otk), null);
  assert.equal(await p.kyberPrekey(set.kyberPrekeys[0]!.id), null);
  p.consume({ oneTimePrekeyId: null, kyberPrekeyId: null });
  assert.ok(await p.kyberPrekey(set.kyberLastResort.id));
  p.store.close();
});
