/**
 * Replays the RFC test vectors (RFC 7748 X25519, RFC 5869 HKDF, RFC 8032 Ed25519) through
 * crypto/subtle.ts.
 *
 * The iterated X25519 test runs here at 1 and 1,000 iterations. The 1,000,000-iteration run takes
 * minutes through Web Crypto, so it lives in tests/slow/rfc7748_million.slow.ts, which CI runs
 * beside the main suite.
 */

import assert from "node:assert/strict";
import { toHex } from "../crypto/bytes.ts";
import {
  Ed25519KeyPair,
  ed25519Verify,
  hkdfSha256,
  hmacSha256,
  x25519,
  X25519KeyPair,
} from "../crypto/subtle.ts";
import { loadRfc5869, loadRfc7748, loadRfc8032 } from "./vectors.ts";

/** Iterations of RFC 7748 §5.2's iterated test that run here (see the file comment). */
const ITERATIONS_RUN = [1, 1000];

const rfc7748 = loadRfc7748();

Deno.test("x25519() gives both RFC 7748 §5.2 outputs", async () => {
  assert.equal(rfc7748.x25519.length, 2);
  for (const v of rfc7748.x25519) {
    const own = await X25519KeyPair.fromPrivate(v.scalar);
    assert.equal(toHex(await x25519(own, v.u)), toHex(v.output), v.source);
  }
});

Deno.test("X25519KeyPair reproduces the RFC 7748 §6.1 Diffie-Hellman", async () => {
  const { dh } = rfc7748;
  const alice = await X25519KeyPair.fromPrivate(dh.alicePrivate);
  const bob = await X25519KeyPair.fromPrivate(dh.bobPrivate);
  assert.equal(toHex(alice.publicKey), toHex(dh.alicePublic));
  assert.equal(toHex(bob.publicKey), toHex(dh.bobPublic));
  assert.equal(toHex(await alice.dh(dh.bobPublic)), toHex(dh.shared));
  assert.equal(toHex(await bob.dh(dh.alicePublic)), toHex(dh.shared));
});

Deno.test("x25519() passes the RFC 7748 iterated test at 1 and 1,000 iterations", async () => {
  const { initial, results } = rfc7748.iterated;
  assert.deepEqual(results.map((r) => r.iterations), [1, 1000, 1000000]);
  const wanted = results.filter((r) => ITERATIONS_RUN.includes(r.iterations));
  assert.equal(wanted.length, ITERATIONS_RUN.length);
  let k: Uint8Array = initial;
  let u: Uint8Array = initial;
  let done = 0;
  for (const { iterations, kAfter } of wanted) {
    for (; done < iterations; done++) {
      const r = await x25519(await X25519KeyPair.fromPrivate(k), u);
      u = k;
      k = r;
    }
    assert.equal(toHex(k), toHex(kAfter), `after ${iterations} iterations`);
  }
});

Deno.test("hkdfSha256() gives the RFC 5869 A.1–A.3 PRK and OKM", async () => {
  const cases = loadRfc5869();
  assert.equal(cases.length, 3);
  for (const c of cases) {
    assert.equal(toHex(await hkdfSha256(c.ikm, c.salt, c.info, c.length)), toHex(c.okm), c.source);
    // Extract alone is HMAC(salt, IKM); an absent salt is HashLen zero bytes.
    const salt = c.salt.length === 0 ? new Uint8Array(32) : c.salt;
    assert.equal(toHex(await hmacSha256(salt, c.ikm)), toHex(c.prk), c.source);
  }
});

Deno.test("Ed25519KeyPair signs RFC 8032 TEST 1–3 exactly, and a flipped bit fails", async () => {
  const cases = loadRfc8032();
  assert.equal(cases.length, 3);
  for (const c of cases) {
    const pair = await Ed25519KeyPair.fromSeed(c.seed);
    assert.equal(toHex(pair.publicKey), toHex(c.publicKey), c.source);
    assert.equal(toHex(await pair.sign(c.message)), toHex(c.signature), c.source);
    assert.equal(await ed25519Verify(c.publicKey, c.message, c.signature), true, c.source);
    for (const bit of [0, 255, 256, 511]) {
      const sig = c.signature.slice();
      sig[bit >> 3]! ^= 1 << (bit & 7);
      assert.equal(
        await ed25519Verify(c.publicKey, c.message, sig),
        false,
        `${c.source} sig bit ${bit}`,
      );
    }
    const key = c.publicKey.slice();
    key[0]! ^= 1;
    assert.equal(await ed25519Verify(key, c.message, c.signature), false, `${c.source} key`);
    const longer = new Uint8Array([...c.message, 0]);
    assert.equal(
      await ed25519Verify(c.publicKey, longer, c.signature),
      false,
      `${c.source} message`,
    );
    if (c.message.length > 0) {
      const msg = c.message.slice();
      msg[0]! ^= 0x80;
      assert.equal(
        await ed25519Verify(c.publicKey, msg, c.signature),
        false,
        `${c.source} msg bit`,
      );
    }
  }
});
