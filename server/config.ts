/**
 * The server's settings file, `server.json` in its folder. It holds no secrets: the keys and the
 * database password live in the keystore, sealed under the launch password.
 *
 * @module
 */

import { join } from "node:path";

/** File names inside the server's folder. */
export const CONFIG_FILE = "server.json";
export const KEYSTORE_FILE = "keystore.json";
export const SQLITE_FILE = "pesuchat.db";

/** Defaults of setup. */
export const DEFAULT_DIR = "pesuchat-data";
export const DEFAULT_HOSTNAME = "127.0.0.1";
export const DEFAULT_PORT = 7400;

/** Where the server keeps its messages and accounts. */
export type DatabaseConfig =
  | { kind: "sqlite"; file: string }
  | { kind: "mysql"; url: string };

/** Operator-set limits; absent fields take the protocol defaults. */
export interface LimitsConfig {
  requestsPerSecond?: number;
  requestBurst?: number;
  maxConnections?: number;
  maxPendingPerUser?: number;
  signupsPerAddress?: number;
}

/** The contents of `server.json`. */
export interface ServerConfig {
  version: 1;
  listen: { hostname: string; port: number };
  database: DatabaseConfig;
  /** False when set up with --no-password: the keystore is then only protected by file mode. */
  passwordProtected: boolean;
  createdAt: string;
  limits?: LimitsConfig;
  /** Who may sign up: "open" (the default), "token" (an operator's invite token) or "closed". */
  registration?: "open" | "token" | "closed";
}

/** A problem with the server's folder or settings, in a sentence a person can act on. */
export class ConfigError extends Error {
  override name = "ConfigError";
  constructor(message: string, readonly hint?: string) {
    super(message);
  }
}

/** Reads `server.json` from `dir`, or null when the folder is not set up. */
export async function readConfig(dir: string): Promise<ServerConfig | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, CONFIG_FILE));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new ConfigError(`cannot read ${join(dir, CONFIG_FILE)}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new ConfigError(
      `${join(dir, CONFIG_FILE)} is not valid JSON`,
      "restore it from a backup or set up again in a new folder",
    );
  }
  return validateConfig(raw, join(dir, CONFIG_FILE));
}

function validateConfig(raw: unknown, where: string): ServerConfig {
  const bad = (what: string): never => {
    throw new ConfigError(`${where}: ${what}`);
  };
  if (typeof raw !== "object" || raw === null) return bad("expected an object");
  const c = raw as Record<string, unknown>;
  if (c.version !== 1) bad(`unsupported version ${JSON.stringify(c.version)}`);
  const listen = c.listen as Record<string, unknown> | undefined;
  if (!listen || typeof listen.hostname !== "string" || !isPort(listen.port)) {
    bad("listen needs hostname and port");
  }
  const db = c.database as Record<string, unknown> | undefined;
  if (
    !db ||
    !((db.kind === "sqlite" && typeof db.file === "string") ||
      (db.kind === "mysql" && typeof db.url === "string"))
  ) {
    bad("database needs kind sqlite with file, or kind mysql with url");
  }
  if (typeof c.passwordProtected !== "boolean") bad("passwordProtected must be true or false");
  if (
    c.registration !== undefined && !["open", "token", "closed"].includes(c.registration as string)
  ) {
    bad("registration must be open, token or closed");
  }
  return raw as ServerConfig;
}

/** True for a TCP port number. */
export function isPort(value: unknown): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/** Writes `server.json` atomically (a crash leaves the old file or the new one, never half). */
export async function writeConfig(dir: string, config: ServerConfig): Promise<void> {
  await writeFileAtomic(join(dir, CONFIG_FILE), JSON.stringify(config, null, 2) + "\n", 0o644);
}

/** Writes a file through a temporary name and a rename, with the given mode. */
export async function writeFileAtomic(path: string, text: string, mode: number): Promise<void> {
  const tmp = `${path}.tmp-${crypto.randomUUID()}`;
  await Deno.writeTextFile(tmp, text, { mode });
  const f = await Deno.open(tmp, { read: true });
  try {
    await f.sync();
  } finally {
    f.close();
  }
  await Deno.rename(tmp, path);
}

/** The location string the store opens: an SQLite path or a MySQL URL with its password. */
export function storeLocation(dir: string, db: DatabaseConfig, dbPassword?: string): string {
  if (db.kind === "sqlite") return join(dir, db.file);
  if (!dbPassword) return db.url;
  const u = new URL(db.url);
  u.password = encodeURIComponent(dbPassword);
  return u.toString();
}

/** Splits a MySQL URL into the URL without its password, and the password. */
export function splitMysqlUrl(url: string): { url: string; password?: string } {
  const u = new URL(url);
  if (u.protocol !== "mysql:") throw new ConfigError(`not a mysql:// URL: ${u.protocol}`);
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  u.password = "";
  return password === undefined ? { url: u.toString() } : { url: u.toString(), password };
}
