/**
 * Several `pesuchat server run` processes as one cluster: one MariaDB database, one keystore
 * (the first node's folder copied, as docs/cluster.md tells operators to do), one bus, each node
 * on its own port. Nodes can be killed and started again.
 *
 * @module
 */

import { copy } from "./copy.ts";
import { type FreshDatabase, freshDatabase } from "./databases.ts";
import { freePort, PesuchatProcess, setupUnattended } from "./process.ts";
import { join } from "node:path";

/** A running cluster of server processes. */
export class TestCluster {
  readonly nodes: (PesuchatProcess | null)[];
  private constructor(
    readonly db: FreshDatabase,
    readonly dirs: string[],
    readonly ports: number[],
    readonly bus: string,
    readonly fingerprint: string,
    readonly extra: string[],
  ) {
    this.nodes = dirs.map(() => null);
  }

  /** Sets up a cluster of `n` nodes on `bus` and starts them all, `extra` flags for each run. */
  static async start(
    bus: string,
    n = 3,
    extra: string[] = [],
    limits: Record<string, number> = {},
  ): Promise<TestCluster> {
    const db = await freshDatabase("mysql");
    const base = await Deno.makeTempDir({ prefix: "pesuchat_cluster_" });
    const dirs = Array.from({ length: n }, (_, i) => join(base, `node${i}`));
    const ports = dirs.map(() => freePort());
    const setup = await setupUnattended(dirs[0]!, ports[0]!, "--db", db.location);
    if (setup.code !== 0) throw new Error(`setup failed:\n${setup.output}`);
    const fp = setup.output.match(/SHA256:[A-Za-z0-9+/]{43}/)?.[0];
    if (!fp) throw new Error(`no fingerprint in:\n${setup.output}`);
    const config = join(dirs[0]!, "server.json");
    const text = JSON.parse(await Deno.readTextFile(config));
    await Deno.writeTextFile(config, JSON.stringify({ ...text, limits }));
    for (const d of dirs.slice(1)) await copy(dirs[0]!, d);
    const c = new TestCluster(db, dirs, ports, bus, fp, extra);
    await Promise.all(dirs.map((_, i) => c.startNode(i)));
    return c;
  }

  /** Starts node `i` and waits until it listens and its bus is up. */
  async startNode(i: number): Promise<PesuchatProcess> {
    const p = new PesuchatProcess([
      "server",
      "run",
      "--dir",
      this.dirs[i]!,
      "--port",
      String(this.ports[i]),
      "--bus",
      this.bus,
      ...this.extra,
    ]);
    this.nodes[i] = p;
    await p.waitFor(/listening/, 60_000);
    await p.waitFor(/bus up/, 60_000);
    return p;
  }

  /** Kills node `i` with SIGKILL and waits for it to exit. */
  async kill(i: number): Promise<void> {
    const p = this.nodes[i];
    this.nodes[i] = null;
    if (!p) return;
    p.kill("SIGKILL");
    await p.done;
  }

  /** "127.0.0.1:PORT" of the nodes given (all by default), comma separated. */
  addresses(...which: number[]): string {
    const list = which.length ? which : this.ports.map((_, i) => i);
    return list.map((i) => `127.0.0.1:${this.ports[i]}`).join(",");
  }

  /** Stops every node and drops the database. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((_, i) => this.kill(i)));
    await this.db.drop();
  }
}
