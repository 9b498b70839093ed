import assert from "node:assert/strict";
import { fromUtf8, toHex, utf8 } from "./bytes.ts";
import { DecryptError, HandshakeError } from "./errors.ts";
import { IdentityKeyPair } from "./identity.ts";
import { INITIAL_MESSAGE_BYTES, type PrekeyLookup } from "./pqxdh.ts";
import { bundleOf, KyberPrekey, OneTimePrekey, SignedPrekey } from "./prekeys.ts";
import { ENVELOPE_VERSION, EnvelopeType, parseEnvelope, Session } from "./session.ts";

const [alice, bob] = await Promise.all([IdentityKeyPair.generate(), IdentityKeyPair.generate()]);

/** Bob's prekeys with a store that deletes what `respond` reports consumed, as a client would. */
async function bobStore() {
  const [spk, opk, kyber, lastResort] = await Promise.all([
    SignedPrekey.generate(bob, 1),
    OneTimePrekey.generate(10),
    KyberPrekey.generate(bob, 20, false),
    KyberPrekey.generate(bob, 21, true),
  ]);
  const oneTime = new Map([[10, opk]]);
  const kyberKeys = new Map([[20, kyber], [21, lastResort]]);
  const lookup: PrekeyLookup = {
    signedPrekey: (id) => Promise.resolve(id === 1 ? spk : null),
    oneTimePrekey: (id) => Promise.resolve(oneTime.get(id) ?? null),
    kyberPrekey: (id) => Promise.resolve(kyberKeys.get(id) ?? null),
  };
  const consume = (c: { oneTimePrekeyId: number | null; kyberPrekeyId: number | null }) => {
    if (c.oneTimePrekeyId !== null) oneTime.delete(c.oneTimePrekeyId);
    if (c.kyberPrekeyId !== null) kyberKeys.delete(c.kyberPrekeyId);
  };
  return {
    lookup,
    consume,
    bundle: bundleOf(bob, spk, opk, kyber),
    lastResortBundle: bundleOf(bob, spk, null, lastResort),
  };
}

async function send(s: Session, text: string) {
  return await s.encrypt(utf8(text));
}

Deno.test("Session: first messages carry PQXDH until a reply, then plain messages flow", async () => {
  const store = await bobStore();
  let a = await Session.initiate(alice, store.bundle);
  assert.equal(a.phase, "initiating");
  const sent: Uint8Array[] = [];
  for (const text of ["one", "two", "three"]) {
    const r = await send(a, text);
    a = r.session;
    sent.push(r.envelope);
    assert.equal(parseEnvelope(r.envelope).type, "prekey");
  }
  const started = await Session.respond(bob, store.lookup, sent[0]!);
  store.consume(started.consumed);
  assert.equal(fromUtf8(started.plaintext), "one");
  assert.ok(started.session.remoteIdentity.equals(alice.publicIdentity));
  let b = started.session;
  for (const [i, text] of [[1, "two"], [2, "three"]] as const) {
    const r = await b.decrypt(sent[i]!);
    assert.equal(fromUtf8(r.plaintext), text);
    b = r.session;
  }
  const reply = await send(b, "hi alice");
  assert.equal(parseEnvelope(reply.envelope).type, "message");
  const got = await a.decrypt(reply.envelope);
  assert.equal(fromUtf8(got.plaintext), "hi alice");
  assert.equal(got.session.phase, "established");
  assert.ok(got.session.remoteIdentity.equals(bob.publicIdentity));
  const next = await send(got.session, "now plain");
  assert.equal(parseEnvelope(next.envelope).type, "message");
  assert.equal(fromUtf8((await reply.session.decrypt(next.envelope)).plaintext), "now plain");
});

Deno.test("Session.respond() starts from a later envelope when the first one is lost", async () => {
  const store = await bobStore();
  let a = await Session.initiate(alice, store.bundle);
  a = (await send(a, "lost")).session;
  const second = await send(a, "arrives");
  const r = await Session.respond(bob, store.lookup, second.envelope);
  assert.equal(fromUtf8(r.plaintext), "arrives");
  const reply = await send(r.session, "got it");
  assert.equal(fromUtf8((await second.session.decrypt(reply.envelope)).plaintext), "got it");
});

Deno.test("Session.respond() reports the one-time keys it consumed", async () => {
  const store = await bobStore();
  const first = await send(await Session.initiate(alice, store.bundle), "x");
  const r = await Session.respond(bob, store.lookup, first.envelope);
  assert.deepEqual(r.consumed, { oneTimePrekeyId: 10, kyberPrekeyId: 20 });
  const other = await send(await Session.initiate(alice, store.lastResortBundle), "y");
  const r2 = await Session.respond(bob, store.lookup, other.envelope);
  assert.deepEqual(r2.consumed, { oneTimePrekeyId: null, kyberPrekeyId: null });
});

