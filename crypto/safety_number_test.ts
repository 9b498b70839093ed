import assert from "node:assert/strict";
import { concat, utf8 } from "./bytes.ts";
import { IdentityKeyPair, IdentityPublic } from "./identity.ts";
import {
  fingerprintDigits,
  formatSafetyNumber,
  SAFETY_NUMBER_DIGITS,
  SAFETY_NUMBER_ITERATIONS,
  safetyNumber,
} from "./safety_number.ts";

const [alice, bob, alice2] = await Promise.all([
  IdentityKeyPair.generate(),
  IdentityKeyPair.generate(),
  IdentityKeyPair.generate(),
]);
const A = { identity: alice.publicIdentity, username: "alice" };
const B = { identity: bob.publicIdentity, username: "bob" };

// Each safety number costs 2 × 5,200 SHA-512 calls; compute the ones the tests share once.
const [ab, ba] = await Promise.all([safetyNumber(A, B), safetyNumber(B, A)]);

Deno.test("safetyNumber() has 60 digits and both sides see the same number", () => {
  assert.match(ab, new RegExp(`^\\d{${SAFETY_NUMBER_DIGITS}}$`));
  assert.equal(ab, ba);
});

Deno.test("safetyNumber() puts the smaller party's 30 digits first", async () => {
  const [a, b] = await Promise.all([
    fingerprintDigits(A.identity, A.username),
    fingerprintDigits(B.identity, B.username),
  ]);
  assert.equal(ab, a < b ? a + b : b + a);
});

Deno.test("safetyNumber() changes when either identity changes", async () => {
  const [newAlice, newBob] = await Promise.all([
    safetyNumber({ identity: alice2.publicIdentity, username: "alice" }, B),
    safetyNumber(A, { identity: alice2.publicIdentity, username: "bob" }),
  ]);
  assert.notEqual(newAlice, ab);
  assert.notEqual(newBob, ab);
});

Deno.test("fingerprintDigits() follows Signal's iteration: SHA-512(hash ‖ key), 5,200 times", async () => {
  // An independent, straightforward rendering of NumericFingerprintGenerator.getFingerprint().
  const key = alice.publicIdentity.keyBytes();
  let hash: Uint8Array = concat(Uint8Array.of(0, 0), key, utf8("alice"));
  for (let i = 0; i < SAFETY_NUMBER_ITERATIONS; i++) {
    hash = new Uint8Array(await crypto.subtle.digest("SHA-512", concat(hash, key)));
  }
  let expected = "";
  for (let i = 0; i < 6; i++) {
    const chunk = hash.subarray(i * 5, i * 5 + 5).reduce((n, b) => n * 256 + b, 0);
    expected += String(chunk % 100000).padStart(5, "0");
  }
  assert.equal(await fingerprintDigits(alice.publicIdentity, "alice"), expected);
  assert.ok(ab.includes(expected));
});

Deno.test("formatSafetyNumber() shows twelve groups of five digits", () => {
  const shown = formatSafetyNumber(ab);
  assert.equal(shown.split(" ").length, 12);
  assert.equal(shown.replaceAll(" ", ""), ab);
  assert.throws(() => formatSafetyNumber("123"), TypeError);
});

Deno.test("safetyNumber() matches a known answer computed independently (Python hashlib)", async () => {
  // Fixed keys: version 0x01, Ed25519 bytes all 0x11 (0x33), X25519 bytes all 0x22 (0x44); the
  // signature is not part of the safety number. The digits below were computed outside this
  // code base, with 5,200 rounds of SHA-512 as Signal's version 0 does.
  const fixed = (ed: number, x: number) =>
    IdentityPublic.restore(
      concat(
        Uint8Array.of(1),
        new Uint8Array(32).fill(ed),
        new Uint8Array(32).fill(x),
        new Uint8Array(64),
      ),
    );
  const a = { identity: fixed(0x11, 0x22), username: "alice" };
  const b = { identity: fixed(0x33, 0x44), username: "bob" };
  assert.equal(await fingerprintDigits(a.identity, a.username), "690735022390634380332055436571");
  assert.equal(await fingerprintDigits(b.identity, b.username), "442648814545723236570273202235");
  assert.equal(
    await safetyNumber(a, b),
    "442648814545723236570273202235690735022390634380332055436571",
  );
});
