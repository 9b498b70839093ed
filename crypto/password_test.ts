import assert from "node:assert/strict";
import { randomBytes, toHex, utf8 } from "./bytes.ts";
import { DecryptError } from "./errors.ts";
import {
  AccountKey,
  BLOB_OVERHEAD,
  checkKdfParams,
  DEFAULT_KDF_PARAMS,
  derivePasswordKeys,
  KDF_FLOOR,
  KDF_MAX_MEMORY_KIB,
  KDF_MAX_PARALLELISM,
  KDF_MAX_PASSES,
  KDF_MIN_MEMORY_KIB,
  KDF_MIN_PASSES,
  type KdfParams,
  LEGACY_KDF_PARAMS,
  meetsKdfFloor,
  newSalt,
  openBlob,
  PasswordError,
  sealBlob,
} from "./password.ts";

const outOfBounds = (e: unknown) => e instanceof PasswordError && e.code === "kdf_out_of_bounds";
const decryptError = (code: string) => (e: unknown) => e instanceof DecryptError && e.code === code;

// Argon2id at OWASP cost takes tens of milliseconds: derive each case once.
const salt = newSalt();
const [same1, same2, otherSalt, composed, decomposed] = await Promise.all([
  derivePasswordKeys("correct horse", salt, DEFAULT_KDF_PARAMS),
  derivePasswordKeys("correct horse", salt, DEFAULT_KDF_PARAMS),
  derivePasswordKeys("correct horse", newSalt(), DEFAULT_KDF_PARAMS),
  derivePasswordKeys("caf\u00e9", salt, DEFAULT_KDF_PARAMS),
  derivePasswordKeys("cafe\u0301", salt, DEFAULT_KDF_PARAMS),
]);

Deno.test("derivePasswordKeys() gives the same keys for the same password and salt", async () => {
  assert.deepEqual(same1.authKey.bytesUnsafe(), same2.authKey.bytesUnsafe());
  const blob = await sealBlob(same1.masterKey, utf8("x"), utf8("ad"));
  assert.deepEqual(await openBlob(same2.masterKey, blob, utf8("ad")), utf8("x"));
});

Deno.test("derivePasswordKeys() gives different keys for another salt", async () => {
  assert.notDeepEqual(same1.authKey.bytesUnsafe(), otherSalt.authKey.bytesUnsafe());
  const blob = await sealBlob(same1.masterKey, utf8("x"), utf8(""));
  await assert.rejects(openBlob(otherSalt.masterKey, blob, utf8("")), decryptError("auth_failed"));
});

Deno.test("derivePasswordKeys() normalises the password with NFKC", () => {
  assert.deepEqual(composed.authKey.bytesUnsafe(), decomposed.authKey.bytesUnsafe());
  assert.notDeepEqual(composed.authKey.bytesUnsafe(), same1.authKey.bytesUnsafe());
});

Deno.test("derivePasswordKeys() keeps the auth key and the master key apart", async () => {
  // The auth key goes to the server; it must not open what the master key sealed.
  const blob = await sealBlob(same1.masterKey, utf8("x"), utf8(""));
  assert.equal(blob.length, 1 + BLOB_OVERHEAD);
  assert.ok(!toHex(blob).includes(toHex(same1.authKey.bytesUnsafe())));
});

Deno.test("openBlob() refuses the wrong key, a wrong AD and any changed byte", async () => {
  const key = await AccountKey.generate();
  const blob = await sealBlob(key, utf8("the local store"), utf8("messages"));
  await assert.rejects(
    openBlob(await AccountKey.generate(), blob, utf8("messages")),
    decryptError("auth_failed"),
  );
  await assert.rejects(openBlob(key, blob, utf8("backup")), decryptError("auth_failed"));
  for (const offset of [1, 12, 13, blob.length - 1]) {
    const t = blob.slice();
    t[offset]! ^= 1;
    await assert.rejects(openBlob(key, t, utf8("messages")), decryptError("auth_failed"));
  }
  const v2 = blob.slice();
  v2[0] = 2;
  await assert.rejects(openBlob(key, v2, utf8("messages")), decryptError("bad_format"));
  await assert.rejects(
    openBlob(key, blob.subarray(0, 20), utf8("messages")),
    decryptError("bad_format"),
  );
  assert.equal(
    new TextDecoder().decode(await openBlob(key, blob, utf8("messages"))),
    "the local store",
  );
});

Deno.test("sealBlob() uses a fresh nonce each time", async () => {
  const key = await AccountKey.generate();
  const [a, b] = await Promise.all([
    sealBlob(key, utf8("x"), utf8("")),
    sealBlob(key, utf8("x"), utf8("")),
  ]);
  assert.notDeepEqual(a, b);
});

