/**
 * Benchmarks, one suite at a time (not tests: the numbers depend on the machine and on whatever
 * else runs beside it):
 *
 *   deno run -A scripts/bench.ts <suite> [--json] [suite options]
 *
 * Each suite is a script of its own, run in a fresh process so one suite's heap and threads do
 * not slow the next. To add one, add a row to SUITES.
 *
 * @module
 */

/** The suites: name → script beside this one, and what it measures. */
export const SUITES: Readonly<Record<string, { script: string; about: string }>> = {
  crypto: {
    script: "bench_crypto.ts",
    about: "PQXDH session setup and Double Ratchet messages, state persisted around each",
  },
  store: {
    script: "bench_store.ts",
    about: "the relay's enqueue, pending and ack on SQLite and MySQL/MariaDB",
  },
  group: {
    script: "bench_group.ts",
    about: "one sender to a group of 50 online members: sender keys against 49 pairwise messages",
  },
  cluster: {
    script: "bench_cluster.ts",
    about: "the relay load on two nodes over MariaDB and a bus, half the pairs across nodes, " +
      "and on one node",
  },
  relay: {
    script: "bench_relay.ts",
    about:
      "a server process on SQLite: relay throughput and latency, offline drain, idle memory, logins",
  },
};

function usage(): string {
  const rows = Object.entries(SUITES).map(([name, s]) => `  ${name.padEnd(8)} ${s.about}`);
  return ["usage: deno run -A scripts/bench.ts <suite> [--json] [options]", "", "suites:", ...rows]
    .join("\n");
}

if (import.meta.main) {
  const [name, ...rest] = Deno.args;
  const suite = name ? SUITES[name] : undefined;
  if (!suite) {
    console.error(name ? `bench: unknown suite ${JSON.stringify(name)}\n\n${usage()}` : usage());
    Deno.exit(2);
  }
  const script = new URL(suite.script, import.meta.url);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", script.pathname, ...rest],
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  Deno.exit((await child.status).code);
}
