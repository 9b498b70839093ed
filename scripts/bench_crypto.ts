/**
 * End-to-end crypto throughput (run through scripts/bench.ts: `deno run -A scripts/bench.ts
 * crypto [--json] [--seconds 3] [--rounds 3] [--no-libsignal]`). Not a test.
 *
 * - session_setup: Bob makes a fresh bundle (signed prekey, one-time prekey, ML-KEM prekey),
 *   Alice runs PQXDH and encrypts a 256-byte message, Bob responds and decrypts it.
 * - ratchet_one_way: Alice sends, Bob reads, 256-byte messages on established sessions.
 * - ratchet_one_way_overlapped: the same, but Alice encrypts message n+1 while Bob decrypts n,
 *   as two devices do; reported beside the serial figure, not instead of it.
 * - ratchet_ping_pong: the sender alternating, so every message takes a DH step.
 *
 * In the ratchet cases each side keeps its session live in memory, as the client does, and
 * serialises it after every message (the write a client commits before the ciphertext leaves).
 * Each case runs for a time budget (and at most MAX_ITERATIONS), after a warm-up; output is one
 * JSON object per line with --json.
 *
 * Signal's native libsignal (Node, scripts/libsignal/) runs the same three workloads in the same
 * run, interleaved with pesuchat's in `--rounds` slices, so a load change on the machine hits
 * both alike; its rate and pesuchat's ratio to it join each line, and so does each side's CPU
 * time per operation (all threads of its process), which moves less than the rates when other
 * work shares the machine. Its package is installed on
 * first use into scripts/libsignal/node_modules with npm (pinned by its package-lock.json); with
 * no node or npm, or `--no-libsignal`, the lines carry pesuchat's figures alone.
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { IdentityKeyPair } from "../crypto/identity.ts";
import { bundleOf, KyberPrekey, OneTimePrekey, SignedPrekey } from "../crypto/prekeys.ts";
import { Session } from "../crypto/session.ts";
import { type Libsignal, startLibsignal } from "./bench_libsignal.ts";

/** Iterations per case at most, whatever the time budget. */
export const MAX_ITERATIONS = 1_000_000;
/** Warm-up iterations before each case is timed (JIT, lazy imports). */
export const WARMUP_ITERATIONS = 200;
/** Most slices a case is split into for interleaving. */
export const MAX_ROUNDS = 100;

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

/** Two established sessions. */
async function established(): Promise<Record<Side, Session>> {
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
  return { alice: a.session, bob: reply.session };
}

type Side = "alice" | "bob";

/** Where the serialised sessions go: kept so the work cannot be optimised away. */
const saved: Record<Side, Uint8Array> = { alice: new Uint8Array(0), bob: new Uint8Array(0) };

/** One message from `from` to the other side, each session serialised after its step. */
async function deliver(state: Record<Side, Session>, from: Side): Promise<void> {
  const to: Side = from === "alice" ? "bob" : "alice";
  const sent = await state[from].encrypt(plaintext);
  state[from] = sent.session;
  saved[from] = sent.session.serialize();
  const read = await state[to].decrypt(sent.envelope);
  state[to] = read.session;
  saved[to] = read.session.serialize();
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
  const read = async (envelope: Uint8Array) => {
    const r = await state.bob.decrypt(envelope);
    state.bob = r.session;
    saved.bob = r.session.serialize();
    if (r.plaintext.length !== MESSAGE_BYTES) throw new Error("ratchet: wrong plaintext");
  };
  let reading: Promise<void> = Promise.resolve();
  const step = async () => {
    const sent = await state.alice.encrypt(plaintext);
    state.alice = sent.session;
    saved.alice = sent.session.serialize();
    await reading;
    reading = read(sent.envelope);
  };
  const result = await measure(seconds, step);
  await reading;
  return result;
}

interface Measured {
  count: number;
  seconds: number;
  perSecond: number;
  /** CPU time the process used (all threads), in seconds. */
  cpuSeconds: number;
}

async function measure(
  seconds: number,
  step: (i: number) => Promise<void>,
  warmup = WARMUP_ITERATIONS,
  parity = 1,
): Promise<Measured> {
  for (let i = 0; i < warmup; i++) await step(i);
  const cpu = process.cpuUsage();
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let count = 0;
  // `parity` 2 keeps a ping-pong alternating across slices: each slice ends on a whole exchange.
  while (count < MAX_ITERATIONS && (performance.now() < deadline || count % parity !== 0)) {
    await step(count++);
  }
  const elapsed = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    count,
    seconds: Number(elapsed.toFixed(3)),
    perSecond: Math.round(count / elapsed),
    cpuSeconds: (used.user + used.system) / 1e6,
  };
}

