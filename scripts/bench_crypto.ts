/**
 * End-to-end crypto throughput (run through scripts/bench.ts: `deno run -A scripts/bench.ts
 * crypto [--json] [--seconds 3]`). Not a test.
 *
 * - session_setup: Bob makes a fresh bundle (signed prekey, one-time prekey, ML-KEM prekey),
 *   Alice runs PQXDH and encrypts a 256-byte message, Bob responds and decrypts it.
 * - ratchet_one_way: Alice sends, Bob reads, 256-byte messages on established sessions.
 * - ratchet_one_way_overlapped: the same, but Alice encrypts message n+1 while Bob decrypts n,
 *   as two devices do; reported beside the serial figure, not instead of it.
 * - ratchet_ping_pong: the sender alternating, so every message takes a DH step.
 *
 * In the ratchet cases each side's session is restored from bytes before and serialised to bytes
 * after every message, as a client that persists its state must. Each case runs for a time
 * budget (and at most MAX_ITERATIONS), after a warm-up; output is one JSON object per line with
 * --json.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { IdentityKeyPair } from "../crypto/identity.ts";
import { bundleOf, KyberPrekey, OneTimePrekey, SignedPrekey } from "../crypto/prekeys.ts";
import { Session } from "../crypto/session.ts";

/** Iterations per case at most, whatever the time budget. */
export const MAX_ITERATIONS = 1_000_000;
/** Warm-up iterations before each case is timed (JIT, lazy imports). */
export const WARMUP_ITERATIONS = 200;

const MESSAGE_BYTES = 256;

const [alice, bob] = await Promise.all([IdentityKeyPair.generate(), IdentityKeyPair.generate()]);
const plaintext = new Uint8Array(MESSAGE_BYTES).fill(0x61);

async function sessionSetup(): Promise<void> {
  const [spk, opk, kyber] = await Promise.all([
    SignedPrekey.generate(bob, 1),
    OneTimePrekey.generate(2),
    KyberPrekey.generate(bob, 3, false),
  ]);
  const a = await Session.initiate(alice, bundleOf(bob, spk, opk, kyber));
  const { envelope } = await a.encrypt(plaintext);
  const r = await Session.respond(bob, {
    signedPrekey: (id) => Promise.resolve(id === 1 ? spk : null),
    oneTimePrekey: (id) => Promise.resolve(id === 2 ? opk : null),
    kyberPrekey: (id) => Promise.resolve(id === 3 ? kyber : null),
  }, envelope);
  if (r.plaintext.length !== MESSAGE_BYTES) throw new Error("session_setup: wrong plaintext");
}

/** Two established sessions, as bytes. */
async function established(): Promise<{ alice: Uint8Array; bob: Uint8Array }> {
  const [spk, kyber] = await Promise.all([
    SignedPrekey.generate(bob, 1),
    KyberPrekey.generate(bob, 3, true),
  ]);
  const first = await (await Session.initiate(alice, bundleOf(bob, spk, null, kyber))).encrypt(
    plaintext,
  );
  const r = await Session.respond(bob, {
    signedPrekey: () => Promise.resolve(spk),
    oneTimePrekey: () => Promise.resolve(null),
    kyberPrekey: () => Promise.resolve(kyber),
  }, first.envelope);
  const reply = await r.session.encrypt(plaintext);
  const a = await first.session.decrypt(reply.envelope);
  return { alice: a.session.serialize(), bob: reply.session.serialize() };
}

type Side = "alice" | "bob";

/** One message from `from` to the other side, both sessions restored and persisted. */
async function deliver(state: Record<Side, Uint8Array>, from: Side): Promise<void> {
  const to: Side = from === "alice" ? "bob" : "alice";
  const sent = await Session.deserialize(state[from]).encrypt(plaintext);
  state[from] = sent.session.serialize();
  const read = await Session.deserialize(state[to]).decrypt(sent.envelope);
  state[to] = read.session.serialize();
  if (read.plaintext.length !== MESSAGE_BYTES) throw new Error("ratchet: wrong plaintext");
}

/**
 * One way with sender and receiver working at once, as two devices do: Alice encrypts (and
 * persists) message n+1 while Bob decrypts (and persists) message n.
 */
async function overlapped(
  seconds: number,
): Promise<{ count: number; seconds: number; perSecond: number }> {
  const state = await established();
  let bob = state.bob;
  const read = async (envelope: Uint8Array) => {
    const r = await Session.deserialize(bob).decrypt(envelope);
    bob = r.session.serialize();
    if (r.plaintext.length !== MESSAGE_BYTES) throw new Error("ratchet: wrong plaintext");
  };
  let reading: Promise<void> = Promise.resolve();
  const step = async () => {
    const sent = await Session.deserialize(state.alice).encrypt(plaintext);
    state.alice = sent.session.serialize();
    await reading;
    reading = read(sent.envelope);
  };
  const result = await measure(seconds, step);
  await reading;
  return result;
}

async function measure(
  seconds: number,
  step: (i: number) => Promise<void>,
): Promise<{ count: number; seconds: number; perSecond: number }> {
  for (let i = 0; i < WARMUP_ITERATIONS; i++) await step(i);
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let count = 0;
  while (count < MAX_ITERATIONS && performance.now() < deadline) await step(count++);
  const elapsed = (performance.now() - start) / 1000;
  return { count, seconds: Number(elapsed.toFixed(3)), perSecond: Math.round(count / elapsed) };
}

/** Runs every case and prints one line per case. */
export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: "boolean", default: false },
      seconds: { type: "string", default: "3" },
    },
  });
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 600)) throw new RangeError("--seconds: expected 0 < s ≤ 600");
  const print = (line: Record<string, unknown>) => {
    if (values.json) console.log(JSON.stringify(line));
    else {
      const { bench, ...rest } = line;
      console.log(`${String(bench).padEnd(27)} ${JSON.stringify(rest)}`);
    }
  };

  const setup = await measure(seconds, sessionSetup);
  print({
    bench: "session_setup",
    per_s: setup.perSecond,
    count: setup.count,
    seconds: setup.seconds,
  });

  const oneWay = await established();
  const r1 = await measure(seconds, () => deliver(oneWay, "alice"));
  print({
    bench: "ratchet_one_way",
    msgs_per_s: r1.perSecond,
    count: r1.count,
    seconds: r1.seconds,
    bytes: MESSAGE_BYTES,
  });

  const r3 = await overlapped(seconds);
  print({
    bench: "ratchet_one_way_overlapped",
    msgs_per_s: r3.perSecond,
    count: r3.count,
    seconds: r3.seconds,
    bytes: MESSAGE_BYTES,
  });

  const pingPong = await established();
  const r2 = await measure(seconds, (i) => deliver(pingPong, i % 2 === 0 ? "alice" : "bob"));
  print({
    bench: "ratchet_ping_pong",
    msgs_per_s: r2.perSecond,
    count: r2.count,
    seconds: r2.seconds,
    bytes: MESSAGE_BYTES,
  });
}

if (import.meta.main) await run(Deno.args);
