import assert from "node:assert/strict";
import {
  LOGIN_LOCKOUT_MS,
  LOGIN_WINDOW_MS,
  MAX_FAILED_LOGINS_PER_ACCOUNT,
  MAX_FAILED_LOGINS_PER_ADDRESS,
} from "../protocol/limits.ts";
import { LoginThrottle, TokenBucket } from "./rate_limit.ts";

Deno.test("TokenBucket.take() allows the burst, refuses N+1, and refills at the rate", () => {
  let now = 0;
  const b = new TokenBucket(10, 5, () => now);
  for (let i = 0; i < 5; i++) assert.ok(b.take(), `token ${i + 1}`);
  assert.equal(b.take(), false);
  now += 100; // a tenth of a second at 10 per second: one token
  assert.ok(b.take());
  assert.equal(b.take(), false);
  now += 10_000; // never more than the burst saved up
  for (let i = 0; i < 5; i++) assert.ok(b.take());
  assert.equal(b.take(), false);
});

Deno.test("LoginThrottle locks an account after the limit of failures, doubling each time", () => {
  let now = 1_000_000;
  const t = new LoginThrottle(() => now);
  for (let i = 0; i < MAX_FAILED_LOGINS_PER_ACCOUNT - 1; i++) t.fail("alice", `10.0.0.${i}`);
  assert.equal(t.check("alice", "10.0.0.99"), 0, "N-1 failures: not locked");
  t.fail("alice", "10.0.0.50");
  assert.equal(t.check("alice", "10.0.0.99"), LOGIN_LOCKOUT_MS, "N failures: locked");
  assert.equal(t.check("bob", "10.0.0.99"), 0, "other accounts are not affected");
  now += LOGIN_LOCKOUT_MS;
  assert.equal(t.check("alice", "10.0.0.99"), 0);
  for (let i = 0; i < MAX_FAILED_LOGINS_PER_ACCOUNT; i++) t.fail("alice", `10.0.1.${i}`);
  assert.equal(
    t.check("alice", "10.0.0.99"),
    2 * LOGIN_LOCKOUT_MS,
    "the second lockout is twice as long",
  );
  t.succeed("alice");
  assert.equal(t.check("alice", "10.0.0.99"), 0, "a success clears the account");
});

Deno.test("LoginThrottle limits failures per address at N and N+1 within the window", () => {
  let now = 5_000_000;
  const t = new LoginThrottle(() => now);
  for (let i = 0; i < MAX_FAILED_LOGINS_PER_ADDRESS - 1; i++) t.fail(`user${i}`, "192.0.2.1");
  assert.equal(t.check("someone", "192.0.2.1"), 0);
  t.fail("another", "192.0.2.1");
  assert.ok(t.check("someone", "192.0.2.1") > 0, "the address is throttled");
  assert.equal(t.check("someone", "192.0.2.2"), 0, "other addresses are not");
  now += LOGIN_WINDOW_MS + 1;
  assert.equal(t.check("someone", "192.0.2.1"), 0, "the window passes");
});
