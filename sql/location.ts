/**
 * Where a store lives: a `mysql://user:pass@host:port/db` URL, or else an SQLite file path. The
 * MySQL password is a secret: it prints as `[redacted]` and never appears in an error message.
 *
 * @module
 */

import { StoreError } from "./store.ts";

/** The MySQL port used when the URL names none. */
export const DEFAULT_MYSQL_PORT = 3306;

/** A MySQL/MariaDB server and database. The password prints as `[redacted]`. */
export class MysqlLocation {
  readonly kind = "mysql" as const;
  readonly #password: string;

  constructor(
    readonly host: string,
    readonly port: number,
    readonly user: string,
    password: string,
    readonly database: string,
  ) {
    this.#password = password;
  }

  /** The password, for the driver only. */
  revealPassword(): string {
    return this.#password;
  }

  /** The URL without its password, safe for logs. */
  toString(): string {
    return `mysql://${encodeURIComponent(this.user)}:[redacted]@${this.host}:${this.port}/${
      encodeURIComponent(this.database)
    }`;
  }

  toJSON(): string {
    return this.toString();
  }

  [Symbol.for("Deno.customInspect")](): string {
    return `MysqlLocation(${this.toString()})`;
  }
}

/** An SQLite database file. */
export interface SqliteLocation {
  kind: "sqlite";
  path: string;
}

/**
 * Reads a store location: a `mysql://` (or `mariadb://`) URL, or else an SQLite file path.
 * Throws `StoreError("unavailable")` for a MySQL URL without a database name, a bad port or
 * options the store does not understand; the message never repeats the URL (it holds a password).
 */
export function parseLocation(location: string): MysqlLocation | SqliteLocation {
  if (!/^(mysql|mariadb):\/\//i.test(location)) return { kind: "sqlite", path: location };
  let url: URL;
  try {
    url = new URL(location);
  } catch (e) {
    throw new StoreError("unavailable", "open: the MySQL URL is not a valid URL", { cause: e });
  }
  const database = decodeURIComponent(url.pathname.replace(/^\//, ""));
  if (database === "" || database.includes("/")) {
    throw new StoreError("unavailable", "open: the MySQL URL names no database (…/dbname)");
  }
  if (url.search !== "" || url.hash !== "") {
    throw new StoreError("unavailable", "open: the MySQL URL has options the store does not read");
  }
  const port = url.port === "" ? DEFAULT_MYSQL_PORT : Number(url.port);
  // WHATWG URL keeps IPv6 hosts in brackets; the driver wants them bare.
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
  return new MysqlLocation(
    host,
    port,
    decodeURIComponent(url.username),
    decodeURIComponent(url.password),
    database,
  );
}
