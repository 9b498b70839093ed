/**
 * Starting a node: the checks that keep a cluster whole. A node on a bus needs a database every
 * node can reach (MySQL/MariaDB, not an SQLite file); a node without a bus must be the only one
 * on its database, since nobody would tell it about messages other nodes queue (and nobody would
 * hear of its own); and the nodes on one database must all be on a bus.
 *
 * @module
 */

import { parseBusUrl } from "./bus/mod.ts";
import { ConfigError } from "./config.ts";
import { type NodeLock, type NodeLockConflict, takeNodeLock } from "../sql/node_lock.ts";
import { MAX_CLUSTER_NODES } from "../sql/node_lock.ts";
import { type MysqlLocation, parseLocation } from "../sql/mod.ts";
import type { Logger } from "./log.ts";

const WHY: Record<NodeLockConflict, (bus: string | undefined) => [string, string]> = {
  solo_running: (bus) => [
    bus
      ? "another node uses this database without a bus, so it would never hear of messages " +
        "this node queues"
      : "another node uses this database already, and without a bus neither would hear of " +
        "messages the other queues",
    "start every node on the database with the same --bus nats://HOST:PORT or redis://HOST:PORT",
  ],
  cluster_running: () => [
    "nodes on a bus use this database, and without a bus this node would never hear of " +
    "messages they queue",
    "start this node with the same --bus as the others (see docs/cluster.md)",
  ],
  cluster_full: () => [
    `${MAX_CLUSTER_NODES} nodes use this database already, the most one cluster has`,
    "stop a node first",
  ],
};

/** The bus subject of a cluster: one per server key and database name. */
export async function clusterSubject(
  serverPublicKey: Uint8Array,
  database: string,
): Promise<string> {
  const data = new Uint8Array([...serverPublicKey, ...new TextEncoder().encode(database)]);
  const h = new Uint8Array(await crypto.subtle.digest("SHA-256", data)).subarray(0, 8).toHex();
  return `pesuchat.${h}`;
}

/**
 * Takes this node's place on the database at `location` (a store location string): returns the
 * lock to release at shutdown (null on SQLite without a bus), or throws ConfigError saying why
 * the node may not start.
 */
export async function joinDatabase(
  location: string,
  bus: string | undefined,
  logger: Logger,
): Promise<{ lock: NodeLock | null; database: string }> {
  if (bus !== undefined) {
    try {
      parseBusUrl(bus);
    } catch (e) {
      throw new ConfigError((e as Error).message, "for example --bus nats://127.0.0.1:4222");
    }
  }
  const where = parseLocation(location);
  if (where.kind === "sqlite") {
    if (bus === undefined) return { lock: null, database: where.path };
    throw new ConfigError(
      "--bus needs a MySQL or MariaDB database that every node reaches; this server uses SQLite",
      "set the server up with --db mysql://… (see docs/cluster.md)",
    );
  }
  const mysql = where as MysqlLocation;
  const got = await takeNodeLock(mysql, bus !== undefined, (why) =>
    logger.info("node lock lost", {
      error: why,
      hint: "the database restarted and another node took its place; restart this node",
    }));
  if ("conflict" in got) {
    const [message, hint] = WHY[got.conflict](bus);
    throw new ConfigError(`not starting: ${message}`, hint);
  }
  return { lock: got, database: mysql.database };
}
