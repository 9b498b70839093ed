import assert from "node:assert/strict";
import { concat, toHex, utf8 } from "../bytes.ts";
import { aesGcmSeal, hmacSha256, sha256 } from "../subtle.ts";
import { SymmetricState } from "./symmetric_state.ts";

const EMPTY = new Uint8Array(0);

/** HKDF(ck, ikm, 2) exactly as Noise §4.3 writes it, with HMAC-SHA256 only. */
async function specHkdf(ck: Uint8Array, ikm: Uint8Array): Promise<[Uint8Array, Uint8Array]> {
  const temp = await hmacSha256(ck, ikm);
  const out1 = await hmacSha256(temp, new Uint8Array([1]));
  const out2 = await hmacSha256(temp, concat(out1, new Uint8Array([2])));
  return [out1, out2];
}

function nonce0(): Uint8Array {
  return new Uint8Array(12);
}

Deno.test("SymmetricState.initialize() pads a short name and hashes a long one", async () => {
  const short = await SymmetricState.initialize("Noise_XX_25519_AESGCM_SHA256");
  const padded = new Uint8Array(32);
  padded.set(utf8("Noise_XX_25519_AESGCM_SHA256"));
  assert.equal(toHex(short.handshakeHash), toHex(padded));

  const name = "Noise_XXfallback+psk0_25519_AESGCM_SHA256"; // 41 bytes
  const long = await SymmetricState.initialize(name);
  assert.equal(toHex(long.handshakeHash), toHex(await sha256(utf8(name))));
  assert.equal(short.hasKey, false);
});

Deno.test("SymmetricState.mixKey() and split() match the spec's HMAC-based HKDF", async () => {
  const name = "Noise_XX_25519_AESGCM_SHA256";
  const ck0 = new Uint8Array(32);
  ck0.set(utf8(name));
  const ikm = Uint8Array.from({ length: 32 }, (_, i) => 0x40 + i);
  const [ck1, k1] = await specHkdf(ck0, ikm);

  const start = await SymmetricState.initialize(name);
  const keyed = await start.mixKey(ikm);
  assert.equal(keyed.hasKey, true);
  assert.equal(start.hasKey, false, "mixKey() leaves the old state as it was");

  // EncryptAndHash with k1 at nonce 0 and h as AD shows which key mixKey() installed.
  const pt = utf8("payload");
  const [hashed, ct] = await keyed.encryptAndHash(pt);
  assert.equal(toHex(ct), toHex(await aesGcmSeal(k1, nonce0(), pt, start.handshakeHash)));
  assert.equal(toHex(hashed.handshakeHash), toHex(await sha256(concat(start.handshakeHash, ct))));
  assert.equal(toHex(keyed.handshakeHash), toHex(start.handshakeHash), "the old h is kept");

  const [k2a, k2b] = await specHkdf(ck1, EMPTY);
  const [c1, c2] = await hashed.split();
  assert.equal(
    toHex(await c1.encryptWithAd(EMPTY, pt)),
    toHex(await aesGcmSeal(k2a, nonce0(), pt, EMPTY)),
  );
  assert.equal(
    toHex(await c2.encryptWithAd(EMPTY, pt)),
    toHex(await aesGcmSeal(k2b, nonce0(), pt, EMPTY)),
  );
});

Deno.test("SymmetricState.decryptAndHash() refuses a forgery and keeps the old state usable", async () => {
  const a = await (await SymmetricState.initialize("Noise_NK_25519_AESGCM_SHA256")).mixKey(
    new Uint8Array(32),
  );
  const [, ct] = await a.encryptAndHash(utf8("hello"));
  const bad = ct.slice();
  bad[2]! ^= 4;
  await assert.rejects(a.decryptAndHash(bad));
  const [next, pt] = await a.decryptAndHash(ct);
  assert.equal(toHex(pt), toHex(utf8("hello")));
  assert.equal(toHex(next.handshakeHash), toHex(await sha256(concat(a.handshakeHash, ct))));
});

Deno.test("SymmetricState.mixHash() hashes h with the data", async () => {
  const s = await SymmetricState.initialize("Noise_IK_25519_AESGCM_SHA256");
  const next = await s.mixHash(utf8("prologue"));
  assert.equal(
    toHex(next.handshakeHash),
    toHex(await sha256(concat(s.handshakeHash, utf8("prologue")))),
  );
});

Deno.test("SymmetricState prints and serialises without ck or h", async () => {
  const s = await (await SymmetricState.initialize("Noise_XX_25519_AESGCM_SHA256")).mixKey(
    new Uint8Array(32),
  );
  const shown = Deno.inspect(s) + JSON.stringify(s);
  assert.ok(!shown.includes(toHex(s.handshakeHash)));
  assert.equal(Deno.inspect(s), "SymmetricState { hasKey: true, ck: [redacted], h: [redacted] }");
});
