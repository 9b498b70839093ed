/**
 * A database failure at start or setup, as the operator reads it: what is wrong, named by the
 * database's own error name, and the next step. Never the database password.
 *
 * @module
 */

import { join } from "node:path";
import { StoreError } from "../sql/store.ts";
import { ConfigError, type DatabaseConfig } from "./config.ts";

// MariaDB/MySQL server error numbers (https://mariadb.com/kb/en/mariadb-error-code-reference/).
const MYSQL_ERRORS: Record<number, { name: string; say: (w: Where) => string; next: string }> = {
  1040: {
    name: "ER_CON_COUNT_ERROR",
    say: (w) => `the database at ${w.host} has too many connections`,
    next: "raise max_connections there or close other clients, then start again",
  },
  1044: {
    name: "ER_DBACCESS_DENIED_ERROR",
    say: (w) => `the database user ${w.user} may not use the database ${w.database}`,
    next: "ask the DBA for: GRANT ALL PRIVILEGES ON <database>.* TO <user>",
  },
  1045: {
    name: "ER_ACCESS_DENIED_ERROR",
    say: (w) => `the database at ${w.host} refused user ${w.user}: wrong password or unknown user`,
    next: "if the password was changed, apply it with: pesuchat server setup --dir DIR --change " +
      "--db mysql://USER:NEW_PASSWORD@HOST:PORT/DATABASE",
  },
  1049: {
    name: "ER_BAD_DB_ERROR",
    say: (w) => `the database ${w.database} does not exist on ${w.host}`,
    next: "create it (CREATE DATABASE <database>) or correct the URL with setup --change --db",
  },
  1129: {
    name: "ER_HOST_IS_BLOCKED",
    say: (w) => `the database at ${w.host} blocks this host after too many failed connections`,
    next: "ask the DBA to run FLUSH HOSTS",
  },
  1130: {
    name: "ER_HOST_NOT_PRIVILEGED",
    say: (w) => `the database at ${w.host} does not let this host connect as ${w.user}`,
    next: "ask the DBA to create the user for this host",
  },
  1862: {
    name: "ER_MUST_CHANGE_PASSWORD_LOGIN",
    say: (w) => `the database password of ${w.user} has expired`,
    next: "set a new one (ALTER USER), then apply it with setup --change --db",
  },
  4151: {
    name: "ER_ACCOUNT_HAS_BEEN_LOCKED",
    say: (w) => `the database account ${w.user} is locked`,
    next: "ask the DBA to unlock it: ALTER USER <user> ACCOUNT UNLOCK",
  },
};

const SQLITE_CORRUPT = 11;
const SQLITE_NOTADB = 26;
const SQLITE_READONLY = 8;
const SQLITE_CANTOPEN = 14;
const SQLITE_PERM = 3;

interface Where {
  host: string;
  user: string;
  database: string;
}

/** The ConfigError an operator sees for `e`, met while opening `db` of the server in `dir`. */
export function databaseProblem(e: StoreError, db: DatabaseConfig, dir: string): ConfigError {
  const cause = e.cause as { errno?: unknown; code?: unknown; errcode?: unknown } | undefined;
  if (e.code === "schema") return new ConfigError(`database: ${e.message}`);
  if (db.kind === "sqlite") {
    const file = join(dir, db.file);
    // node:sqlite gives a result code for failed statements, only a message for a failed open.
    const errcode = typeof cause?.errcode === "number" ? cause.errcode & 0xff : undefined;
    const text = String((cause as { message?: unknown } | undefined)?.message ?? "");
    const notADb = errcode === SQLITE_NOTADB || /file is not a database/.test(text);
    if (notADb || errcode === SQLITE_CORRUPT || /malformed/.test(text)) {
      return new ConfigError(
        `the database ${file} is damaged (${notADb ? "SQLITE_NOTADB" : "SQLITE_CORRUPT"})`,
        "stop anything else writing it and restore it from a backup",
      );
    }
    if (
      errcode === SQLITE_CANTOPEN || errcode === SQLITE_READONLY || errcode === SQLITE_PERM ||
      /^open: sqlite cannot open/.test(e.message) || /readonly|unable to open/.test(text)
    ) {
      return new ConfigError(
        `cannot open or write the database ${file}`,
        `check that it is a file, and that this user can write it and ${dir}`,
      );
    }
    return new ConfigError(`database ${file}: ${e.message}`, "see the message above");
  }
  const u = new URL(db.url);
  const where: Where = {
    host: `${u.hostname}:${u.port || "3306"}`,
    user: decodeURIComponent(u.username) || "(none)",
    database: u.pathname.slice(1),
  };
  const known = typeof cause?.errno === "number" ? MYSQL_ERRORS[cause.errno] : undefined;
  if (known) {
    return new ConfigError(`${known.say(where)} (${known.name})`, known.next.replace("DIR", dir));
  }
  switch (cause?.code) {
    case "ECONNREFUSED":
      return new ConfigError(
        `nothing accepts connections at ${where.host} (ECONNREFUSED)`,
        "start MariaDB/MySQL there, or correct the host and port with setup --change --db",
      );
    case "ENOTFOUND":
    case "EAI_AGAIN":
      return new ConfigError(
        `the database host ${u.hostname} is unknown (${cause.code})`,
        "correct the URL with setup --change --db",
      );
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
      return new ConfigError(
        `no answer from the database at ${where.host} (${cause.code})`,
        "check the network and any firewall between this machine and the database",
      );
  }
  return new ConfigError(
    `database at ${where.host}: ${e.message}`,
    "is the database running, and are the URL and password right?",
  );
}

/** Runs `f`, turning a StoreError into the operator's {@linkcode databaseProblem}. */
export async function explainingDatabase<T>(
  db: DatabaseConfig,
  dir: string,
  f: () => Promise<T>,
): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof StoreError) throw databaseProblem(e, db, dir);
    throw e;
  }
}
