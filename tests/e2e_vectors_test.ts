// Replays pesuchat's own end-to-end vectors (tests/data/pqxdh_vectors.json, ratchet_vectors.json
// for ratchet version 1 and ratchet_v2_vectors.json for version 2, written by `deno run -A scripts/gen_vectors.ts`). Every case is its own
// test and says what it expects, failures included; any changed byte of wire output fails.
import assert from "node:assert/strict";
import { fromHex, fromUtf8, toHex, utf8 } from "../crypto/bytes.ts";
import { KeyError } from "../crypto/errors.ts";
import { IdentityKeyPair } from "../crypto/identity.ts";
import {
  decodeInitialMessage,
  encodeInitialMessage,
  pqxdhInitiate,
  pqxdhRespond,
  type PrekeyLookup,
} from "../crypto/pqxdh.ts";
import {
  bundleOf,
  KyberPrekey,
  OneTimePrekey,
  type PrekeyBundle,
  SignedPrekey,
} from "../crypto/prekeys.ts";
import {
  initInitiator,
  initResponder,
  ratchetDecrypt,
  ratchetEncrypt,
  type RatchetState,
} from "../crypto/ratchet/mod.ts";
import { Session } from "../crypto/session.ts";
import { MlKemKeyPair, X25519KeyPair } from "../crypto/subtle.ts";
import { loadJsonVectors } from "./vectors.ts";

interface PqxdhOk {
  name: string;
  expect: "ok";
  alice: {
    signingSeed: string;
    dhPrivate: string;
    identity: string;
    ephemeralPrivate: string;
    ratchetKeys: string[];
    nonces: string[];
  };
  bob: {
    signingSeed: string;
    dhPrivate: string;
    identity: string;
    signedPrekey: { id: number; private: string; createdAt: number; signature: string };
    oneTimePrekey: { id: number; private: string } | null;
    kyberPrekey: { id: number; seed: string; lastResort: boolean; signature: string };
    ratchetKeys: string[];
  };
  encapsulation: { ciphertext: string; sharedSecret: string };
  initialMessage: string;
  sharedKey: string;
  associatedData: string;
  consumed: { oneTimePrekeyId: number | null; kyberPrekeyId: number | null };
  firstEnvelope: { plaintext: string; envelope: string };
}

interface PqxdhFailure {
  name: string;
  base: string;
  expect: "bad_signature" | "bad_public_key";
  tamper: { field: string; byte?: number; xor?: number; replace?: string };
}

type PqxdhCase = PqxdhOk | PqxdhFailure;

/** Hands out the listed private keys in order, as the generator's source did. */
function keySource(list: string[]) {
  let next = 0;
  return () => {
    const hex = list[next++];
    if (hex === undefined) throw new Error(`vector lists ${list.length} ratchet keys; more wanted`);
    return X25519KeyPair.fromPrivate(fromHex(hex));
  };
}

/** Hands out the listed version 2 nonces in order, as the generator's source did. */
function nonceSource(list: string[]) {
  let next = 0;
  return () => {
    const hex = list[next++];
    if (hex === undefined) throw new Error(`vector lists ${list.length} nonces; more wanted`);
    return fromHex(hex);
  };
}

async function build(c: PqxdhOk) {
  const alice = await IdentityKeyPair.fromSecrets(
    fromHex(c.alice.signingSeed),
    fromHex(c.alice.dhPrivate),
  );
  const bob = await IdentityKeyPair.fromSecrets(
    fromHex(c.bob.signingSeed),
    fromHex(c.bob.dhPrivate),
  );
  const s = c.bob.signedPrekey;
  const spk = await SignedPrekey.create(
    bob,
    s.id,
    await X25519KeyPair.fromPrivate(fromHex(s.private)),
    s.createdAt,
  );
  const o = c.bob.oneTimePrekey;
  const opk = o
    ? OneTimePrekey.create(o.id, await X25519KeyPair.fromPrivate(fromHex(o.private)))
    : null;
  const k = c.bob.kyberPrekey;
  const kyber = await KyberPrekey.create(
    bob,
    k.id,
    await MlKemKeyPair.fromSeed(fromHex(k.seed)),
    k.lastResort,
  );
  const lookup: PrekeyLookup = {
    signedPrekey: (id) => Promise.resolve(id === spk.id ? spk : null),
    oneTimePrekey: (id) => Promise.resolve(opk && id === opk.id ? opk : null),
    kyberPrekey: (id) => Promise.resolve(id === kyber.id ? kyber : null),
  };
  const options = {
    ephemeralKeyForVectorsOnly: await X25519KeyPair.fromPrivate(fromHex(c.alice.ephemeralPrivate)),
    encapsulationForVectorsOnly: {
      ciphertext: fromHex(c.encapsulation.ciphertext),
      sharedSecret: fromHex(c.encapsulation.sharedSecret),
    },
  };
  return { alice, bob, spk, opk, kyber, lookup, options, bundle: bundleOf(bob, spk, opk, kyber) };
}

const pqxdh = loadJsonVectors<{ cases: PqxdhCase[] }>("pqxdh_vectors.json");
const okCases = new Map(
  pqxdh.cases.filter((c): c is PqxdhOk => c.expect === "ok").map((c) => [c.name, c]),
);

