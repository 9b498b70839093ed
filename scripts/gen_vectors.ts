/**
 * Writes pesuchat's own end-to-end test vectors, replayed by tests/e2e_vectors_test.ts:
 *
 *   deno run -A scripts/gen_vectors.ts
 *
 * - tests/data/pqxdh_vectors.json: PQXDH from given keys to the initial message, SK and AD, and
 *   the first session envelope; failures included.
 * - tests/data/ratchet_vectors.json (ratchet version 1) and ratchet_v2_vectors.json (version 2,
 *   every message's nonce given too): a Double Ratchet conversation from a given SK, with every
 *   ratchet key given, out-of-order delivery, a replay and a tampered message.
 *
 * Every private key comes from SEED through HKDF (info = VECTOR_KEY_INFO ‖ a name), so a rerun
 * writes the same bytes. The one exception is the ML-KEM encapsulation: Web Crypto randomises it
 * and cannot be seeded, so the first run captures one and later runs keep it from the existing
 * file while Bob's ML-KEM key is unchanged.
 *
 * @module
 */

import { fromHex, toHex, utf8 } from "../crypto/bytes.ts";
import { IdentityKeyPair } from "../crypto/identity.ts";
import { VECTOR_KEY_INFO } from "../crypto/labels.ts";
import { encodeInitialMessage, pqxdhInitiate, pqxdhRespond } from "../crypto/pqxdh.ts";
import { bundleOf, KyberPrekey, OneTimePrekey, SignedPrekey } from "../crypto/prekeys.ts";
import {
  initInitiator,
  initResponder,
  ratchetDecrypt,
  ratchetEncrypt,
  type RatchetState,
} from "../crypto/ratchet/mod.ts";
import { Session } from "../crypto/session.ts";
import {
  type Encapsulation,
  hkdfSha256,
  mlkemEncapsulate,
  MlKemKeyPair,
  X25519KeyPair,
} from "../crypto/subtle.ts";

const SEED = fromHex("7065737563686174206532652074657374207665637465727320763120736565");
const COMMAND = "deno run -A scripts/gen_vectors.ts";
const DATA = new URL("../tests/data/", import.meta.url);
const CREATED_AT = 1_750_000_000_000;
/** Nonces prepared per party: more than any vector conversation sends. */
const MAX_VECTOR_NONCES = 32;

const secret = (name: string, length = 32) =>
  hkdfSha256(SEED, new Uint8Array(0), utf8(VECTOR_KEY_INFO + name), length);
const hex = (b: Uint8Array) => toHex(b);

/** Ratchet key pairs named `<who> ratchet <i>`, handed out in order; records what it gave. */
function ratchetKeys(who: string) {
  const given: string[] = [];
  const source = async () => {
    const name = `${who} ratchet ${given.length}`;
    const priv = await secret(name);
    given.push(hex(priv));
    return X25519KeyPair.fromPrivate(priv);
  };
  return { source, given };
}

/** Version 2 nonces named `<who> nonce <i>`, handed out in order; records what it gave. */
async function nonceSource(who: string) {
  const given: string[] = [];
  const pool: Uint8Array[] = [];
  for (let i = 0; i < MAX_VECTOR_NONCES; i++) pool.push(await secret(`${who} nonce ${i}`, 12));
  const source = () => {
    const nonce = pool[given.length];
    if (!nonce) throw new Error(`more than ${MAX_VECTOR_NONCES} nonces wanted`);
    given.push(hex(nonce));
    return nonce;
  };
  return { source, given };
}

