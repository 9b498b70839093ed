import assert from "node:assert/strict";
import {
  needsRemoteStaticKey,
  needsStaticKey,
  NOISE_PATTERNS,
  noiseProtocolName,
} from "./patterns.ts";

Deno.test("noiseProtocolName() names the suite pesuchat runs", () => {
  assert.equal(noiseProtocolName("XX"), "Noise_XX_25519_AESGCM_SHA256");
  assert.equal(noiseProtocolName("IK"), "Noise_IK_25519_AESGCM_SHA256");
});

Deno.test("needsStaticKey() and needsRemoteStaticKey() read the pattern data", () => {
  const { XX, IK, NK } = NOISE_PATTERNS;
  assert.deepEqual([needsStaticKey(XX, true), needsStaticKey(XX, false)], [true, true]);
  assert.deepEqual([needsStaticKey(IK, true), needsStaticKey(IK, false)], [true, true]);
  assert.deepEqual([needsStaticKey(NK, true), needsStaticKey(NK, false)], [false, true]);
  assert.deepEqual([needsRemoteStaticKey(XX, true), needsRemoteStaticKey(XX, false)], [
    false,
    false,
  ]);
  assert.deepEqual([needsRemoteStaticKey(IK, true), needsRemoteStaticKey(IK, false)], [
    true,
    false,
  ]);
  assert.deepEqual([needsRemoteStaticKey(NK, true), needsRemoteStaticKey(NK, false)], [
    true,
    false,
  ]);
});

Deno.test("NOISE_PATTERNS cannot be changed at run time", () => {
  const xx = NOISE_PATTERNS.XX;
  assert.throws(() => (xx.messages[0] as string[]).push("s"), TypeError);
  assert.throws(() => (xx.messages as string[][]).pop(), TypeError);
  assert.throws(() => {
    (NOISE_PATTERNS as Record<string, unknown>).XX = NOISE_PATTERNS.NK;
  }, TypeError);
  assert.deepEqual(xx.messages, [["e"], ["e", "ee", "s", "es"], ["s", "se"]]);
});