Deno.test("AccountKey.wrap() survives a password change by re-wrapping only the key", async () => {
  const account = await AccountKey.generate();
  const data = await sealBlob(account, utf8("backup"), utf8("b"));
  const wrapped = await account.wrap(same1.masterKey);
  const unwrapped = await AccountKey.unwrap(same2.masterKey, wrapped);
  const rewrapped = await unwrapped.wrap(otherSalt.masterKey); // the new password's master key
  const later = await AccountKey.unwrap(otherSalt.masterKey, rewrapped);
  assert.deepEqual(await openBlob(later, data, utf8("b")), utf8("backup"));
  await assert.rejects(AccountKey.unwrap(same1.masterKey, rewrapped), decryptError("auth_failed"));
});

Deno.test("checkKdfParams() bounds memory at N and N+1 both ways", () => {
  const p = (memoryKiB: number): KdfParams => ({ ...DEFAULT_KDF_PARAMS, memoryKiB });
  checkKdfParams(p(KDF_MAX_MEMORY_KIB));
  assert.throws(() => checkKdfParams(p(KDF_MAX_MEMORY_KIB + 1)), outOfBounds);
  checkKdfParams(p(KDF_MIN_MEMORY_KIB));
  assert.throws(() => checkKdfParams(p(KDF_MIN_MEMORY_KIB - 1)), outOfBounds);
});

Deno.test("meetsKdfFloor() takes KDF_FLOOR's memory and passes and refuses one less of either", () => {
  const p = (over: Partial<KdfParams>): KdfParams => ({ ...DEFAULT_KDF_PARAMS, ...over });
  assert.equal(meetsKdfFloor(p(KDF_FLOOR)), true);
  assert.equal(meetsKdfFloor(p({ memoryKiB: KDF_FLOOR.memoryKiB - 1 })), false);
  assert.equal(meetsKdfFloor(p({ passes: KDF_FLOOR.passes - 1 })), false);
  assert.equal(meetsKdfFloor(LEGACY_KDF_PARAMS), false);
  assert.deepEqual(DEFAULT_KDF_PARAMS, { memoryKiB: 65536, passes: 3, parallelism: 4 });
});

Deno.test("checkKdfParams() bounds passes and parallelism at N and N+1", () => {
  const p = (over: Partial<KdfParams>): KdfParams => ({ ...DEFAULT_KDF_PARAMS, ...over });
  checkKdfParams(p({ passes: KDF_MAX_PASSES }));
  assert.throws(() => checkKdfParams(p({ passes: KDF_MAX_PASSES + 1 })), outOfBounds);
  checkKdfParams(p({ passes: KDF_MIN_PASSES }));
  assert.throws(() => checkKdfParams(p({ passes: KDF_MIN_PASSES - 1 })), outOfBounds);
  checkKdfParams(p({ parallelism: KDF_MAX_PARALLELISM }));
  assert.throws(() => checkKdfParams(p({ parallelism: KDF_MAX_PARALLELISM + 1 })), outOfBounds);
  assert.throws(() => checkKdfParams(p({ parallelism: 0 })), outOfBounds);
  assert.throws(() => checkKdfParams(p({ passes: 2.5 })), outOfBounds);
});

Deno.test("derivePasswordKeys() refuses hostile parameters or a bad salt before any work", async () => {
  const hostile = { ...DEFAULT_KDF_PARAMS, memoryKiB: 4 * 1024 * 1024 };
  await assert.rejects(derivePasswordKeys("pw", salt, hostile), outOfBounds);
  const weak = { ...DEFAULT_KDF_PARAMS, memoryKiB: 8 };
  await assert.rejects(derivePasswordKeys("pw", salt, weak), outOfBounds);
  for (const bad of [randomBytes(15), randomBytes(17)]) {
    await assert.rejects(
      derivePasswordKeys("pw", bad, DEFAULT_KDF_PARAMS),
      (e) => e instanceof PasswordError && e.code === "bad_salt",
    );
  }
});

Deno.test("password keys print as [redacted]", async () => {
  const account = await AccountKey.generate();
  const shown = [same1.authKey, same1.masterKey, account, same1]
    .map((k) => Deno.inspect(k) + JSON.stringify(k)).join();
  assert.ok(!shown.includes(toHex(same1.authKey.bytesUnsafe())));
  assert.match(shown, /AuthKey \[redacted\]/);
  assert.match(shown, /MasterKey \[redacted\]/);
  assert.match(shown, /AccountKey \[redacted\]/);
});
