/**
 * Which server nodes use a MySQL/MariaDB database, told by the database itself: each node holds a
 * named lock (GET_LOCK) on a connection of its own for as long as it runs. A node that dies, even
 * by SIGKILL, loses its connection and with it the lock, at once; there is no table of nodes to
 * go stale and no heartbeat to wait out.
 *
 * A node that runs alone (no bus) holds the "solo" lock; a node on a bus holds one of
 * {@linkcode MAX_CLUSTER_NODES} numbered "member" locks. Each takes its own lock first and then
 * looks for the other kind, so of two nodes starting at the same moment at least one sees the
 * other.
 *
 * @module
 */

import mysql from "mysql2/promise";
import type { Connection } from "mysql2/promise";
import type { MysqlLocation } from "./location.ts";
import { mapMysqlError } from "./mysql_errors.ts";

/** Nodes that may share one database over a bus. */
export const MAX_CLUSTER_NODES = 64;
/** How often the lock's connection is checked (and the lock taken again after a drop). */
export const NODE_LOCK_CHECK_MS = 5000;

/** Why a node may not use the database now. */
export type NodeLockConflict =
  | "solo_running" // a node without a bus uses the database
  | "cluster_running" // nodes on a bus use the database
  | "cluster_full"; // MAX_CLUSTER_NODES nodes use it already

/** A held node lock. */
export interface NodeLock {
  /** The member slot (0 …), or null for a node alone. */
  readonly slot: number | null;
  /** Releases the lock and closes its connection. */
  release(): Promise<void>;
}

/** The lock names for a database; the name is hashed to fit MySQL's 64-character limit. */
async function lockNames(database: string): Promise<{ solo: string; member: string[] }> {
  const h = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(database)),
  ).subarray(0, 8).toHex();
  return {
    solo: `pesuchat:${h}:solo`,
    member: Array.from({ length: MAX_CLUSTER_NODES }, (_, i) => `pesuchat:${h}:member:${i}`),
  };
}

async function connect(location: MysqlLocation): Promise<Connection> {
  try {
    return await mysql.createConnection({
      host: location.host,
      port: location.port,
      user: location.user,
      password: location.revealPassword(),
      database: location.database,
      enableKeepAlive: true,
    });
  } catch (e) {
    throw mapMysqlError("node lock", e);
  }
}

async function scalar(c: Connection, sql: string, params: unknown[]): Promise<unknown> {
  const [rows] = await c.query(sql, params);
  return Object.values((rows as Record<string, unknown>[])[0] ?? {})[0];
}

/** Takes this node's lock; returns the conflict instead when another node rules it out. */
async function take(
  c: Connection,
  names: { solo: string; member: string[] },
  clustered: boolean,
): Promise<{ slot: number | null } | { conflict: NodeLockConflict }> {
  if (!clustered) {
    if (Number(await scalar(c, "SELECT GET_LOCK(?, 0)", [names.solo])) !== 1) {
      return { conflict: "solo_running" };
    }
    const used = await scalar(
      c,
      `SELECT ${names.member.map(() => "(IS_USED_LOCK(?) IS NOT NULL)").join(" + ")}`,
      names.member,
    );
    if (Number(used) > 0) {
      await c.query("SELECT RELEASE_LOCK(?)", [names.solo]);
      return { conflict: "cluster_running" };
    }
    return { slot: null };
  }
  for (let slot = 0; slot < names.member.length; slot++) {
    if (Number(await scalar(c, "SELECT GET_LOCK(?, 0)", [names.member[slot]])) !== 1) continue;
    if (await scalar(c, "SELECT IS_USED_LOCK(?)", [names.solo]) !== null) {
      await c.query("SELECT RELEASE_LOCK(?)", [names.member[slot]]);
      return { conflict: "solo_running" };
    }
    return { slot };
  }
  return { conflict: "cluster_full" };
}

/**
 * Takes the node lock on the database at `location`: `clustered` for a node on a bus. Returns
 * the conflict when another node rules this one out. While held, the lock's connection is
 * checked every NODE_LOCK_CHECK_MS; after a drop (the database restarted) the lock is taken
 * again, and `onLost` hears of it if that fails.
 */
export async function takeNodeLock(
  location: MysqlLocation,
  clustered: boolean,
  onLost: (why: string) => void,
): Promise<NodeLock | { conflict: NodeLockConflict }> {
  const names = await lockNames(location.database);
  let c = await connect(location);
  let got;
  try {
    got = await take(c, names, clustered);
  } catch (e) {
    await c.end().catch(() => {});
    throw mapMysqlError("node lock", e);
  }
  if ("conflict" in got) {
    await c.end().catch(() => {});
    return got;
  }
  let slot = got.slot;
  let released = false;
  let lost = false;
  const check = async () => {
    try {
      await c.query("SELECT 1");
      return;
    } catch {
      // dropped: take the lock again on a new connection below
    }
    c.destroy();
    try {
      c = await connect(location);
      const again = await take(c, names, clustered);
      if ("conflict" in again) throw new Error(again.conflict);
      slot = again.slot;
      lost = false;
    } catch (e) {
      if (!lost) onLost((e as Error).message);
      lost = true;
    }
  };
  let checking: Promise<void> = Promise.resolve();
  const timer = setInterval(() => {
    if (!released) checking = checking.then(check);
  }, NODE_LOCK_CHECK_MS);
  return {
    get slot() {
      return slot;
    },
    async release() {
      released = true;
      clearInterval(timer);
      await checking;
      await c.end().catch(() => c.destroy());
    },
  };
}
