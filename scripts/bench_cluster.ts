/**
 * Cluster benchmark (not a test): the relay load of `bench relay` (50 users in 25 pairs, each
 * sender with 100 messages in flight, 200-byte bodies) on two server nodes sharing one MariaDB
 * database over a bus, with half of the pairs split across the nodes; then the same load on one
 * node of the same database, so the cost of crossing nodes shows.
 *
 * On one machine both nodes, the database, the bus and the load generator share the same cores:
 * this measures what crossing nodes costs, not how a cluster scales.
 *
 * usage: deno run -A scripts/bench_cluster.ts [--json] [--duration S] [--bus URL]
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import mysql from "mysql2/promise";
import { copy } from "../tests/support/copy.ts";
import { type BenchResult, relay, type ServerProcess, startServer } from "./bench_relay.ts";
import { DEFAULT_TEST_MYSQL_URL } from "./test_db.ts";

const USERS = 50;

/** A fresh MariaDB database for one run; `drop` removes it. */
async function freshMysql(): Promise<{ url: string; drop(): Promise<void> }> {
  const base = new URL(Deno.env.get("PESUCHAT_TEST_MYSQL") ?? DEFAULT_TEST_MYSQL_URL);
  const name = `pesuchat_test_cluster_${crypto.getRandomValues(new Uint8Array(4)).toHex()}`;
  const admin = await mysql.createConnection({ uri: base.toString() });
  await admin.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.query(`DROP DATABASE ${name}`);
      await admin.end();
    },
  };
}

/** Sets up a server folder on `db` and copies it for each further node (one keystore). */
async function setUpNodes(base: string, db: string, nodes: number): Promise<string[]> {
  const dirs = Array.from({ length: nodes }, (_, i) => join(base, `node${i}`));
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      new URL("../main.ts", import.meta.url).pathname,
      "server",
      "setup",
      "--dir",
      dirs[0]!,
      "--db",
      db,
      "--yes",
      "--no-password",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  for (const d of dirs.slice(1)) await copy(dirs[0]!, d);
  return dirs;
}

/**
 * Pair p (users 2p → 2p + 1) is split across the nodes when p is odd (12 of 25 pairs); the
 * others sit on one node, alternating. Returns the node of user `i`.
 */
function nodeOf(i: number): number {
  const p = Math.floor(i / 2);
  const home = Math.floor(p / 2) % 2;
  return p % 2 === 1 && i % 2 === 1 ? 1 - home : home;
}

async function measure(
  nodes: number,
  bus: string,
  seconds: number,
): Promise<BenchResult> {
  const db = await freshMysql();
  const base = await Deno.makeTempDir({ prefix: "pesuchat_bench_cluster_" });
  const servers: ServerProcess[] = [];
  try {
    const dirs = await setUpNodes(base, db.url, nodes);
    for (const d of dirs) servers.push(await startServer(d, nodes > 1 ? ["--bus", bus] : []));
    const portOf = (i: number) => servers[nodes > 1 ? nodeOf(i) : 0]!.port;
    let cross = 0;
    for (let p = 0; p < USERS / 2; p++) if (portOf(2 * p) !== portOf(2 * p + 1)) cross++;
    const r = await relay(portOf, servers.map((s) => s.pid), USERS, seconds);
    return {
      bench: "cluster",
      nodes,
      users: USERS,
      msgs_per_s: r.msgs_per_s!,
      p50_ms: r.p50_ms!,
      p99_ms: r.p99_ms!,
      cross_node_share: Math.round((cross / (USERS / 2)) * 100) / 100,
      ...(nodes > 1 ? { bus: bus.split(":")[0]! } : {}),
      server_cpu: r.server_cpu!,
      clients_cpu: r.clients_cpu!,
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await Deno.remove(base, { recursive: true }).catch(() => {});
    await db.drop();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { json: { type: "boolean" }, duration: { type: "string" }, bus: { type: "string" } },
  });
  const seconds = Number(values.duration ?? 10);
  const bus = values.bus ?? "nats://127.0.0.1:4222";
  for (const nodes of [2, 1]) {
    const r = await measure(nodes, bus, seconds);
    console.log(
      values.json ? JSON.stringify(r) : Object.entries(r).map(([k, v]) => `${k}=${v}`).join(" "),
    );
  }
}
