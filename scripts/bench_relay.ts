/**
 * Relay benchmarks (not tests): a real server process on the durable SQLite queue, clients over
 * real TCP with the Noise transport, 200-byte bodies.
 *
 * - relay: U users in U/2 sender→receiver pairs; each sender keeps up to 100 messages
 *   unacknowledged in flight for DURATION seconds; a message counts when its recipient has it;
 *   latency is from send to delivery.
 * - offline_drain: 10,000 messages queued for an offline user, then the time from its connect
 *   to the last one delivered.
 * - idle_connections: the server's resident memory per authenticated idle connection, over the
 *   baseline of a fresh server process with none (see idleConnections).
 * - logins: server-side logins per second (auth keys derived once beforehand, since the Argon2id
 *   work is the client's).
 *
 * The server runs with its per-connection request limit raised (--requests-per-second), as the
 * compared servers ran with theirs raised; every other behaviour is the shipped one.
 *
 * usage: deno run -A scripts/bench_relay.ts [--json] [--duration S] [--only NAME]
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { randomBytes } from "../crypto/mod.ts";
import { ServerConnection } from "../client/connection.ts";
import { X25519KeyPair } from "../crypto/mod.ts";
import type { PrekeySet } from "../sql/store.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const IN_FLIGHT = 100;
const BODY_BYTES = 200;

/** One result line. */
export type BenchResult = Record<string, string | number>;

/** A server process started by {@linkcode startServer}. */
export interface ServerProcess {
  port: number;
  pid: number;
  child: Deno.ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `server run` on `dir` (set up first, unattended, if it is not) on a free port, with the
 * request limit raised; `extra` flags are added.
 */
export async function startServer(dir: string, extra: string[] = []): Promise<ServerProcess> {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      MAIN,
      "server",
      "run",
      "--dir",
      dir,
      "--init",
      "--port",
      String(port),
      "--requests-per-second",
      "10000000",
      "--max-connections",
      "20000",
      "--signups-per-hour",
      "10000000",
      ...extra,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const deadline = Date.now() + 30_000;
  while (!seen.includes("pesuchat: listening")) {
    if (Date.now() > deadline) throw new Error(`server did not start:\n${seen}`);
    const { value, done } = await reader.read();
    if (done) throw new Error(`server exited:\n${seen}`);
    seen += value;
  }
  // Keep draining its log so the pipe never fills.
  void (async () => {
    while (!(await reader.read()).done) { /* discard */ }
  })();
  return {
    port,
    pid: child.pid,
    child,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* exited */ }
      await child.status;
    },
  };
}

function fakePrekeys(): PrekeySet {
  let id = 1;
  return {
    signedPrekey: { id: id++, publicKey: randomBytes(32), signature: randomBytes(64) },
    kyberLastResort: { id: id++, publicKey: randomBytes(1568), signature: randomBytes(64) },
    oneTimePrekeys: [],
    kyberPrekeys: [],
  };
}

/** A signed-up benchmark user. */
export interface BenchUser {
  name: string;
  authKey: Uint8Array;
  deviceKey: X25519KeyPair;
}

/** Connections opened at once: below the server's limit of handshakes from one address. */
const PARALLEL_CONNECTS = 25;

/** Signs up `n` users named `prefix0…` on the server at `port`. */
export async function signUpUsers(
  port: number,
  prefix: string,
  n: number,
  parallel = PARALLEL_CONNECTS,
): Promise<BenchUser[]> {
  const users: BenchUser[] = [];
  for (let i = 0; i < n; i += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, n - i) }, async (_, j) => {
        const deviceKey = await X25519KeyPair.generate();
        const conn = await ServerConnection.open("127.0.0.1", port, { staticKey: deviceKey });
        const u = { name: `${prefix}${i + j}`, authKey: randomBytes(32), deviceKey };
        await conn.request("signup", {
          username: u.name,
          fullName: "Bench User",
          authKey: u.authKey,
          salt: randomBytes(16),
          kdf: { memoryKiB: 65536, passes: 3, parallelism: 4 },
          identity: randomBytes(129),
          prekeys: fakePrekeys(),
        });
        conn.close();
        return u;
      }),
    );
    users.push(...batch);
  }
  return users;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;