/** Adds up slices of one side's measurements. */
function total(slices: { count: number; seconds: number; cpuSeconds: number }[]): Measured {
  const count = slices.reduce((n, s) => n + s.count, 0);
  const seconds = slices.reduce((n, s) => n + s.seconds, 0);
  const cpuSeconds = slices.reduce((n, s) => n + s.cpuSeconds, 0);
  return {
    count,
    seconds: Number(seconds.toFixed(3)),
    perSecond: Math.round(count / seconds),
    cpuSeconds,
  };
}

/**
 * pesuchat's `step` and libsignal's `name` case in alternating slices, `rounds` of each within
 * `seconds` per side; with no libsignal, pesuchat's alone.
 */
async function interleaved(
  seconds: number,
  rounds: number,
  step: (i: number) => Promise<void>,
  libsignal: Libsignal | null,
  name: string,
  parity = 1,
): Promise<{ ours: Measured; theirs: Measured | null }> {
  const ours: Measured[] = [],
    theirs: { count: number; seconds: number; cpuSeconds: number }[] = [];
  let done = 0;
  for (let r = 0; r < rounds; r++) {
    const slice = await measure(
      seconds / rounds,
      (i) => step(done + i),
      r === 0 ? WARMUP_ITERATIONS : 0,
      parity,
    );
    done += slice.count + (r === 0 ? WARMUP_ITERATIONS : 0);
    ours.push(slice);
    if (libsignal) theirs.push(await libsignal.run(name, seconds / rounds));
  }
  return { ours: total(ours), theirs: libsignal ? total(theirs) : null };
}

/** CPU microseconds per operation. */
const cpuPerOp = (m: Measured) => Math.round((m.cpuSeconds * 1e6) / m.count);

/**
 * pesuchat's CPU time per operation, then libsignal's rate, its CPU time per operation and
 * pesuchat's ratio to it on each (above 1: pesuchat faster, or cheaper). The rates are what a
 * user waits for; the CPU ratio moves less when other work shares the machine.
 */
function beside(ours: Measured, theirs: Measured | null, field: string): Record<string, unknown> {
  const line: Record<string, unknown> = { cpu_us_per_op: cpuPerOp(ours) };
  if (!theirs) return line;
  return {
    ...line,
    [`libsignal_${field}`]: theirs.perSecond,
    libsignal_cpu_us_per_op: cpuPerOp(theirs),
    vs_libsignal: Number((ours.perSecond / theirs.perSecond).toFixed(2)),
    vs_libsignal_cpu: Number((cpuPerOp(theirs) / cpuPerOp(ours)).toFixed(2)),
  };
}

/** Runs every case and prints one line per case. */
export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      json: { type: "boolean", default: false },
      seconds: { type: "string", default: "3" },
      rounds: { type: "string", default: "3" },
      "no-libsignal": { type: "boolean", default: false },
    },
  });
  const seconds = Number(values.seconds);
  if (!(seconds > 0 && seconds <= 600)) throw new RangeError("--seconds: expected 0 < s ≤ 600");
  const rounds = Number(values.rounds);
  if (!(Number.isInteger(rounds) && rounds >= 1 && rounds <= MAX_ROUNDS)) {
    throw new RangeError(`--rounds: expected 1..${MAX_ROUNDS}`);
  }
  const print = (line: Record<string, unknown>) => {
    if (values.json) console.log(JSON.stringify(line));
    else {
      const { bench, ...rest } = line;
      console.log(`${String(bench).padEnd(27)} ${JSON.stringify(rest)}`);
    }
  };
  const libsignal = values["no-libsignal"] ? null : await startLibsignal();
  try {
    const setup = await interleaved(seconds, rounds, sessionSetup, libsignal, "session_setup");
    print({
      bench: "session_setup",
      per_s: setup.ours.perSecond,
      count: setup.ours.count,
      seconds: setup.ours.seconds,
      ...beside(setup.ours, setup.theirs, "per_s"),
    });

    const oneWay = await established();
    const r1 = await interleaved(
      seconds,
      rounds,
      () => deliver(oneWay, "alice"),
      libsignal,
      "ratchet_one_way",
    );
    print({
      bench: "ratchet_one_way",
      msgs_per_s: r1.ours.perSecond,
      count: r1.ours.count,
      seconds: r1.ours.seconds,
      bytes: MESSAGE_BYTES,
      ...beside(r1.ours, r1.theirs, "msgs_per_s"),
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
    const r2 = await interleaved(
      seconds,
      rounds,
      (i) => deliver(pingPong, i % 2 === 0 ? "alice" : "bob"),
      libsignal,
      "ratchet_ping_pong",
      2,
    );
    print({
      bench: "ratchet_ping_pong",
      msgs_per_s: r2.ours.perSecond,
      count: r2.ours.count,
      seconds: r2.ours.seconds,
      bytes: MESSAGE_BYTES,
      ...beside(r2.ours, r2.theirs, "msgs_per_s"),
    });
  } finally {
    await libsignal?.close();
  }
}

if (import.meta.main) await run(Deno.args);
