/**
 * Writes the sender-key test vectors, replayed by tests/vectors_sender_key_test.ts:
 *
 *   deno run -A scripts/gen_sender_key_vectors.ts
 *
 * tests/data/sender_key_vectors.json: a sender key from given bytes, its chain steps (chain key
 * to next chain key and message key), its distribution, three room messages, and messages that
 * must fail (forged, re-bound, unknown chain). Keys come from a fixed seed through HKDF, so a
 * rerun writes the same keys; a message's nonce is random, so a rerun keeps the messages already
 * in the file while they still verify under those keys.
 *
 * @module
 */

import { fromHex, toHex, utf8 } from "../crypto/bytes.ts";
import { ByteWriter } from "../crypto/codec.ts";
import { VECTOR_KEY_INFO } from "../crypto/labels.ts";
import { hkdfSha256 } from "../crypto/subtle.ts";
import { SenderKeyRecord, SenderKeyState } from "../crypto/sender_key/mod.ts";
import { chainStep } from "../crypto/sender_key/chain.ts";

const SEED = fromHex("7065737563686174207365666465722b6b65792076656374657273207631aa55");
const FILE = new URL("../tests/data/sender_key_vectors.json", import.meta.url);
const secret = (name: string, length = 32) =>
  hkdfSha256(SEED, new Uint8Array(0), utf8(VECTOR_KEY_INFO + name), length);

const distributionId = await secret("sender key distribution id", 16);
const chainKey = await secret("sender key chain key");
const signingSeed = await secret("sender key signing seed");
const chainId = 0x0102_0304;
const state = (seed: Uint8Array) =>
  SenderKeyState.deserialize(
    new ByteWriter().u8(1).bytes(distributionId).u32(chainId).u32(0).bytes(chainKey).bytes(seed)
      .finish(),
  );

const alice = await state(signingSeed);
const steps: { chainKey: string; messageKey: string; next: string }[] = [];
let ck: Uint8Array = chainKey;
for (let i = 0; i < 3; i++) {
  const s = await chainStep(ck);
  steps.push({ chainKey: toHex(ck), messageKey: toHex(s.messageKey), next: toHex(s.next) });
  ck = s.next;
}
const ad = "room 5f3a / alice";
const plaintexts = ["first to the room", "second", "third, read before the second"];

let previous: { messages?: { message: string }[]; failures?: unknown[] } = {};
try {
  previous = JSON.parse(await Deno.readTextFile(FILE));
} catch {
  // First run.
}
const holder = SenderKeyRecord.empty.withDistribution(alice.distribution());
async function stillValid(hex: string[]): Promise<boolean> {
  let r = holder;
  try {
    for (const [i, m] of hex.entries()) {
      const out = await r.decrypt(fromHex(m), utf8(ad));
      if (new TextDecoder().decode(out.plaintext) !== plaintexts[i]) return false;
      r = out.next;
    }
    return true;
  } catch {
    return false;
  }
}
let messages = (previous.messages ?? []).map((m) => m.message);
const kept = messages.length === plaintexts.length && await stillValid(messages);
if (!kept) {
  messages = [];
  let s = alice;
  for (const p of plaintexts) {
    const r = await s.encrypt(utf8(p), utf8(ad));
    messages.push(toHex(r.message));
    s = r.next;
  }
}
const forger = await state(await secret("sender key forger seed"));
const forged = toHex((await forger.encrypt(utf8("not from alice"), utf8(ad))).message);
const otherChain = await SenderKeyState.create(distributionId);
const unknown = toHex((await otherChain.encrypt(utf8("another chain"), utf8(ad))).message);

const vectors = {
  source: "deno run -A scripts/gen_sender_key_vectors.ts",
  distributionId: toHex(distributionId),
  chainId,
  signingSeed: toHex(signingSeed),
  signingKey: toHex(alice.signingKey),
  distribution: toHex(alice.distribution()),
  steps,
  ad,
  messages: messages.map((message, i) => ({ iteration: i, plaintext: plaintexts[i], message })),
  readOrder: [0, 2, 1],
  failures: kept && previous.failures ? previous.failures : [
    {
      what: "signed by a member who holds the chain key but not the signing key",
      message: forged,
      ad,
      code: "auth_failed",
    },
    {
      what: "bound to another room",
      message: messages[0],
      ad: "room 0000 / alice",
      code: "auth_failed",
    },
    { what: "on a chain never distributed", message: unknown, ad, code: "no_sender_key" },
  ],
};
await Deno.writeTextFile(FILE, JSON.stringify(vectors, null, 2) + "\n");
console.log(`wrote ${FILE.pathname}`);
