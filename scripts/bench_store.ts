/**
 * Store throughput: the relay's hot path (enqueue a batch, read it back with pending, ack it) on
 * SQLite and MySQL/MariaDB, for batches of 1, 10 and 100 messages. Not a test: numbers depend on
 * the machine's disk (every commit is an fsync) and on whatever else runs beside it.
 *
 *   deno run --allow-all scripts/bench_store.ts [--json] [--seconds 2] [--only sqlite|mysql]
 *
 * MySQL uses PESUCHAT_TEST_MYSQL or the test server (run scripts/test_db.ts first) and a fresh
 * database `pesuchat_test_bench_<random>`, dropped at the end. SQLite uses a temporary file on
 * the same disk as the working folder. A round is: `enqueue(batch)` (one transaction, durable
 * when it resolves), `pending(recipient, 0, batch)`, `ack(recipient, qids)`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import mysql from "mysql2/promise";
import { openStore, type Store } from "../sql/mod.ts";
import type { NewQueued } from "../sql/store.ts";
import { DEFAULT_TEST_MYSQL_URL } from "./test_db.ts";

/** Batch sizes measured. */
export const BATCHES = [1, 10, 100] as const;

/** Rounds run at most per case, whatever the time budget. */
export const MAX_ROUNDS = 100_000;

/** Independent senders running at once in the concurrent MySQL case (one per pool connection). */
export const MYSQL_CONCURRENCY = 8;

const BODY_BYTES = 256;

interface Result {
  db: "sqlite" | "mysql";
  batch: number;
  concurrency: number;
  messages: number;
  seconds: number;
  messagesPerSecond: number;
  /** Mean milliseconds per round (enqueue + pending + ack). */
  roundMs: number;
}

async function newUser(store: Store, name: string): Promise<number> {
  const signed = { id: 1, publicKey: new Uint8Array(32), signature: new Uint8Array(64) };
  const user = await store.createUser(
    {
      username: name,
      profile: new Uint8Array(32),
      salt: new Uint8Array(16),
      kdf: { memoryKiB: 19_456, passes: 2, parallelism: 1 },
      verifierSalt: new Uint8Array(16),
      verifier: new Uint8Array(32),
      identityKey: new Uint8Array(128),
      createdAt: Date.now(),
    },
    { signedPrekey: signed, kyberLastResort: signed, oneTimePrekeys: [], kyberPrekeys: [] },
    crypto.getRandomValues(new Uint8Array(32)),
  );
  return user.id;
}

/** Runs rounds of enqueue/pending/ack for `seconds` (bounded by MAX_ROUNDS) on one recipient. */
async function loop(
  store: Store,
  sender: number,
  recipient: number,
  batch: number,
  deadline: number,
): Promise<{ messages: number; rounds: number }> {
  const body = new Uint8Array(BODY_BYTES).fill(7);
  let messages = 0;
  let rounds = 0;
  while (rounds < MAX_ROUNDS && performance.now() < deadline) {
    const items: NewQueued[] = [];
    for (let i = 0; i < batch; i++) {
      items.push({
        recipientId: recipient,
        senderId: sender,
        senderName: "bench",
        mid: crypto.getRandomValues(new Uint8Array(16)),
        body,
        sentAt: Date.now(),
      });
    }
    const qids = await store.enqueue(items);
    const got = await store.pending(recipient, 0, batch);
    if (got.length !== batch) throw new Error(`expected ${batch} pending, got ${got.length}`);
    const acked = await store.ack(recipient, qids);
    if (acked !== batch) throw new Error(`expected ${batch} acked, got ${acked}`);
    messages += batch;
    rounds++;
  }
  return { messages, rounds };
}

async function measure(
  store: Store,
  db: Result["db"],
  batch: number,
  concurrency: number,
  seconds: number,
): Promise<Result> {
  const pairs = [];
  for (let i = 0; i < concurrency; i++) {
    const tag = crypto.getRandomValues(new Uint8Array(4)).toHex();
    pairs.push([await newUser(store, `s_${tag}`), await newUser(store, `r_${tag}`)] as const);
  }
  // A short warm-up fills statement caches and opens pool connections.
  await Promise.all(pairs.map(([s, r]) => loop(store, s, r, batch, performance.now() + 200)));
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const runs = await Promise.all(pairs.map(([s, r]) => loop(store, s, r, batch, deadline)));
  const elapsed = (performance.now() - start) / 1000;
  const messages = runs.reduce((n, r) => n + r.messages, 0);
  const rounds = runs.reduce((n, r) => n + r.rounds, 0);
  return {
    db,
    batch,
    concurrency,
    messages,
    seconds: elapsed,
    messagesPerSecond: Math.round(messages / elapsed),
    roundMs: (elapsed * 1000 * concurrency) / rounds,
  };
}

async function benchSqlite(seconds: number): Promise<Result[]> {
  const dir = await Deno.makeTempDir({ dir: Deno.cwd(), prefix: ".bench_store_" });
  try {
    const store = await openStore(`${dir}/bench.db`);
    await store.migrate();
    const out = [];
    for (const batch of BATCHES) out.push(await measure(store, "sqlite", batch, 1, seconds));
    await store.close();
    return out;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function benchMysql(seconds: number): Promise<Result[]> {
  const base = new URL(Deno.env.get("PESUCHAT_TEST_MYSQL") ?? DEFAULT_TEST_MYSQL_URL);
  const name = `pesuchat_test_bench_${crypto.getRandomValues(new Uint8Array(4)).toHex()}`;
  const admin = await mysql.createConnection({ uri: base.toString() });
  await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  try {
    const url = new URL(base);
    url.pathname = `/${name}`;
    const store = await openStore(url.toString(), { poolSize: MYSQL_CONCURRENCY });
    await store.migrate();
    const out = [];
    for (const concurrency of [1, MYSQL_CONCURRENCY]) {
      for (const batch of BATCHES) {
        out.push(await measure(store, "mysql", batch, concurrency, seconds));
      }
    }
    await store.close();
    return out;
  } finally {
    await admin.query(`DROP DATABASE ${name}`);
    await admin.end();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      json: { type: "boolean", default: false },
      seconds: { type: "string", default: "2" },
      only: { type: "string" },
    },
  });
  const seconds = Number(values.seconds);
  const results: Result[] = [];
  if (values.only !== "mysql") results.push(...await benchSqlite(seconds));
  if (values.only !== "sqlite") results.push(...await benchMysql(seconds));
  if (values.json) {
    console.log(JSON.stringify(results, null, 2));
  } else {
    console.log("db      batch  concurrent  messages/s  ms/round");
    for (const r of results) {
      console.log(
        `${r.db.padEnd(7)} ${String(r.batch).padStart(5)}  ${String(r.concurrency).padStart(10)}` +
          `  ${String(r.messagesPerSecond).padStart(10)}  ${r.roundMs.toFixed(3).padStart(8)}`,
      );
    }
  }
}
