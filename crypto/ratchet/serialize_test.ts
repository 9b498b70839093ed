import assert from "node:assert/strict";
import { fromUtf8, randomBytes, utf8 } from "../bytes.ts";
import { DecryptError } from "../errors.ts";
import { X25519KeyPair } from "../subtle.ts";
import {
  initInitiator,
  initResponder,
  ratchetDecrypt,
  ratchetEncrypt,
  type RatchetState,
} from "./double_ratchet.ts";
import {
  deserializeRatchet,
  RATCHET_STATE_VERSION,
  RATCHET_STATE_VERSION_V2,
  serializeRatchet,
} from "./serialize.ts";

const badFormat = (e: unknown) => e instanceof DecryptError && e.code === "bad_format";
const restore = (s: RatchetState) => deserializeRatchet(serializeRatchet(s));

async function send(s: RatchetState, text: string) {
  const r = await ratchetEncrypt(s, utf8(text));
  return { state: r.state as RatchetState, message: r.message };
}

async function read(s: RatchetState, m: Uint8Array, expected: string) {
  const r = await ratchetDecrypt(s, m);
  assert.equal(fromUtf8(r.plaintext), expected);
  return r.state as RatchetState;
}

for (const version of [1, 2] as const) {
  Deno.test(`serializeRatchet() and deserializeRatchet() restore a conversation mid-flight (version ${version})`, async () => {
    const sk = randomBytes(32), ad = randomBytes(130);
    const spk = await X25519KeyPair.generate();
    let a: RatchetState = await initInitiator(sk, ad, spk.publicKey, {
      versionForVectorsOnly: version,
    });
    let b: RatchetState = restore(initResponder(sk, ad, spk)); // the awaiting kind round-trips
    const held: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) {
      const fromA = Math.floor(i / 5) % 2 === 0;
      const out = await send(restore(fromA ? a : b), `m${i}`);
      if (i % 7 === 3) {
        held.push(out.message); // delivered late, from the skipped-key store of a restored state
        if (fromA) a = out.state;
        else b = out.state;
        continue;
      }
      const got = await read(restore(fromA ? b : a), out.message, `m${i}`);
      if (fromA) [a, b] = [out.state, got];
      else [b, a] = [out.state, got];
    }
    assert.ok(a.skipped.size + b.skipped.size > 0);
    // Each late message goes to whoever did not send it; try both sides from restored states.
    for (const m of held) {
      const opened = await Promise.any([
        ratchetDecrypt(restore(a), m),
        ratchetDecrypt(restore(b), m),
      ]);
      assert.match(fromUtf8(opened.plaintext), /^m\d+$/);
    }
    for (const s of [a, b]) {
      const bytes = serializeRatchet(s);
      assert.deepEqual(serializeRatchet(restore(s)), bytes);
      // ratchetStateSize() is exact: the writer's one buffer is the result, with no copy.
      assert.equal(bytes.buffer.byteLength, bytes.length);
    }
  });
}

Deno.test("deserializeRatchet() refuses another version, a truncation or trailing bytes", async () => {
  const sk = randomBytes(32), ad = randomBytes(130);
  const spk = await X25519KeyPair.generate();
  const v1 = await initInitiator(sk, ad, spk.publicKey, { versionForVectorsOnly: 1 });
  assert.equal(serializeRatchet(v1)[0], RATCHET_STATE_VERSION);
  const bytes = serializeRatchet(await initInitiator(sk, ad, spk.publicKey));
  assert.equal(bytes[0], RATCHET_STATE_VERSION_V2);
  const other = bytes.slice();
  other[0] = 3;
  assert.throws(() => deserializeRatchet(other), badFormat);
  assert.throws(() => deserializeRatchet(bytes.subarray(0, bytes.length - 1)), badFormat);
  assert.throws(() => deserializeRatchet(Uint8Array.of(...bytes, 0)), badFormat);
  const kind = bytes.slice();
  kind[1] = 9;
  assert.throws(() => deserializeRatchet(kind), badFormat);
});
