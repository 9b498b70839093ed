import assert from "node:assert/strict";
import {
  LOGIN_LOCKOUT_MS,
  LOGIN_WINDOW_MS,
  MAX_FAILED_LOGINS_PER_ACCOUNT_ADDRESS,
  MAX_FAILED_LOGINS_PER_ADDRESS,
} from "../protocol/limits.ts";
import type { LoginFailures } from "../sql/store.ts";
import { LoginThrottle, throttleAddress, TokenBucket } from "./rate_limit.ts";

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

/** The four store calls the throttle makes, over a Map (persistence is the store's contract). */
function memoryFailures() {
  const m = new Map<string, LoginFailures>();
  return {
    map: m,
    loginFailures: (k: string) => Promise.resolve(m.get(k) ?? null),
    putLoginFailures: (k: string, f: LoginFailures) => Promise.resolve(void m.set(k, { ...f })),
    deleteLoginFailures: (k: string) => Promise.resolve(void m.delete(k)),
    pruneLoginFailures: () => Promise.resolve(0),
  };
}

Deno.test("LoginThrottle locks an account out of one address after N failures, doubling, never elsewhere", async () => {
  let now = 1_000_000;
  const t = new LoginThrottle(memoryFailures(), () => now);
  const n = MAX_FAILED_LOGINS_PER_ACCOUNT_ADDRESS;
  for (let i = 0; i < n - 1; i++) await t.fail("alice", "10.0.0.1");
  assert.equal(await t.check("alice", "10.0.0.1"), 0, "N-1 failures: not locked");
  await t.fail("alice", "10.0.0.1");
  assert.equal(await t.check("alice", "10.0.0.1"), LOGIN_LOCKOUT_MS, "N failures: locked");
  assert.equal(await t.check("alice", "10.0.0.2"), 0, "the owner elsewhere is not locked out");
  assert.equal(await t.check("bob", "10.0.0.1"), 0, "other accounts are not affected");
  now += LOGIN_LOCKOUT_MS;
  assert.equal(await t.check("alice", "10.0.0.1"), 0);
  for (let i = 0; i < n; i++) await t.fail("alice", "10.0.0.1");
  assert.equal(
    await t.check("alice", "10.0.0.1"),
    2 * LOGIN_LOCKOUT_MS,
    "the second lockout is twice as long",
  );
  await t.succeed("alice", "10.0.0.1");
  assert.equal(await t.check("alice", "10.0.0.1"), 0, "a success there clears it");
});

Deno.test("LoginThrottle limits failures per address at N and N+1 within the window", async () => {
  let now = 5_000_000;
  const t = new LoginThrottle(memoryFailures(), () => now);
  for (let i = 0; i < MAX_FAILED_LOGINS_PER_ADDRESS - 1; i++) await t.fail(`user${i}`, "192.0.2.1");
  assert.equal(await t.check("someone", "192.0.2.1"), 0);
  await t.fail("another", "192.0.2.1");
  assert.ok((await t.check("someone", "192.0.2.1")) > 0, "the address is throttled");
  assert.equal(await t.check("someone", "192.0.2.2"), 0, "other addresses are not");
  now += LOGIN_WINDOW_MS + 1;
  assert.equal(await t.check("someone", "192.0.2.1"), 0, "the window passes");
});

Deno.test("LoginThrottle counts an IPv6 /64 as one address", async () => {
  const t = new LoginThrottle(memoryFailures(), () => 1);
  for (let i = 0; i < MAX_FAILED_LOGINS_PER_ADDRESS; i++) {
    await t.fail(`user${i}`, `2001:db8:0:1::${(i + 1).toString(16)}`);
  }
  assert.ok((await t.check("x", "2001:db8:0:1:ffff:1:2:3")) > 0, "the same /64 is throttled");
  assert.equal(await t.check("x", "2001:db8:0:2::1"), 0, "the next /64 is not");
});

Deno.test("throttleAddress() keeps IPv4, maps IPv4-mapped IPv6, and cuts IPv6 to its /64", () => {
  assert.equal(throttleAddress("192.0.2.7"), "192.0.2.7");
  assert.equal(throttleAddress("::ffff:192.0.2.7"), "192.0.2.7");
  assert.equal(throttleAddress("2001:DB8:0:1:2:3:4:5"), "2001:db8:0:1::/64");
  assert.equal(throttleAddress("2001:db8::1"), "2001:db8:0:0::/64");
  assert.equal(throttleAddress("[2001:db8:0:1::9]"), "2001:db8:0:1::/64");
  assert.equal(throttleAddress("fe80::1%eth0"), "fe80:0:0:0::/64");
  assert.equal(throttleAddress("::1"), "0:0:0:0::/64");
});