for (const c of pqxdh.cases) {
  if (c.expect === "ok") {
    Deno.test(`pqxdh vector "${c.name}": both sides and the first envelope match byte for byte`, async () => {
      const p = await build(c);
      assert.equal(toHex(p.alice.publicIdentity.encode()), c.alice.identity);
      assert.equal(toHex(p.bob.publicIdentity.encode()), c.bob.identity);
      assert.equal(toHex(p.spk.signature), c.bob.signedPrekey.signature);
      assert.equal(toHex(p.kyber.signature), c.bob.kyberPrekey.signature);
      // The captured encapsulation really is one to Bob's ML-KEM key.
      assert.equal(
        toHex(await p.kyber.keyPair.decapsulate(fromHex(c.encapsulation.ciphertext))),
        c.encapsulation.sharedSecret,
      );
      const x = await pqxdhInitiate(p.alice, p.bundle, p.options);
      assert.equal(toHex(encodeInitialMessage(x.message)), c.initialMessage);
      assert.equal(toHex(x.sharedKey.bytesUnsafe()), c.sharedKey);
      assert.equal(toHex(x.associatedData), c.associatedData);
      const y = await pqxdhRespond(
        p.bob,
        p.lookup,
        decodeInitialMessage(fromHex(c.initialMessage)),
      );
      assert.equal(toHex(y.sharedKey.bytesUnsafe()), c.sharedKey);
      assert.equal(toHex(y.associatedData), c.associatedData);
      assert.deepEqual(y.consumed, c.consumed);

      const session = await Session.initiate(p.alice, p.bundle, {
        ...p.options,
        ratchetKeysForVectorsOnly: keySource(c.alice.ratchetKeys),
        noncesForVectorsOnly: nonceSource(c.alice.nonces),
      });
      const first = await session.encrypt(utf8(c.firstEnvelope.plaintext));
      assert.equal(toHex(first.envelope), c.firstEnvelope.envelope);
      const opened = await Session.respond(p.bob, p.lookup, first.envelope, {
        ratchetKeysForVectorsOnly: keySource(c.bob.ratchetKeys),
      });
      assert.equal(fromUtf8(opened.plaintext), c.firstEnvelope.plaintext);
    });
  } else {
    Deno.test(`pqxdh vector "${c.name}": refused with ${c.expect}`, async () => {
      const base = okCases.get(c.base);
      assert.ok(base, `no base case ${c.base}`);
      const p = await build(base);
      const refused = (e: unknown) => e instanceof KeyError && e.code === c.expect;
      const t = c.tamper;
      if (t.field.startsWith("initialMessage.")) {
        const m = decodeInitialMessage(fromHex(base.initialMessage));
        const field = t.field.slice("initialMessage.".length) as "ephemeralKey";
        m[field] = fromHex(t.replace!);
        await assert.rejects(pqxdhRespond(p.bob, p.lookup, m), refused);
      } else {
        const bundle: PrekeyBundle = structuredClone(p.bundle);
        const [key, field] = t.field.split(".") as ["signedPrekey" | "kyberPrekey", "signature"];
        bundle[key][field][t.byte!]! ^= t.xor!;
        await assert.rejects(pqxdhInitiate(p.alice, bundle, p.options), refused);
      }
    });
  }
}

interface RatchetEvent {
  op: "encrypt" | "decrypt";
  by: "alice" | "bob";
  id: number;
  plaintext?: string;
  message?: string;
  flipByte?: number;
  error?: string;
}

interface RatchetVectors {
  version?: 2;
  sharedKey: string;
  associatedData: string;
  bobSignedPrekeyPrivate: string;
  ratchetKeys: { alice: string[]; bob: string[] };
  nonces?: { alice: string[]; bob: string[] };
  events: RatchetEvent[];
}

for (const file of ["ratchet_vectors.json", "ratchet_v2_vectors.json"]) {
  const ratchet = loadJsonVectors<RatchetVectors>(file);
  const version: 1 | 2 = ratchet.version ?? 1;
  Deno.test(`ratchet vector, version ${version}: the conversation replays byte for byte, refusals included`, async () => {
    const sk = fromHex(ratchet.sharedKey), ad = fromHex(ratchet.associatedData);
    const spk = await X25519KeyPair.fromPrivate(fromHex(ratchet.bobSignedPrekeyPrivate));
    const options = {
      alice: {
        ratchetKeysForVectorsOnly: keySource(ratchet.ratchetKeys.alice),
        noncesForVectorsOnly: nonceSource(ratchet.nonces?.alice ?? []),
        versionForVectorsOnly: version,
      },
      bob: {
        ratchetKeysForVectorsOnly: keySource(ratchet.ratchetKeys.bob),
        noncesForVectorsOnly: nonceSource(ratchet.nonces?.bob ?? []),
      },
    };
    const state: Record<"alice" | "bob", RatchetState> = {
      alice: await initInitiator(sk, ad, spk.publicKey, options.alice),
      bob: initResponder(sk, ad, spk),
    };
    const messages: Uint8Array[] = [];
    for (const [i, e] of ratchet.events.entries()) {
      const where = `event ${i} (${e.op} by ${e.by}, message ${e.id})`;
      if (e.op === "encrypt") {
        const r = await ratchetEncrypt(state[e.by], utf8(e.plaintext!), options[e.by]);
        assert.equal(r.message[0], version, where);
        assert.equal(toHex(r.message), e.message, where);
        messages[e.id] = r.message;
        state[e.by] = r.state;
        continue;
      }
      const m = messages[e.id]!.slice();
      if (e.flipByte !== undefined) m[e.flipByte]! ^= 1;
      if (e.error) {
        await assert.rejects(
          ratchetDecrypt(state[e.by], m, options[e.by]),
          (err: unknown) => (err as { code?: string }).code === e.error,
          where,
        );
        continue;
      }
      const r = await ratchetDecrypt(state[e.by], m, options[e.by]);
      assert.equal(fromUtf8(r.plaintext), e.plaintext, where);
      state[e.by] = r.state;
    }
  });
}
