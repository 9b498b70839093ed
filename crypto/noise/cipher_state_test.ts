import assert from "node:assert/strict";
import { toHex } from "../bytes.ts";
import { DecryptError } from "../errors.ts";
import { aesGcmSeal } from "../subtle.ts";
import {
  CipherState,
  NOISE_MAX_MESSAGE,
  NOISE_MAX_PLAINTEXT,
  NOISE_NONCE_RESERVED,
} from "./cipher_state.ts";

const KEY = Uint8Array.from({ length: 32 }, (_, i) => i);
const AD = new Uint8Array([0xad]);
const EMPTY = new Uint8Array(0);

/** The spec's AESGCM nonce, built independently of cipher_state.ts. */
function nonce(n: bigint): Uint8Array {
  return Uint8Array.fromHex("00000000" + n.toString(16).padStart(16, "0"));
}

async function rejectsWith(call: Promise<unknown>, code: DecryptError["code"]): Promise<void> {
  await assert.rejects(call, (e: unknown) => e instanceof DecryptError && e.code === code);
}

Deno.test("CipherState.encryptWithAd() seals with 4 zero bytes and the big-endian counter", async () => {
  const c = await CipherState.create(KEY);
  const pt = new Uint8Array([1, 2, 3]);
  for (const n of [0n, 1n, 0x0102030405060708n, NOISE_NONCE_RESERVED - 1n]) {
    c.setNonceUnsafe(n);
    const got = await c.encryptWithAd(AD, pt);
    assert.equal(toHex(got), toHex(await aesGcmSeal(KEY, nonce(n), pt, AD)), `nonce ${n}`);
    assert.equal(c.nonce, n + 1n);
  }
});

Deno.test("CipherState refuses the reserved nonce 2^64-1 in both directions", async () => {
  const sender = await CipherState.create(KEY);
  const receiver = await CipherState.create(KEY);
  sender.setNonceUnsafe(NOISE_NONCE_RESERVED - 1n);
  receiver.setNonceUnsafe(NOISE_NONCE_RESERVED - 1n);
  // N = 2^64-2 is the last usable nonce...
  const last = await sender.encryptWithAd(AD, EMPTY);
  assert.equal(toHex(await receiver.decryptWithAd(AD, last)), "");
  // ...and N + 1 = 2^64-1 is refused, without moving the counter.
  assert.equal(sender.nonce, NOISE_NONCE_RESERVED);
  await rejectsWith(sender.encryptWithAd(AD, EMPTY), "nonce_exhausted");
  await rejectsWith(receiver.decryptWithAd(AD, last), "nonce_exhausted");
  assert.equal(sender.nonce, NOISE_NONCE_RESERVED);
  assert.equal(receiver.nonce, NOISE_NONCE_RESERVED);
});

Deno.test("CipherState.decryptWithAd() leaves the nonce unchanged when a message fails", async () => {
  const sender = await CipherState.create(KEY);
  const receiver = await CipherState.create(KEY);
  const sealed = await sender.encryptWithAd(AD, new Uint8Array([7]));
  const bad = sealed.slice();
  bad[0]! ^= 1;
  await rejectsWith(receiver.decryptWithAd(AD, bad), "auth_failed");
  await rejectsWith(receiver.decryptWithAd(EMPTY, sealed), "auth_failed");
  await rejectsWith(receiver.decryptWithAd(AD, sealed.subarray(0, 15)), "bad_format");
  assert.equal(receiver.nonce, 0n);
  assert.deepEqual(await receiver.decryptWithAd(AD, sealed), new Uint8Array([7]));
  assert.equal(receiver.nonce, 1n);
});

Deno.test("CipherState accepts a 65,535-byte message and refuses 65,536", async () => {
  assert.equal(NOISE_MAX_MESSAGE, 65535);
  assert.equal(NOISE_MAX_PLAINTEXT, 65535 - 16);
  const sender = await CipherState.create(KEY);
  const receiver = await CipherState.create(KEY);
  const largest = await sender.encryptWithAd(EMPTY, new Uint8Array(NOISE_MAX_PLAINTEXT));
  assert.equal(largest.length, NOISE_MAX_MESSAGE);
  assert.equal((await receiver.decryptWithAd(EMPTY, largest)).length, NOISE_MAX_PLAINTEXT);

  await assert.rejects(
    sender.encryptWithAd(EMPTY, new Uint8Array(NOISE_MAX_PLAINTEXT + 1)),
    /expected at most 65519 bytes, got 65520/,
  );
  assert.equal(sender.nonce, 1n, "a refused plaintext uses no nonce");
  await rejectsWith(
    receiver.decryptWithAd(EMPTY, new Uint8Array(NOISE_MAX_MESSAGE + 1)),
    "bad_format",
  );
  assert.equal(receiver.nonce, 1n);

  // Without a key (early handshake) the plaintext is the message, with the same limit.
  const plain = CipherState.empty();
  assert.equal((await plain.encryptWithAd(EMPTY, new Uint8Array(NOISE_MAX_MESSAGE))).length, 65535);
  await assert.rejects(
    plain.encryptWithAd(EMPTY, new Uint8Array(NOISE_MAX_MESSAGE + 1)),
    RangeError,
  );
  await rejectsWith(
    plain.decryptWithAd(EMPTY, new Uint8Array(NOISE_MAX_MESSAGE + 1)),
    "bad_format",
  );
});

