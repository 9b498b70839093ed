/**
 * Fresh databases for end-to-end tests: a temporary SQLite file, or a new MariaDB/MySQL database
 * named `pesuchat_test_<random>` on the server `scripts/test_db.ts` prepared.
 *
 * @module
 */

import mysql from "mysql2/promise";
import { DEFAULT_TEST_MYSQL_URL } from "../../scripts/test_db.ts";

/** The databases every end-to-end suite runs against. */
export const DATABASE_KINDS = ["sqlite", "mysql"] as const;
export type DatabaseKind = (typeof DATABASE_KINDS)[number];

/** A database to open a store on, and a way to remove it. */
export interface FreshDatabase {
  kind: DatabaseKind;
  /** What `openStore` takes: a file path or a mysql:// URL. */
  location: string;
  /** A mysql:// URL without the password, and the password, for server setup flags. */
  drop(): Promise<void>;
}

/** The MySQL server the tests use, as a URL (with the test user's password). */
export function testMysqlUrl(): URL {
  return new URL(Deno.env.get("PESUCHAT_TEST_MYSQL") ?? DEFAULT_TEST_MYSQL_URL);
}

/** A connection to the test MySQL server outside any store, for setting up and for sabotage. */
export function adminConnection(): Promise<mysql.Connection> {
  const base = testMysqlUrl();
  return mysql.createConnection({
    host: base.hostname,
    port: Number(base.port || 3306),
    user: decodeURIComponent(base.username),
    password: decodeURIComponent(base.password),
  });
}

/** A new empty database of `kind`. */
export async function freshDatabase(kind: DatabaseKind): Promise<FreshDatabase> {
  if (kind === "sqlite") {
    const dir = await Deno.makeTempDir({ prefix: "pesuchat_e2e_" });
    return {
      kind,
      location: `${dir}/pesuchat.db`,
      drop: () => Deno.remove(dir, { recursive: true }).catch(() => {}),
    };
  }
  const base = testMysqlUrl();
  const name = `pesuchat_test_${crypto.getRandomValues(new Uint8Array(6)).toHex()}`;
  const admin = await adminConnection();
  try {
    await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
  } finally {
    await admin.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    kind,
    location: url.toString(),
    async drop() {
      const c = await adminConnection();
      try {
        await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      } finally {
        await c.end();
      }
    },
  };
}

/** Rows in `table` of the database (to see what a store keeps, from outside it). */
export async function countRows(db: FreshDatabase, table: string): Promise<number> {
  if (db.kind === "sqlite") {
    const { DatabaseSync } = await import("node:sqlite");
    const d = new DatabaseSync(db.location, { readOnly: true });
    try {
      return Number((d.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n);
    } finally {
      d.close();
    }
  }
  const c = await adminConnection();
  try {
    const [rows] = await c.query(
      `SELECT COUNT(*) AS n FROM \`${new URL(db.location).pathname.slice(1)}\`.${table}`,
    );
    return Number((rows as { n: number }[])[0]!.n);
  } finally {
    await c.end();
  }
}
