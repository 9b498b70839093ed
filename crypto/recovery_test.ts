import assert from "node:assert/strict";
import { DecryptError } from "./errors.ts";
import { sealBlob } from "./password.ts";
import { AccountKey } from "./password.ts";
import {
  RECOVERY_KEY_CHARS,
  RECOVERY_KEY_GROUP,
  RecoveryKey,
  RecoveryKeyError,
} from "./recovery.ts";

const AD = new TextEncoder().encode("backup alice");

Deno.test("RecoveryKey shows 64 hex digits in groups of four and reads them back however typed", async () => {
  const key = RecoveryKey.generate();
  const text = key.textUnsafe();
  const groups = text.split(" ");
  assert.equal(groups.length, RECOVERY_KEY_CHARS / RECOVERY_KEY_GROUP);
  assert.ok(groups.every((g) => /^[0-9a-f]{4}$/.test(g)));
  const blob = await key.sealBackup(new TextEncoder().encode("history"), AD);
  for (
    const typed of [text, text.toUpperCase(), text.replaceAll(" ", ""), text.replaceAll(" ", "-")]
  ) {
    const opened = await RecoveryKey.parse(typed).openBackup(blob, AD);
    assert.equal(new TextDecoder().decode(opened), "history");
  }
});

Deno.test("RecoveryKey.parse() takes RECOVERY_KEY_CHARS digits and refuses one fewer, one more, or a non-hex", () => {
  const digits = "0123456789abcdef".repeat(4);
  assert.equal(digits.length, RECOVERY_KEY_CHARS);
  RecoveryKey.parse(digits);
  for (const bad of [digits.slice(1), digits + "0"]) {
    assert.throws(
      () => RecoveryKey.parse(bad),
      (e) => e instanceof RecoveryKeyError && e.code === "bad_length",
    );
  }
  assert.throws(
    () => RecoveryKey.parse("g" + digits.slice(1)),
    (e) => e instanceof RecoveryKeyError && e.code === "bad_character",
  );
});

Deno.test("RecoveryKey.openBackup() refuses the wrong key, a changed byte, another AD and an older backup", async () => {
  const key = RecoveryKey.generate();
  const blob = await key.sealBackup(new Uint8Array([1, 2, 3]), AD);
  const authFailed = (e: unknown) => e instanceof DecryptError && e.code === "auth_failed";
  await assert.rejects(RecoveryKey.generate().openBackup(blob, AD), authFailed);
  const flipped = blob.slice();
  flipped[flipped.length - 1]! ^= 1;
  await assert.rejects(key.openBackup(flipped, AD), authFailed);
  await assert.rejects(key.openBackup(blob, new Uint8Array()), authFailed);
  const older = await sealBlob(await AccountKey.generate(), new Uint8Array([1]), AD);
  await assert.rejects(
    key.openBackup(older, AD),
    (e) => e instanceof RecoveryKeyError && e.code === "older_backup",
  );
});

Deno.test("RecoveryKey prints and serialises as [redacted]", () => {
  const key = RecoveryKey.generate();
  assert.equal(Deno.inspect(key), "RecoveryKey [redacted]");
  assert.equal(JSON.stringify({ key }), '{"key":"[redacted]"}');
  assert.ok(!Deno.inspect({ key }).includes(key.textUnsafe().slice(0, 4) + " "));
});
