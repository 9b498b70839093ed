import assert from "node:assert/strict";
import { MAX_USERS_PER_NOTICE, parseNotice } from "./cluster.ts";

const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));

Deno.test("parseNotice() reads every kind of notice", () => {
  const ok = [
    { t: "q", n: "a1", u: [1, 2], c: [3, -1] },
    { t: "login", n: "a1", u: 7, at: 1767225600000 },
    { t: "hello", n: "a1", s: [[7, 1767225600000]] },
    { t: "gone", n: "a1", name: "dave" },
    { t: "fail", n: "a1", a: "bob", h: "10.0.0.1" },
    { t: "ok", n: "a1", a: "bob" },
  ];
  for (const n of ok) assert.deepEqual(parseNotice(enc(n)), n);
});

Deno.test("parseNotice() ignores whatever is malformed instead of trusting it", () => {
  const users = (n: number) => Array.from({ length: n }, (_, i) => i);
  assert.ok(
    parseNotice(
      enc({ t: "q", n: "a", u: users(MAX_USERS_PER_NOTICE), c: users(MAX_USERS_PER_NOTICE) }),
    ),
  );
  const bad: unknown[] = [
    "not json",
    "null",
    "[]",
    { t: "q", u: [1], c: [1] }, // no node
    { t: "q", n: "a", u: [1], c: [] }, // counts do not match users
    { t: "q", n: "a", u: ["1"], c: [1] },
    { t: "q", n: "a", u: [1.5], c: [1] },
    { t: "q", n: "a", u: users(MAX_USERS_PER_NOTICE + 1), c: users(MAX_USERS_PER_NOTICE + 1) },
    { t: "login", n: "a", u: 7 },
    { t: "hello", n: "a", s: [[7]] },
    { t: "gone", n: "a", name: "x".repeat(257) },
    { t: "fail", n: "a", a: "bob" },
    { t: "bogus", n: "a" },
  ];
  for (const b of bad) assert.equal(parseNotice(enc(b)), null, JSON.stringify(b));
});