Deno.test("Session.respond() refuses an envelope whose one-time keys were consumed", async () => {
  const store = await bobStore();
  const first = await send(await Session.initiate(alice, store.bundle), "x");
  store.consume((await Session.respond(bob, store.lookup, first.envelope)).consumed);
  await assert.rejects(
    Session.respond(bob, store.lookup, first.envelope),
    (e) => e instanceof HandshakeError && e.code === "bad_message",
  );
});

Deno.test("Session.respond() consumes nothing when the message inside fails", async () => {
  const store = await bobStore();
  const first = await send(await Session.initiate(alice, store.bundle), "x");
  const tampered = first.envelope.slice();
  tampered[tampered.length - 1]! ^= 1;
  await assert.rejects(Session.respond(bob, store.lookup, tampered), DecryptError);
  assert.ok(await store.lookup.oneTimePrekey(10));
});

Deno.test("Session.decrypt() sends another session's prekey envelope to respond()", async () => {
  const store = await bobStore();
  const first = await send(await Session.initiate(alice, store.lastResortBundle), "x");
  const b = (await Session.respond(bob, store.lookup, first.envelope)).session;
  const other = await send(await Session.initiate(alice, store.lastResortBundle), "new");
  await assert.rejects(
    b.decrypt(other.envelope),
    (e) => e instanceof HandshakeError && e.code === "bad_message",
  );
});

Deno.test("Session.serialize() and deserialize() restore both phases", async () => {
  const store = await bobStore();
  let a = Session.deserialize((await Session.initiate(alice, store.bundle)).serialize());
  assert.equal(a.phase, "initiating");
  const first = await send(a, "one");
  a = Session.deserialize(first.session.serialize());
  const r = await Session.respond(bob, store.lookup, first.envelope);
  const b = Session.deserialize(r.session.serialize());
  assert.ok(b.remoteIdentity.equals(alice.publicIdentity));
  const second = await send(a, "two");
  assert.equal(parseEnvelope(second.envelope).type, "prekey");
  const b2 = await b.decrypt(second.envelope);
  const reply = await send(Session.deserialize(b2.session.serialize()), "back");
  const got = await Session.deserialize(second.session.serialize()).decrypt(reply.envelope);
  assert.equal(fromUtf8(got.plaintext), "back");
  const bytes = got.session.serialize();
  assert.deepEqual(Session.deserialize(bytes).serialize(), bytes);
  assert.equal(Session.deserialize(bytes).phase, "established");
});

Deno.test("parseEnvelope() refuses another version or an unknown type as bad_format", () => {
  const badFormat = (e: unknown) => e instanceof DecryptError && e.code === "bad_format";
  assert.throws(
    () => parseEnvelope(Uint8Array.of(ENVELOPE_VERSION + 1, EnvelopeType.message)),
    badFormat,
  );
  assert.throws(() => parseEnvelope(Uint8Array.of(ENVELOPE_VERSION, 9)), badFormat);
  assert.throws(
    () => parseEnvelope(Uint8Array.of(ENVELOPE_VERSION, EnvelopeType.prekey, 1)),
    badFormat,
  );
  assert.throws(() => Session.deserialize(Uint8Array.of(7)), badFormat);
});

Deno.test("Session prints no key material", async () => {
  const store = await bobStore();
  const a = await Session.initiate(alice, store.bundle);
  const shown = Deno.inspect(a) + JSON.stringify(a);
  assert.match(shown, /\[redacted\]/);
  assert.ok(!shown.includes(toHex(a.serialize().subarray(-40))));
});

Deno.test("Session.respond() refuses a first message under a low-order ratchet key, consuming nothing", async () => {
  const store = await bobStore();
  const first = await send(await Session.initiate(alice, store.bundle), "x");
  // The ratchet message's header follows the envelope's two bytes and the initial message; its
  // first byte is the version, then the sender's ratchet key: u = 1 is a point of small order.
  const at = 2 + INITIAL_MESSAGE_BYTES + 1;
  const tampered = first.envelope.slice();
  tampered.fill(0, at, at + 32);
  tampered[at] = 1;
  await assert.rejects(
    Session.respond(bob, store.lookup, tampered),
    (e) => e instanceof DecryptError && e.code === "bad_format",
  );
  assert.ok(await store.lookup.oneTimePrekey(10));
  // The untouched message still starts the session.
  const r = await Session.respond(bob, store.lookup, first.envelope);
  assert.equal(fromUtf8(r.plaintext), "x");
});