Deno.test("CipherState.rekey() derives the key the spec defines and keeps the nonce", async () => {
  const c = await CipherState.create(KEY);
  c.setNonceUnsafe(5n);
  await c.rekey();
  assert.equal(c.nonce, 5n);
  // REKEY(k) = first 32 bytes of ENCRYPT(k, 2^64-1, zerolen, 32 zero bytes), §4.2 and §11.3.
  const expectedKey =
    (await aesGcmSeal(KEY, nonce(NOISE_NONCE_RESERVED), new Uint8Array(32), EMPTY))
      .subarray(0, 32);
  const pt = new Uint8Array([4, 2]);
  const got = await c.encryptWithAd(AD, pt);
  assert.equal(toHex(got), toHex(await aesGcmSeal(expectedKey, nonce(5n), pt, AD)));

  const peer = await CipherState.create(KEY);
  peer.setNonceUnsafe(5n);
  await peer.rekey();
  assert.deepEqual(await peer.decryptWithAd(AD, got), pt);
  await assert.rejects(CipherState.empty().rekey(), TypeError);
});

Deno.test("CipherState gives overlapping calls consecutive nonces in call order", async () => {
  const sender = await CipherState.create(KEY);
  const receiver = await CipherState.create(KEY);
  const messages = Array.from({ length: 8 }, (_, i) => new Uint8Array([i]));
  const sealed = await Promise.all(messages.map((m) => sender.encryptWithAd(AD, m)));
  for (let i = 0; i < sealed.length; i++) {
    assert.equal(
      toHex(sealed[i]!),
      toHex(await aesGcmSeal(KEY, nonce(BigInt(i)), messages[i]!, AD)),
    );
  }
  // Decrypts in flight together run one after the other; a forgery among them costs no nonce.
  const forged = sealed[3]!.slice();
  forged[0]! ^= 1;
  const results = await Promise.allSettled([
    receiver.decryptWithAd(AD, sealed[0]!),
    receiver.decryptWithAd(AD, sealed[1]!),
    receiver.decryptWithAd(AD, forged),
    receiver.decryptWithAd(AD, sealed[2]!),
  ]);
  assert.deepEqual(results.map((r) => r.status), [
    "fulfilled",
    "fulfilled",
    "rejected",
    "fulfilled",
  ]);
  assert.equal(receiver.nonce, 3n);
});

Deno.test("CipherState.empty() passes plaintext through and uses no nonce", async () => {
  const c = CipherState.empty();
  assert.equal(c.hasKey, false);
  const pt = new Uint8Array([9, 9]);
  assert.deepEqual(await c.encryptWithAd(AD, pt), pt);
  assert.deepEqual(await c.decryptWithAd(AD, pt), pt);
  assert.equal(c.nonce, 0n);
});

Deno.test("CipherState.create() names the key length it expected", async () => {
  await assert.rejects(CipherState.create(new Uint8Array(31)), /expected 32 bytes, got 31/);
  await assert.rejects(CipherState.create(new Uint8Array(33)), /expected 32 bytes, got 33/);
  const c = await CipherState.create(KEY);
  assert.throws(() => c.setNonceUnsafe(-1n), RangeError);
  assert.throws(() => c.setNonceUnsafe(NOISE_NONCE_RESERVED + 1n), RangeError);
});

Deno.test("CipherState prints and serialises without its key", async () => {
  const c = await CipherState.create(KEY);
  const shown = Deno.inspect(c) + JSON.stringify(c);
  assert.match(shown, /\[redacted\]/);
  assert.ok(!shown.includes(toHex(KEY)));
  assert.equal(Deno.inspect(c), "CipherState { hasKey: true, nonce: 0, key: [redacted] }");
});