async function previousEncapsulations(): Promise<Map<string, Encapsulation>> {
  const found = new Map<string, Encapsulation>();
  try {
    const old = JSON.parse(await Deno.readTextFile(new URL("pqxdh_vectors.json", DATA)));
    for (const c of old.cases ?? []) {
      if (c.encapsulation) {
        found.set(c.bob.kyberPrekey.seed, {
          ciphertext: fromHex(c.encapsulation.ciphertext),
          sharedSecret: fromHex(c.encapsulation.sharedSecret),
        });
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return found;
}

async function parties(tag: string) {
  const aliceSecrets = [await secret(`${tag} alice signing`), await secret(`${tag} alice dh`)];
  const bobSecrets = [await secret(`${tag} bob signing`), await secret(`${tag} bob dh`)];
  const alice = await IdentityKeyPair.fromSecrets(aliceSecrets[0]!, aliceSecrets[1]!);
  const bob = await IdentityKeyPair.fromSecrets(bobSecrets[0]!, bobSecrets[1]!);
  const spkPriv = await secret(`${tag} bob signed prekey`);
  const opkPriv = await secret(`${tag} bob one-time prekey`);
  const kyberSeed = await secret(`${tag} bob ml-kem prekey`, 64);
  const ekPriv = await secret(`${tag} alice ephemeral`);
  return { alice, bob, aliceSecrets, bobSecrets, spkPriv, opkPriv, kyberSeed, ekPriv };
}

async function pqxdhCase(
  name: string,
  withOneTime: boolean,
  lastResort: boolean,
  encapsulations: Map<string, Encapsulation>,
) {
  const p = await parties(name);
  const spk = await SignedPrekey.create(
    p.bob,
    1,
    await X25519KeyPair.fromPrivate(p.spkPriv),
    CREATED_AT,
  );
  const opk = OneTimePrekey.create(2, await X25519KeyPair.fromPrivate(p.opkPriv));
  const kyber = await KyberPrekey.create(
    p.bob,
    3,
    await MlKemKeyPair.fromSeed(p.kyberSeed),
    lastResort,
  );
  const encapsulation = encapsulations.get(hex(p.kyberSeed)) ??
    await mlkemEncapsulate(kyber.keyPair.publicKey);
  const bundle = bundleOf(p.bob, spk, withOneTime ? opk : null, kyber);
  const options = {
    ephemeralKeyForVectorsOnly: await X25519KeyPair.fromPrivate(p.ekPriv),
    encapsulationForVectorsOnly: encapsulation,
  };
  const x = await pqxdhInitiate(p.alice, bundle, options);
  const lookup = {
    signedPrekey: (id: number) => Promise.resolve(id === 1 ? spk : null),
    oneTimePrekey: (id: number) => Promise.resolve(id === 2 ? opk : null),
    kyberPrekey: (id: number) => Promise.resolve(id === 3 ? kyber : null),
  };
  const y = await pqxdhRespond(p.bob, lookup, x.message);
  if (hex(y.sharedKey.bytesUnsafe()) !== hex(x.sharedKey.bytesUnsafe())) {
    throw new Error(`${name}: the two sides disagree`);
  }
  const keys = ratchetKeys("alice");
  const nonces = await nonceSource(`${name} alice`);
  const session = await Session.initiate(p.alice, bundle, {
    ...options,
    ratchetKeysForVectorsOnly: keys.source,
    noncesForVectorsOnly: nonces.source,
  });
  const first = await session.encrypt(utf8("hello bob"));
  const bobKeys = ratchetKeys("bob");
  const opened = await Session.respond(p.bob, lookup, first.envelope, {
    ratchetKeysForVectorsOnly: bobKeys.source,
  });
  if (new TextDecoder().decode(opened.plaintext) !== "hello bob") {
    throw new Error(`${name}: the first envelope did not open`);
  }
  return {
    name,
    expect: "ok",
    alice: {
      signingSeed: hex(p.aliceSecrets[0]!),
      dhPrivate: hex(p.aliceSecrets[1]!),
      identity: hex(p.alice.publicIdentity.encode()),
      ephemeralPrivate: hex(p.ekPriv),
      ratchetKeys: keys.given,
      nonces: nonces.given,
    },
    bob: {
      signingSeed: hex(p.bobSecrets[0]!),
      dhPrivate: hex(p.bobSecrets[1]!),
      identity: hex(p.bob.publicIdentity.encode()),
      signedPrekey: {
        id: 1,
        private: hex(p.spkPriv),
        createdAt: CREATED_AT,
        signature: hex(spk.signature),
      },
      oneTimePrekey: withOneTime ? { id: 2, private: hex(p.opkPriv) } : null,
      kyberPrekey: { id: 3, seed: hex(p.kyberSeed), lastResort, signature: hex(kyber.signature) },
      ratchetKeys: bobKeys.given,
    },
    encapsulation: {
      note: "captured from Web Crypto once (ML-KEM encapsulation cannot be seeded)",
      ciphertext: hex(encapsulation.ciphertext),
      sharedSecret: hex(encapsulation.sharedSecret),
    },
    initialMessage: hex(encodeInitialMessage(x.message)),
    sharedKey: hex(x.sharedKey.bytesUnsafe()),
    associatedData: hex(x.associatedData),
    consumed: y.consumed,
    firstEnvelope: { plaintext: "hello bob", envelope: hex(first.envelope) },
  };
}

async function pqxdhVectors() {
  const encapsulations = await previousEncapsulations();
  const withOpk = await pqxdhCase("with one-time prekey", true, false, encapsulations);
  const lastResort = await pqxdhCase(
    "last resort, no one-time prekey",
    false,
    true,
    encapsulations,
  );
  const cases: Record<string, unknown>[] = [withOpk, lastResort];
  // Failures: the same inputs with one thing changed; the replay must refuse them this way.
  const base = { base: withOpk.name };
  cases.push({
    ...base,
    name: "signed prekey signature flipped",
    expect: "bad_signature",
    tamper: { field: "signedPrekey.signature", byte: 0, xor: 1 },
  });
  cases.push({
    ...base,
    name: "ML-KEM prekey signature flipped",
    expect: "bad_signature",
    tamper: { field: "kyberPrekey.signature", byte: 63, xor: 128 },
  });
  cases.push({
    ...base,
    name: "low-order ephemeral key at the responder",
    expect: "bad_public_key",
    tamper: {
      field: "initialMessage.ephemeralKey",
      replace: "0100000000000000000000000000000000000000000000000000000000000000",
    },
  });
  return {
    source: COMMAND,
    description:
      "PQXDH (X25519, SHA-256, ML-KEM-1024) with pesuchat's encodings; hex throughout. Each ok case gives both parties' secrets, the expected initial message, SK, AD, consumed prekeys, and the first session envelope; failure cases say what to change and the error code expected.",
    cases,
  };
}

async function ratchetVectors(version: 1 | 2) {
  // Version 1 keeps the names it always had, so its file is unchanged.
  const tag = version === 1 ? "ratchet" : "ratchet v2";
  const sk = await secret(`${tag} sk`);
  const ad = await secret(`${tag} ad`, 130);
  const spkPriv = await secret(`${tag} bob signed prekey`);
  const aliceKeys = ratchetKeys(`${tag} alice`);
  const bobKeys = ratchetKeys(`${tag} bob`);
  const aliceNonces = await nonceSource(`${tag} alice`);
  const bobNonces = await nonceSource(`${tag} bob`);
  const opts = {
    a: {
      ratchetKeysForVectorsOnly: aliceKeys.source,
      versionForVectorsOnly: version,
      noncesForVectorsOnly: aliceNonces.source,
    },
    b: { ratchetKeysForVectorsOnly: bobKeys.source, noncesForVectorsOnly: bobNonces.source },
  };
  const state: Record<"alice" | "bob", RatchetState> = {
    alice: await initInitiator(
      sk,
      ad,
      (await X25519KeyPair.fromPrivate(spkPriv)).publicKey,
      opts.a,
    ),
    bob: initResponder(sk, ad, await X25519KeyPair.fromPrivate(spkPriv)),
  };
  const messages: Uint8Array[] = [];
  const events: Record<string, unknown>[] = [];
  const encrypt = async (by: "alice" | "bob", plaintext: string) => {
    const r = await ratchetEncrypt(state[by], utf8(plaintext), by === "alice" ? opts.a : opts.b);
    state[by] = r.state;
    events.push({ op: "encrypt", by, id: messages.length, plaintext, message: hex(r.message) });
    messages.push(r.message);
  };
  const decrypt = async (by: "alice" | "bob", id: number, plaintext: string) => {
    const r = await ratchetDecrypt(state[by], messages[id]!, by === "alice" ? opts.a : opts.b);
    if (new TextDecoder().decode(r.plaintext) !== plaintext) throw new Error(`message ${id}`);
    state[by] = r.state;
    events.push({ op: "decrypt", by, id, plaintext });
  };
  const refuse = async (by: "alice" | "bob", id: number, error: string, flip?: number) => {
    const m = messages[id]!.slice();
    if (flip !== undefined) m[flip]! ^= 1;
    try {
      await ratchetDecrypt(state[by], m, by === "alice" ? opts.a : opts.b);
    } catch (e) {
      if ((e as { code?: string }).code !== error) throw e;
      events.push({
        op: "decrypt",
        by,
        id,
        ...(flip === undefined ? {} : { flipByte: flip }),
        error,
      });
      return;
    }
    throw new Error(`message ${id} opened`);
  };
  for (let i = 0; i < 3; i++) await encrypt("alice", `alice ${i}`);
  await decrypt("bob", 0, "alice 0");
  await decrypt("bob", 2, "alice 2");
  await encrypt("bob", "bob 0");
  await encrypt("bob", "bob 1");
  await decrypt("alice", 4, "bob 1");
  await decrypt("bob", 1, "alice 1"); // late, from the skipped-key store
  await refuse("bob", 1, "duplicate"); // a replay
  await decrypt("alice", 3, "bob 0");
  await encrypt("alice", "alice 3");
  await encrypt("alice", "alice 4");
  await decrypt("bob", 5, "alice 3"); // a new chain: Bob takes a DH step
  // Changed bytes on Bob's current chain, so no ratchet key is generated for them: a body byte,
  // then PN in the header (ignored on this path, but authenticated), then (version 2) a byte of
  // the nonce the header carries.
  const header = version === 1 ? 41 : 53;
  await refuse("bob", 6, "auth_failed", header + 9);
  await refuse("bob", 6, "auth_failed", 36);
  if (version === 2) await refuse("bob", 6, "auth_failed", 44);
  await decrypt("bob", 6, "alice 4");
  for (let i = 0; i < 3; i++) {
    await encrypt("bob", `bob again ${i}`);
    await decrypt("alice", messages.length - 1, `bob again ${i}`);
    await encrypt("alice", `alice again ${i}`);
    await decrypt("bob", messages.length - 1, `alice again ${i}`);
  }
  return {
    source: COMMAND,
    description: version === 1
      ? "A Double Ratchet conversation from a given SK and AD (hex). Bob's first ratchet key is his signed prekey; every later ratchet key is listed per party in the order generated. Replay the events in order: encrypt must give the message byte for byte, decrypt the plaintext or the error code (flipByte: change that byte of the message first)."
      : "The same for ratchet version 2 (batched HKDF chain, random nonce in the header): each party's message nonces are listed in the order used.",
    ...(version === 2 ? { version } : {}),
    sharedKey: hex(sk),
    associatedData: hex(ad),
    bobSignedPrekeyPrivate: hex(spkPriv),
    ratchetKeys: { alice: aliceKeys.given, bob: bobKeys.given },
    ...(version === 2 ? { nonces: { alice: aliceNonces.given, bob: bobNonces.given } } : {}),
    events,
  };
}

async function write(name: string, value: unknown) {
  await Deno.mkdir(DATA, { recursive: true });
  await Deno.writeTextFile(new URL(name, DATA), JSON.stringify(value, null, 2) + "\n");
  console.error(`gen_vectors: wrote tests/data/${name}`);
}

if (import.meta.main) {
  await write("pqxdh_vectors.json", await pqxdhVectors());
  await write("ratchet_vectors.json", await ratchetVectors(1));
  await write("ratchet_v2_vectors.json", await ratchetVectors(2));
}
