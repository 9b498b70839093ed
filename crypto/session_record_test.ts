import assert from "node:assert/strict";
import { fromUtf8, utf8 } from "./bytes.ts";
import { DecryptError } from "./errors.ts";
import { IdentityKeyPair } from "./identity.ts";
import { bundleOf, KyberPrekey, SignedPrekey } from "./prekeys.ts";
import { Session } from "./session.ts";
import {
  MAX_PREVIOUS_SESSIONS,
  RecordOpenError,
  SESSION_RECORD_VERSION,
  SessionRecord,
} from "./session_record.ts";

const [alice, bob] = await Promise.all([IdentityKeyPair.generate(), IdentityKeyPair.generate()]);
const spk = await SignedPrekey.generate(bob, 1);
const lastResort = await KyberPrekey.generate(bob, 2, true);
const lookup = {
  signedPrekey: (id: number) => Promise.resolve(id === 1 ? spk : null),
  oneTimePrekey: () => Promise.resolve(null),
  kyberPrekey: (id: number) => Promise.resolve(id === 2 ? lastResort : null),
};

/** A session Alice starts and the one Bob answers it with. */
async function pair(): Promise<{ a: Session; b: Session }> {
  const a = await Session.initiate(alice, bundleOf(bob, spk, null, lastResort));
  const first = await a.encrypt(utf8("hi"));
  const { session: b } = await Session.respond(bob, lookup, first.envelope);
  return { a: first.session, b };
}

Deno.test("SessionRecord keeps MAX_PREVIOUS_SESSIONS previous sessions and drops the oldest", async () => {
  const sessions = await Promise.all(
    Array.from({ length: MAX_PREVIOUS_SESSIONS + 2 }, async () => (await pair()).a),
  );
  let r = SessionRecord.empty();
  for (const s of sessions.slice(0, MAX_PREVIOUS_SESSIONS + 1)) r = r.promote(s);
  assert.equal(r.previous.length, MAX_PREVIOUS_SESSIONS);
  r = r.promote(sessions.at(-1)!);
  assert.equal(r.previous.length, MAX_PREVIOUS_SESSIONS);
  assert.equal(r.current, sessions.at(-1));
  assert.equal(r.previous.at(-1), sessions[1], "the oldest was dropped");
  // N previous sessions read back; a record claiming N + 1 is refused.
  const back = SessionRecord.deserialize(r.serialize());
  assert.equal(back.previous.length, MAX_PREVIOUS_SESSIONS);
  const bytes = r.serialize();
  assert.equal(bytes[0], SESSION_RECORD_VERSION);
  // version ‖ flags ‖ u32 length ‖ current ‖ count
  const at = 2 + 4 + new DataView(bytes.buffer).getUint32(2);
  assert.equal(bytes[at], MAX_PREVIOUS_SESSIONS);
  const forged = bytes.slice();
  forged[at] = MAX_PREVIOUS_SESSIONS + 1;
  assert.throws(
    () => SessionRecord.deserialize(forged),
    (e: Error) =>
      e instanceof DecryptError && e.message.includes(`at most ${MAX_PREVIOUS_SESSIONS} previous`),
  );
});

Deno.test("SessionRecord.decrypt tries every session and promotes the one that opened it", async () => {
  const one = await pair();
  const two = await pair();
  // Bob's record: the second session current, the first one previous.
  const bobs = SessionRecord.empty().promote(one.b).promote(two.b);
  const sent = await one.a.encrypt(utf8("on the old session"));
  const opened = await bobs.decrypt(sent.envelope);
  assert.equal(fromUtf8(opened.plaintext), "on the old session");
  assert.equal(opened.record.previous.length, 1);
  // The old session is current now: Bob's reply goes out on it and Alice reads it.
  const reply = await opened.record.encrypt(utf8("reply"));
  assert.equal(fromUtf8((await sent.session.decrypt(reply.envelope)).plaintext), "reply");
  // The same envelope again is a duplicate, not a new session and not undecryptable.
  await assert.rejects(
    opened.record.decrypt(sent.envelope),
    (e: Error) => e instanceof RecordOpenError && e.reason === "duplicate",
  );
});

Deno.test("SessionRecord: a retired session still decrypts but never sends, until a new one comes", async () => {
  const { a, b } = await pair();
  const retired = SessionRecord.empty().promote(b).retire();
  assert.equal(retired.sendable, null);
  const sent = await a.encrypt(utf8("in flight"));
  const opened = await retired.decrypt(sent.envelope);
  assert.equal(fromUtf8(opened.plaintext), "in flight");
  assert.equal(opened.record.sendable, null, "reading does not bring it back");
  assert.equal(SessionRecord.deserialize(opened.record.serialize()).retired, true);
  await assert.rejects(opened.record.encrypt(utf8("x")), /no current session/);
  const fresh = opened.record.promote((await pair()).a);
  assert.ok(fresh.sendable);
  // A prekey envelope of a session the record does not hold asks for a new session.
  const other = await (await pair()).a.encrypt(utf8("new"));
  await assert.rejects(
    fresh.decrypt(other.envelope),
    (e: Error) => e instanceof RecordOpenError && e.reason === "new_session",
  );
});
