// Signal's native libsignal (Node), run by scripts/bench_crypto.ts so pesuchat's figures sit beside
// it from the same run, interleaved. Not part of pesuchat. Reads one JSON request a line on stdin,
// {"case": "session_setup" | "ratchet_one_way" | "ratchet_ping_pong", "seconds": s}, and answers
// {"count": n, "seconds": t, "cpuSeconds": c} a line (c: the process's CPU time, all threads). The workloads match bench_crypto.ts: 256-byte messages, a fresh
// bundle (signed, one-time and ML-KEM prekey) per setup, and sessions kept live in memory with
// the record serialised on every save, as a client that persists its state must.
import * as SignalClient from "@signalapp/libsignal-client";
import { createInterface } from "node:readline";

const {
  IdentityKeyPair,
  KEMKeyPair,
  KyberPreKeyRecord,
  PreKeyBundle,
  PreKeyRecord,
  PreKeySignalMessage,
  PrivateKey,
  ProtocolAddress,
  SignalMessage,
  SignedPreKeyRecord,
} = SignalClient;

const MAX_ITERATIONS = 1_000_000;
const WARMUP_ITERATIONS = 200;
const PREKEY = 3; // CiphertextMessageType.PreKey
const plaintext = new Uint8Array(256).fill(0x61);

