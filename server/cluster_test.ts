import assert from "node:assert/strict";
import { HmacKey, randomBytes } from "../crypto/mod.ts";
import { MAX_USERS_PER_NOTICE, parseNotice } from "./cluster.ts";
import { NOTICE_TAG_BYTES, NoticeSeal } from "./notice_seal.ts";

const enc = (v: unknown) => new TextEncoder().encode(typeof v === "string" ? v : JSON.stringify(v));

Deno.test("parseNotice() reads every kind of notice", () => {
  const ts = 1767225600000;
  const ok = [
    { t: "q", n: "a1", ts, u: [1, 2], c: [3, -1] },
    { t: "login", n: "a1", ts, u: 7, at: 1767225600000 },
    { t: "hello", n: "a1", ts, s: [[7, 1767225600000]] },
    { t: "gone", n: "a1", ts, name: "dave" },
  ];
  for (const n of ok) assert.deepEqual(parseNotice(enc(n)), n);
});

Deno.test("parseNotice() ignores whatever is malformed instead of trusting it", () => {
  const users = (n: number) => Array.from({ length: n }, (_, i) => i);
  const ts = 1767225600000;
  assert.ok(
    parseNotice(
      enc({ t: "q", n: "a", ts, u: users(MAX_USERS_PER_NOTICE), c: users(MAX_USERS_PER_NOTICE) }),
    ),
  );
  const bad: unknown[] = [
    "not json",
    "null",
    "[]",
    { t: "q", ts, u: [1], c: [1] }, // no node
    { t: "q", n: "a", u: [1], c: [1] }, // no time
    { t: "q", n: "a", ts, u: [1], c: [] }, // counts do not match users
    { t: "q", n: "a", ts, u: ["1"], c: [1] },
    { t: "q", n: "a", ts, u: [1.5], c: [1] },
    { t: "q", n: "a", ts, u: users(MAX_USERS_PER_NOTICE + 1), c: users(MAX_USERS_PER_NOTICE + 1) },
    { t: "login", n: "a", ts, u: 7 },
    { t: "hello", n: "a", ts, s: [[7]] },
    { t: "gone", n: "a", ts, name: "x".repeat(257) },
    { t: "fail", n: "a", ts, a: "bob", h: "10.0.0.1" }, // failures are in the database now
    { t: "bogus", n: "a", ts },
  ];
  for (const b of bad) assert.equal(parseNotice(enc(b)), null, JSON.stringify(b));
});

Deno.test("NoticeSeal opens what a node with the same pepper sealed, and nothing else", async () => {
  const pepper = randomBytes(32);
  const a = await NoticeSeal.fromPepper(await HmacKey.import(pepper));
  const b = await NoticeSeal.fromPepper(await HmacKey.import(pepper));
  const other = await NoticeSeal.fromPepper(await HmacKey.import(randomBytes(32)));
  const body = enc({ t: "gone", n: "a", ts: 1, name: "bob" });
  const sealed = await a.seal(body);
  assert.deepEqual(await b.open(sealed), body);
  assert.equal(await other.open(sealed), null);
  const flipped = sealed.slice();
  flipped[NOTICE_TAG_BYTES + 3]! ^= 1;
  assert.equal(await b.open(flipped), null);
  assert.equal(await b.open(body), null, "an unsealed notice");
  assert.equal(await b.open(sealed.subarray(0, NOTICE_TAG_BYTES - 1)), null);
});
