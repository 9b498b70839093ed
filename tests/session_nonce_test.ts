// A message key used twice must not mean an AES-GCM nonce used twice. Two copies of one stored
// session (two processes on one profile, or a stale backup restored) encrypt at the same chain
// position: the same message key. Ratchet version 2 draws each nonce at random and binds it into
// the associated data, so the two ciphertexts share no keystream; version 1, kept for old
// sessions, derived the nonce with the key, and the XOR of its ciphertexts is the XOR of the
// plaintexts.
import assert from "node:assert/strict";
import { fromUtf8, utf8 } from "../crypto/bytes.ts";
import { DecryptError } from "../crypto/errors.ts";
import { IdentityKeyPair } from "../crypto/identity.ts";
import { bundleOf, KyberPrekey, SignedPrekey } from "../crypto/prekeys.ts";
import { HEADER_BYTES, HEADER_BYTES_V2 } from "../crypto/ratchet/message.ts";
import { parseEnvelope, Session } from "../crypto/session.ts";

const TIME_LIMIT_MS = 60_000;
const [alice, bob] = await Promise.all([IdentityKeyPair.generate(), IdentityKeyPair.generate()]);

/** Alice's and Bob's established sessions (Alice has read a reply) of ratchet `version`. */
async function established(version: 1 | 2) {
  const [spk, kyber] = await Promise.all([
    SignedPrekey.generate(bob, 1),
    KyberPrekey.generate(bob, 2, true),
  ]);
  const options = { versionForVectorsOnly: version };
  const first = await (await Session.initiate(alice, bundleOf(bob, spk, null, kyber), options))
    .encrypt(utf8("hello"));
  const started = await Session.respond(bob, {
    signedPrekey: () => Promise.resolve(spk),
    oneTimePrekey: () => Promise.resolve(null),
    kyberPrekey: () => Promise.resolve(kyber),
  }, first.envelope);
  const reply = await started.session.encrypt(utf8("hi"));
  const a = await first.session.decrypt(reply.envelope);
  return { alice: a.session, bob: reply.session };
}

const xor = (a: Uint8Array, b: Uint8Array) => a.map((x, i) => x ^ b[i]!);

/** Both copies of Alice's stored state encrypt one message; the two ratchet messages. */
async function twoCopies(version: 1 | 2) {
  const { alice: fresh, bob: start } = await established(version);
  // One message first, so Alice's sending chain exists and is what the stored state holds.
  // (Before it, version 2 would draw a new ratchet key in each copy: different keys altogether.)
  const warm = await fresh.encrypt(utf8("warm"));
  const a = warm.session;
  const b = (await start.decrypt(warm.envelope)).session;
  const stored = a.serialize();
  // What each process (or the restored backup) loads: the same bytes.
  const first = await Session.deserialize(stored.slice()).encrypt(utf8("attack at dawn!!"));
  const second = await Session.deserialize(stored.slice()).encrypt(utf8("retreat at nine!"));
  const m1 = parseEnvelope(first.envelope).ratchetMessage;
  const m2 = parseEnvelope(second.envelope).ratchetMessage;
  return { m1, m2, first, second, bob: b };
}

/** Runs `body`, failing (not hanging) if it takes over TIME_LIMIT_MS. */
async function limited(body: () => Promise<void>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`over ${TIME_LIMIT_MS} ms`)), TIME_LIMIT_MS);
  });
  try {
    await Promise.race([body(), late]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test(
  "two copies of one session at the same chain position use different nonces (version 2)",
  () =>
    limited(async () => {
      const { m1, m2, first, second, bob: b } = await twoCopies(2);
      assert.equal(m1[0], 2, "new sessions use ratchet version 2");
      // The same position: ratchet key, PN and N all equal, so the same message key.
      assert.deepEqual(m1.subarray(0, HEADER_BYTES), m2.subarray(0, HEADER_BYTES));
      const n1 = m1.subarray(HEADER_BYTES, HEADER_BYTES_V2);
      const n2 = m2.subarray(HEADER_BYTES, HEADER_BYTES_V2);
      assert.notDeepEqual(n1, n2, "the nonces differ");
      const c1 = m1.subarray(HEADER_BYTES_V2, HEADER_BYTES_V2 + 16);
      const c2 = m2.subarray(HEADER_BYTES_V2, HEADER_BYTES_V2 + 16);
      const plainXor = xor(utf8("attack at dawn!!"), utf8("retreat at nine!"));
      assert.notDeepEqual(xor(c1, c2), plainXor, "no shared keystream");
      // Bob reads the first; the second holds a key he has used and is refused, not misread.
      const read = await b.decrypt(first.envelope);
      assert.equal(fromUtf8(read.plaintext), "attack at dawn!!");
      await assert.rejects(
        read.session.decrypt(second.envelope),
        (e) => e instanceof DecryptError && e.code === "duplicate",
      );
      // The nonce is bound into the associated data: Bob's state before the first message
      // refuses the second with the first's nonce swapped in.
      const swapped = second.envelope.slice();
      const at = second.envelope.length - m2.length + HEADER_BYTES;
      swapped.set(n1, at);
      await assert.rejects(
        b.decrypt(swapped),
        (e) => e instanceof DecryptError && e.code === "auth_failed",
      );
      assert.equal(fromUtf8((await b.decrypt(second.envelope)).plaintext), "retreat at nine!");
    }),
);

Deno.test("version 1 sessions still work, and show the reuse version 2 removes", () =>
  limited(async () => {
    const { m1, m2, first, bob: b } = await twoCopies(1);
    assert.equal(m1[0], 1, "the old version is kept for sessions made with it");
    assert.deepEqual(m1.subarray(0, HEADER_BYTES), m2.subarray(0, HEADER_BYTES));
    const c1 = m1.subarray(HEADER_BYTES, HEADER_BYTES + 16);
    const c2 = m2.subarray(HEADER_BYTES, HEADER_BYTES + 16);
    assert.deepEqual(xor(c1, c2), xor(utf8("attack at dawn!!"), utf8("retreat at nine!")));
    assert.equal(fromUtf8((await b.decrypt(first.envelope)).plaintext), "attack at dawn!!");
  }));
