import assert from "node:assert/strict";
import { canonicalUsername, USERNAME_MAX, USERNAME_MIN, usernameProblem } from "./username.ts";

Deno.test("canonicalUsername() folds case and width so look-alikes are one name", () => {
  assert.equal(canonicalUsername("Alice"), "alice");
  assert.equal(canonicalUsername("ＡＬＩＣＥ"), "alice");
  assert.equal(canonicalUsername("  bob_1 "), "bob_1");
});

Deno.test("canonicalUsername() refuses characters outside the alphabet", () => {
  assert.equal(canonicalUsername("аlice"), null, "Cyrillic a");
  assert.equal(canonicalUsername("al ice"), null);
  assert.equal(canonicalUsername("1alice"), null, "must start with a letter");
  assert.equal(canonicalUsername("al.ice"), null);
});

Deno.test("canonicalUsername() enforces the length at N and N+1", () => {
  assert.equal(canonicalUsername("a".repeat(USERNAME_MIN)), "a".repeat(USERNAME_MIN));
  assert.equal(canonicalUsername("a".repeat(USERNAME_MIN - 1)), null);
  assert.equal(canonicalUsername("a".repeat(USERNAME_MAX)), "a".repeat(USERNAME_MAX));
  assert.equal(canonicalUsername("a".repeat(USERNAME_MAX + 1)), null);
});

Deno.test("usernameProblem() explains a refusal and accepts a good name", () => {
  assert.match(usernameProblem("ab")!, /too short/);
  assert.match(usernameProblem("a".repeat(USERNAME_MAX + 1))!, /too long/);
  assert.match(usernameProblem("al!ce")!, /not allowed/);
  assert.equal(usernameProblem("alice"), null);
});