class Sessions extends SignalClient.SessionStore {
  #records = new Map();
  saveSession(address, record) {
    record.serialize(); // the write a persisting client makes
    this.#records.set(address.toString(), record);
    return Promise.resolve();
  }
  getSession(address) {
    return Promise.resolve(this.#records.get(address.toString()) ?? null);
  }
  getExistingSessions(addresses) {
    return Promise.resolve(
      addresses.map((a) => this.#records.get(a.toString())),
    );
  }
}

class Identities extends SignalClient.IdentityKeyStore {
  #known = new Map();
  constructor(own, registrationId) {
    super();
    this.own = own;
    this.registrationId = registrationId;
  }
  getIdentityKey() {
    return Promise.resolve(this.own.privateKey);
  }
  getLocalRegistrationId() {
    return Promise.resolve(this.registrationId);
  }
  saveIdentity(address, key) {
    const old = this.#known.get(address.toString());
    this.#known.set(address.toString(), key);
    return Promise.resolve(
      old && !old.equals(key)
        ? SignalClient.IdentityChange.ReplacedExisting
        : SignalClient.IdentityChange.NewOrUnchanged,
    );
  }
  isTrustedIdentity() {
    return Promise.resolve(true);
  }
  getIdentity(address) {
    return Promise.resolve(this.#known.get(address.toString()) ?? null);
  }
}

class PreKeys extends SignalClient.PreKeyStore {
  #keys = new Map();
  savePreKey(id, record) {
    this.#keys.set(id, record);
    return Promise.resolve();
  }
  getPreKey(id) {
    return Promise.resolve(this.#keys.get(id));
  }
  removePreKey(id) {
    this.#keys.delete(id);
    return Promise.resolve();
  }
}

class SignedPreKeys extends SignalClient.SignedPreKeyStore {
  #keys = new Map();
  saveSignedPreKey(id, record) {
    this.#keys.set(id, record);
    return Promise.resolve();
  }
  getSignedPreKey(id) {
    return Promise.resolve(this.#keys.get(id));
  }
}

class KyberPreKeys extends SignalClient.KyberPreKeyStore {
  #keys = new Map();
  saveKyberPreKey(id, record) {
    this.#keys.set(id, record);
    return Promise.resolve();
  }
  getKyberPreKey(id) {
    return Promise.resolve(this.#keys.get(id));
  }
  markKyberPreKeyUsed() {
    return Promise.resolve();
  }
}

const aliceIdentity = IdentityKeyPair.generate();
const bobIdentity = IdentityKeyPair.generate();
const aliceAddress = ProtocolAddress.new("alice", 1);
const bobAddress = ProtocolAddress.new("bob", 1);

function party(identity, registrationId) {
  return {
    sessions: new Sessions(),
    identities: new Identities(identity, registrationId),
    preKeys: new PreKeys(),
    signedPreKeys: new SignedPreKeys(),
    kyberPreKeys: new KyberPreKeys(),
  };
}

/** Bob's fresh bundle, Alice's session from it, her first message, Bob reading it. */
async function setup() {
  const alice = party(aliceIdentity, 1);
  const bob = party(bobIdentity, 2);
  const spk = PrivateKey.generate();
  const spkSignature = bobIdentity.privateKey.sign(
    spk.getPublicKey().serialize(),
  );
  const opk = PrivateKey.generate();
  const kem = KEMKeyPair.generate();
  const kemSignature = bobIdentity.privateKey.sign(
    kem.getPublicKey().serialize(),
  );
  await bob.signedPreKeys.saveSignedPreKey(
    1,
    SignedPreKeyRecord.new(
      1,
      Date.now(),
      spk.getPublicKey(),
      spk,
      spkSignature,
    ),
  );
  await bob.preKeys.savePreKey(2, PreKeyRecord.new(2, opk.getPublicKey(), opk));
  await bob.kyberPreKeys.saveKyberPreKey(
    3,
    KyberPreKeyRecord.new(3, Date.now(), kem, kemSignature),
  );
  const bundle = PreKeyBundle.new(
    2,
    1,
    2,
    opk.getPublicKey(),
    1,
    spk.getPublicKey(),
    spkSignature,
    bobIdentity.publicKey,
    3,
    kem.getPublicKey(),
    kemSignature,
  );
  await SignalClient.processPreKeyBundle(
    bundle,
    bobAddress,
    aliceAddress,
    alice.sessions,
    alice.identities,
  );
  const first = await SignalClient.signalEncrypt(
    plaintext,
    bobAddress,
    aliceAddress,
    alice.sessions,
    alice.identities,
  );
  const read = await SignalClient.signalDecryptPreKey(
    PreKeySignalMessage.deserialize(first.serialize()),
    aliceAddress,
    bobAddress,
    bob.sessions,
    bob.identities,
    bob.preKeys,
    bob.signedPreKeys,
    bob.kyberPreKeys,
  );
  if (read.length !== plaintext.length) {
    throw new Error("setup: wrong plaintext");
  }
  return { alice, bob };
}

/** Two established sessions: Bob has read Alice's first message and Alice has read his reply. */
async function established() {
  const { alice, bob } = await setup();
  const sides = {
    alice: { store: alice, own: aliceAddress, peer: bobAddress },
    bob: { store: bob, own: bobAddress, peer: aliceAddress },
  };
  await deliver(sides, "bob");
  return sides;
}

async function deliver(sides, from) {
  const s = sides[from];
  const r = sides[from === "alice" ? "bob" : "alice"];
  const m = await SignalClient.signalEncrypt(
    plaintext,
    s.peer,
    s.own,
    s.store.sessions,
    s.store.identities,
  );
  const bytes = m.serialize();
  const read = m.type() === PREKEY
    ? await SignalClient.signalDecryptPreKey(
      PreKeySignalMessage.deserialize(bytes),
      r.peer,
      r.own,
      r.store.sessions,
      r.store.identities,
      r.store.preKeys,
      r.store.signedPreKeys,
      r.store.kyberPreKeys,
    )
    : await SignalClient.signalDecrypt(
      SignalMessage.deserialize(bytes),
      r.peer,
      r.own,
      r.store.sessions,
      r.store.identities,
    );
  if (read.length !== plaintext.length) {
    throw new Error("ratchet: wrong plaintext");
  }
}

const state = { oneWay: null, pingPong: null, warm: new Set() };

async function step(name, i) {
  if (name === "session_setup") return void await setup();
  if (name === "ratchet_one_way") {
    state.oneWay ??= await established();
    return deliver(state.oneWay, "alice");
  }
  if (name === "ratchet_ping_pong") {
    state.pingPong ??= await established();
    return deliver(state.pingPong, i % 2 === 0 ? "alice" : "bob");
  }
  throw new Error(`unknown case ${name}`);
}

async function measure(name, seconds) {
  if (!state.warm.has(name)) {
    for (let i = 0; i < WARMUP_ITERATIONS; i++) await step(name, i);
    state.warm.add(name);
  }
  const cpu = process.cpuUsage();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let count = 0;
  // Ping-pong keeps alternating across rounds: an odd count would make one side send twice.
  const parity = name === "ratchet_ping_pong" ? 2 : 1;
  while (
    count < MAX_ITERATIONS &&
    (performance.now() < deadline || count % parity !== 0)
  ) {
    await step(name, count++);
  }
  const used = process.cpuUsage(cpu);
  return {
    count,
    seconds: (performance.now() - start) / 1000,
    cpuSeconds: (used.user + used.system) / 1e6,
  };
}

for await (const line of createInterface({ input: process.stdin })) {
  if (!line.trim()) continue;
  const request = JSON.parse(line);
  try {
    console.log(JSON.stringify(await measure(request.case, request.seconds)));
  } catch (e) {
    console.log(JSON.stringify({ error: String(e?.stack ?? e) }));
  }
}
