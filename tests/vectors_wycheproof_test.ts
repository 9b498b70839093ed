/**
 * Replays Project Wycheproof through crypto/subtle.ts: valid cases must pass, invalid ones must
 * fail, and acceptable ones are recorded. One test per file, with the count of cases it ran, so a
 * loader that reads nothing cannot pass.
 */

import assert from "node:assert/strict";
import { toHex } from "../crypto/bytes.ts";
import { DecryptError, KeyError } from "../crypto/errors.ts";
import {
  AesGcmKey,
  ed25519Verify,
  hkdfSha256,
  HmacKey,
  x25519,
  X25519KeyPair,
} from "../crypto/subtle.ts";
import { loadWycheproof, type WycheproofCase } from "./vectors.ts";

/** A failure line naming the case, so one assertion reports every mismatch. */
function fail(c: WycheproofCase, what: string): string {
  return `tcId ${c.tcId} (${c.result}; ${c.comment || c.flags.join(",")}): ${what}`;
}

Deno.test("x25519() matches Wycheproof and refuses exactly the low-order public keys", async () => {
  const { cases } = loadWycheproof("x25519_test.json");
  const failures: string[] = [];
  const refused: number[] = [];
  for (const c of cases) {
    const own = await X25519KeyPair.fromPrivate(c.private);
    let shared: Uint8Array | null = null;
    try {
      shared = await x25519(own, c.public);
    } catch (e) {
      if (!(e instanceof KeyError && e.code === "bad_public_key")) {
        failures.push(fail(c, `threw ${e}`));
      }
      refused.push(c.tcId);
    }
    if (shared !== null && toHex(shared) !== toHex(c.shared)) {
      failures.push(fail(c, "wrong secret"));
    }
    if (shared === null && c.result === "valid") failures.push(fail(c, "refused a valid case"));
    if (shared !== null && c.result === "invalid") {
      failures.push(fail(c, "accepted an invalid case"));
    }
  }
  assert.deepEqual(failures, []);
  assert.equal(cases.length, 518);
  const lowOrder = cases.filter((c) => c.shared.every((b) => b === 0));
  assert.equal(lowOrder.length, 31);
  assert.ok(lowOrder.every((c) => c.result === "acceptable" && c.flags.includes("LowOrderPublic")));
  // The refusals are exactly the all-zero secrets: every other acceptable case computes normally.
  assert.deepEqual(refused, lowOrder.map((c) => c.tcId));
  const acceptable = cases.filter((c) => c.result === "acceptable").length;
  assert.deepEqual({ acceptable, refused: refused.length, computed: acceptable - refused.length }, {
    acceptable: 254,
    refused: 31,
    computed: 223,
  });
});

Deno.test("ed25519Verify() accepts every valid and refuses every invalid Wycheproof signature", async () => {
  const { cases } = loadWycheproof("ed25519_test.json");
  const failures: string[] = [];
  for (const c of cases) {
    const ok = await ed25519Verify(c.publicKey, c.msg, c.sig);
    if (c.result === "valid" && !ok) failures.push(fail(c, "refused"));
    if (c.result === "invalid" && ok) failures.push(fail(c, "accepted"));
  }
  assert.deepEqual(failures, []);
  assert.equal(cases.length, 151);
  assert.equal(cases.filter((c) => c.result === "acceptable").length, 0);
});

Deno.test("AesGcmKey seals and opens every 96-bit-IV Wycheproof case as expected", async () => {
  const { cases } = loadWycheproof("aes_gcm_test.json");
  // pesuchat only ever uses 12-byte nonces; other IV sizes are filtered out, counted below.
  const run = cases.filter((c) => c.ivSize === 96);
  const failures: string[] = [];
  for (const c of run) {
    const key = await AesGcmKey.import(c.key);
    const sealed = new Uint8Array([...c.ct, ...c.tag]);
    if (c.result === "valid") {
      const got = await key.seal(c.iv, c.msg, c.aad);
      if (toHex(got) !== toHex(sealed)) failures.push(fail(c, "seal differs"));
    }
    let opened: Uint8Array | null = null;
    try {
      opened = await key.open(c.iv, sealed, c.aad);
    } catch (e) {
      if (!(e instanceof DecryptError)) failures.push(fail(c, `threw ${e}`));
    }
    if (c.result === "valid" && (opened === null || toHex(opened) !== toHex(c.msg))) {
      failures.push(fail(c, "open failed"));
    }
    if (c.result === "invalid" && opened !== null) failures.push(fail(c, "opened a forgery"));
  }
  assert.deepEqual(failures, []);
  assert.equal(cases.length, 316);
  assert.equal(run.length, 197);
  assert.equal(cases.length - run.length, 119, "filtered: IVs other than 96 bits");
  assert.deepEqual(
    [
      run.filter((c) => c.result === "valid").length,
      run.filter((c) => c.result === "invalid").length,
    ],
    [116, 81],
  );
});

Deno.test("hkdfSha256() matches every valid Wycheproof case and refuses oversized output", async () => {
  const { cases } = loadWycheproof("hkdf_sha256_test.json");
  const failures: string[] = [];
  for (const c of cases) {
    let okm: Uint8Array | null = null;
    try {
      okm = await hkdfSha256(c.ikm, c.salt, c.info, c.size);
    } catch (e) {
      if (!(e instanceof RangeError)) failures.push(fail(c, `threw ${e}`));
    }
    if (c.result === "valid" && (okm === null || toHex(okm) !== toHex(c.okm))) {
      failures.push(fail(c, "wrong output"));
    }
    if (c.result === "invalid" && okm !== null) failures.push(fail(c, "accepted"));
  }
  assert.deepEqual(failures, []);
  assert.equal(cases.length, 86);
  assert.equal(cases.filter((c) => c.result === "invalid").length, 3);
});

Deno.test("HmacKey.sign() matches every valid and no invalid Wycheproof tag", async () => {
  const { cases } = loadWycheproof("hmac_sha256_test.json");
  const failures: string[] = [];
  for (const c of cases) {
    const full = await (await HmacKey.import(c.key)).sign(c.msg);
    const matches = toHex(full.subarray(0, c.tagSize / 8)) === toHex(c.tag);
    if (c.result === "valid" && !matches) failures.push(fail(c, "tag differs"));
    if (c.result === "invalid" && matches) failures.push(fail(c, "matched a wrong tag"));
  }
  assert.deepEqual(failures, []);
  assert.equal(cases.length, 174);
  assert.equal(cases.filter((c) => c.tagSize === 128).length, 87, "truncated-tag cases ran");
});
