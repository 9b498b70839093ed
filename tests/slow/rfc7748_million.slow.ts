/**
 * RFC 7748 §5.2's iterated X25519 test at 1,000,000 iterations, through crypto/subtle.ts.
 *
 * It takes minutes (every iteration is a private-key import and a Diffie-Hellman through Web
 * Crypto, one after the other), so it is not in `deno task ok`: CI runs it beside the main
 * suite (`.ci/run`), and `deno task test:slow` runs it by hand. The 1 and 1,000 iteration
 * results are checked in tests/vectors_rfc_test.ts.
 */

import assert from "node:assert/strict";
import { toHex } from "../../crypto/bytes.ts";
import { x25519, X25519KeyPair } from "../../crypto/subtle.ts";
import { loadRfc7748 } from "../vectors.ts";

Deno.test("x25519() passes the RFC 7748 iterated test at 1,000,000 iterations", async () => {
  const { initial, results } = loadRfc7748().iterated;
  const million = results.find((r) => r.iterations === 1_000_000);
  assert.ok(million, "the vector file has the 1,000,000-iteration result");
  let k: Uint8Array = initial;
  let u: Uint8Array = initial;
  for (let i = 0; i < 1_000_000; i++) {
    // Only the DH is needed, not this key's public half: skip computing it.
    const r = await x25519(await X25519KeyPair.fromStoredUnsafe(k, u), u);
    u = k;
    k = r;
  }
  assert.equal(toHex(k), toHex(million.kAfter));
});