/** CPU seconds a process has used (user + system), from /proc. */
function cpuSeconds(pid: number | "self"): number {
  const fields = Deno.readTextFileSync(`/proc/${pid}/stat`).split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * U users in U/2 pairs (user 2p sends to user 2p + 1), each sender with up to IN_FLIGHT
 * unacknowledged sends, for `seconds`. User i connects to `portOf(i)` (one server, or the nodes
 * of a cluster); `pids` are the server processes whose CPU is counted.
 */
export async function relay(
  portOf: (user: number) => number,
  pids: number[],
  users: number,
  seconds: number,
): Promise<BenchResult> {
  const accounts = await signUpUsers(portOf(0), `relay${users}_`, users);
  // Message ids: a random prefix for the run, then a sequence number that keys the send times
  // (cheaper for the load generator than random ids keyed by their hex).
  const prefix = randomBytes(8);
  let seq = 0;
  const seqOf = (mid: Uint8Array) =>
    new DataView(mid.buffer, mid.byteOffset, mid.byteLength).getFloat64(8);
  const sentAt = new Map<number, number>();
  const latencies: number[] = [];
  let measuring = false;
  let delivered = 0;
  const conns: ServerConnection[] = [];
  for (const [i, u] of accounts.entries()) {
    const conn = await ServerConnection.open("127.0.0.1", portOf(i), { staticKey: u.deviceKey });
    await conn.request("resume", {});
    const pending: number[] = [];
    let ackTimer: ReturnType<typeof setTimeout> | null = null;
    conn.onDeliver = (d) => {
      const key = seqOf(d.mid);
      const t0 = sentAt.get(key);
      if (t0 !== undefined) {
        sentAt.delete(key);
        if (measuring) {
          delivered++;
          latencies.push(performance.now() - t0);
        }
      }
      pending.push(d.qid);
      // Acknowledge in batches, as a client that stores deliveries in one transaction would.
      ackTimer ??= setTimeout(() => {
        ackTimer = null;
        conn.ack(pending.splice(0));
      }, 1);
    };
    conns.push(conn);
  }
  let running = true;
  const body = randomBytes(BODY_BYTES);
  const senders = [];
  for (let p = 0; p < users / 2; p++) {
    const conn = conns[2 * p]!;
    const to = accounts[2 * p + 1]!.name;
    senders.push((async () => {
      let inFlight = 0;
      let wake: (() => void) | null = null;
      while (running) {
        while (inFlight >= IN_FLIGHT && running) await new Promise<void>((r) => (wake = r));
        if (!running) break;
        const mid = new Uint8Array(16);
        mid.set(prefix);
        const n = seq++;
        new DataView(mid.buffer).setFloat64(8, n);
        sentAt.set(n, performance.now());
        inFlight++;
        conn.request("send", { to, mid, body }).catch(() => {}).finally(() => {
          inFlight--;
          const w = wake;
          wake = null;
          w?.();
        });
      }
      while (inFlight > 0) await new Promise<void>((r) => (wake = r));
    })());
  }
  // One second of warm-up, then the measured window.
  await new Promise((r) => setTimeout(r, 1000));
  measuring = true;
  const start = performance.now();
  const serverCpu = () => pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  const cpu0 = [serverCpu(), cpuSeconds("self")];
  await new Promise((r) => setTimeout(r, seconds * 1000));
  measuring = false;
  const elapsed = (performance.now() - start) / 1000;
  const cpu1 = [serverCpu(), cpuSeconds("self")];
  running = false;
  await Promise.all(senders);
  for (const c of conns) c.close();
  latencies.sort((a, b) => a - b);
  return {
    bench: "relay",
    users,
    msgs_per_s: Math.round(delivered / elapsed),
    p50_ms: round(percentile(latencies, 50), 2),
    p99_ms: round(percentile(latencies, 99), 2),
    // Share of one core each process used while measuring: where the time goes.
    server_cpu: round((cpu1[0]! - cpu0[0]!) / elapsed, 2),
    clients_cpu: round((cpu1[1]! - cpu0[1]!) / elapsed, 2),
  };
}

/** 10,000 messages queued for an offline user, then drained. */
async function offlineDrain(port: number, msgs = 10_000): Promise<BenchResult> {
  const [sender, sink] = await signUpUsers(port, "drain_", 2);
  const s = await ServerConnection.open("127.0.0.1", port, { staticKey: sender!.deviceKey });
  await s.request("resume", {});
  const body = randomBytes(BODY_BYTES);
  const inFlight = new Set<Promise<unknown>>();
  for (let i = 0; i < msgs; i++) {
    const p = s.request("send", { to: sink!.name, mid: randomBytes(16), body });
    inFlight.add(p);
    p.finally(() => inFlight.delete(p));
    if (inFlight.size >= 500) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  s.close();
  const start = performance.now();
  let got = 0;
  const { promise: done, resolve } = Promise.withResolvers<void>();
  const pending: number[] = [];
  let ackTimer: ReturnType<typeof setTimeout> | null = null;
  const conn = await ServerConnection.open("127.0.0.1", port, {
    staticKey: sink!.deviceKey,
    onDeliver(d) {
      got++;
      pending.push(d.qid);
      ackTimer ??= setTimeout(() => {
        ackTimer = null;
        conn.ack(pending.splice(0));
      }, 1);
      if (got === msgs) resolve();
    },
  });
  await conn.request("resume", {});
  const timeout = setTimeout(() => resolve(), 120_000);
  await done;
  clearTimeout(timeout);
  const elapsed = (performance.now() - start) / 1000;
  conn.close();
  return { bench: "offline_drain", msgs: got, msgs_per_s: Math.round(got / elapsed) };
}

function rssKiB(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(status.match(/VmRSS:\s+(\d+) kB/)![1]);
}

/**
 * Samples taken per RSS reading, and the pause between them: a reading spans 20 s, longer than
 * V8 takes to shrink its heap once the handshakes' burst of allocation is over (about 15 s
 * measured here), and covers a few rounds of the clients' keepalive pings.
 */
const RSS_SAMPLES = 21;
const RSS_SAMPLE_MS = 1000;
/** Quiet time before a reading starts. */
const RSS_SETTLE_MS = 2000;

/** The median of several RSS samples of `pid`, after a quiet moment. */
async function settledRssKiB(pid: number): Promise<number> {
  await new Promise((r) => setTimeout(r, RSS_SETTLE_MS));
  const samples: number[] = [];
  for (let i = 0; i < RSS_SAMPLES; i++) {
    samples.push(rssKiB(pid));
    await new Promise((r) => setTimeout(r, RSS_SAMPLE_MS));
  }
  return samples.sort((a, b) => a - b)[Math.floor(RSS_SAMPLES / 2)]!;
}

/**
 * Server memory per authenticated idle connection, at each count in `counts` (ascending).
 *
 * The users are signed up on a server that is then stopped, and the connections are opened to a
 * fresh server process on the same folder: the baseline is that process's resident memory with
 * zero connections, so memory the sign-ups (or earlier benchmarks) left behind in the heap is
 * neither counted nor reused to hide the connections' own. Each reading is the median of samples
 * taken over 20 s. `marginal_kib` is the slope from the previous count (the first count's from
 * zero): the cost of one more connection, without the fixed cost of the heap's young generation
 * growing during the burst of handshakes. RSS only grows between the readings here; a reading below the
 * baseline means the measurement failed and is reported as an error, never as a figure.
 */
async function idleConnections(dir: string, counts: number[]): Promise<BenchResult[]> {
  const n = counts[counts.length - 1]!;
  const setup = await startServer(dir);
  let users: BenchUser[];
  try {
    users = await signUpUsers(setup.port, "idle_", n);
  } finally {
    await setup.stop();
  }
  const server = await startServer(dir);
  const conns: ServerConnection[] = [];
  const results: BenchResult[] = [];
  try {
    const before = await settledRssKiB(server.pid);
    let last = { count: 0, rss: before };
    for (const count of counts) {
      for (let i = conns.length; i < count; i += PARALLEL_CONNECTS) {
        conns.push(
          ...(await Promise.all(
            users.slice(i, Math.min(i + PARALLEL_CONNECTS, count)).map(async (u) => {
              const c = await ServerConnection.open("127.0.0.1", server.port, {
                staticKey: u.deviceKey,
              });
              await c.request("resume", {});
              return c;
            }),
          )),
        );
      }
      const after = await settledRssKiB(server.pid);
      if (after < before) {
        throw new Error(`idle_connections: RSS fell below its baseline (${after} < ${before} KiB)`);
      }
      results.push({
        bench: "idle_connections",
        conns: count,
        kib_per_conn: round((after - before) / count, 1),
        marginal_kib: round(Math.max(0, after - last.rss) / (count - last.count), 1),
        baseline_kib: before,
      });
      last = { count, rss: after };
    }
  } finally {
    for (const c of conns) c.close();
    await server.stop();
  }
  return results;
}

/** Logins per second on the server, over 20 connections, for `seconds`. */
async function logins(port: number, seconds: number): Promise<BenchResult> {
  const users = await signUpUsers(port, "login_", 20);
  const conns = await Promise.all(
    users.map((u) => ServerConnection.open("127.0.0.1", port, { staticKey: u.deviceKey })),
  );
  let count = 0;
  let running = true;
  const start = performance.now();
  setTimeout(() => (running = false), seconds * 1000);
  await Promise.all(conns.map(async (c, i) => {
    while (running) {
      await c.request("login", { username: users[i]!.name, authKey: users[i]!.authKey });
      count++;
    }
  }));
  const elapsed = (performance.now() - start) / 1000;
  for (const c of conns) c.close();
  return { bench: "logins", per_s: Math.round(count / elapsed) };
}

/** Runs the relay suite and prints one line per result. */
export async function runRelayBench(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { json: { type: "boolean" }, duration: { type: "string" }, only: { type: "string" } },
  });
  const seconds = Number(values.duration ?? 10);
  const print = (r: BenchResult) =>
    console.log(
      values.json ? JSON.stringify(r) : Object.entries(r).map(([k, v]) => `${k}=${v}`).join(" "),
    );
  const want = (name: string) => !values.only || values.only === name;
  const dir = await Deno.makeTempDir({ prefix: "pesuchat_bench_" });
  const server = await startServer(join(dir, "server"));
  try {
    if (want("relay")) {
      print(await relay(() => server.port, [server.pid], 2, seconds));
      print(await relay(() => server.port, [server.pid], 50, seconds));
    }
    if (want("offline_drain")) print(await offlineDrain(server.port));
    if (want("idle_connections")) {
      for (const r of await idleConnections(join(dir, "idle"), [1000, 5000])) print(r);
    }
    if (want("logins")) print(await logins(server.port, Math.min(seconds, 5)));
  } finally {
    await server.stop();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) await runRelayBench(Deno.args);
