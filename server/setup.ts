/**
 * `pesuchat server setup`: the five steps — folder, database and tables, server keypair, launch
 * password, address and port — asked with defaults, or each given as a flag for unattended use.
 * It never destroys data: on a folder that is set up already it says what exists and stops; a
 * flag that would change it is refused unless --change is given, and then only the address, the
 * port, the launch password, or the database's URL and password change, never the server key.
 *
 * @module
 */

import { isIP } from "node:net";
import { join, resolve } from "node:path";
import { openStore } from "../sql/mod.ts";
import {
  CONFIG_FILE,
  ConfigError,
  type DatabaseConfig,
  DEFAULT_DIR,
  DEFAULT_HOSTNAME,
  DEFAULT_PORT,
  isPort,
  KEYSTORE_FILE,
  readConfig,
  type ServerConfig,
  splitMysqlUrl,
  SQLITE_FILE,
  storeLocation,
  writeConfig,
  writeFileAtomic,
} from "./config.ts";
import {
  KeystoreError,
  keystoreNeedsPassword,
  newSecrets,
  openKeystore,
  sealKeystore,
} from "./keystore.ts";
import type { Prompter } from "./prompts.ts";
import { explainingDatabase } from "./db_problems.ts";
import { REGISTRATION_MODES, type RegistrationMode } from "./registration.ts";
import { fingerprint } from "../protocol/fingerprint.ts";

/** Shortest launch password accepted. */
export const MIN_LAUNCH_PASSWORD = 8;

/** What setup was told by flags; anything missing is asked, or defaulted with `yes`. */
export interface SetupOptions {
  /** The folder; asked (default DEFAULT_DIR) when not given. */
  dir?: string;
  db?: string;
  hostname?: string;
  port?: number;
  /** A new launch password asked for by flag (--password-file); null means --no-password. */
  password?: string | null;
  /** The launch password the environment holds (PESUCHAT_PASSWORD…): a new server's, or the
   * current one of an existing server. Never a reason to re-seal. */
  envPassword?: string;
  /** Who may sign up: open, token or closed (default open). */
  registration?: string;
  /** Take defaults for everything not given instead of asking. */
  yes: boolean;
  /** On an existing setup, apply the given flags instead of refusing them. */
  change: boolean;
  /** For --change that re-seals: the current launch password. */
  currentPassword?: string | null;
}

/** What setup did, for the caller to print. */
export interface SetupResult {
  created: boolean;
  config: ServerConfig;
  fingerprint: string;
  dir: string;
}

type Say = (line: string) => void;

/** Runs setup. Throws `ConfigError` with a hint for anything the operator must fix. */
export async function setup(o: SetupOptions, ask: Prompter, say: Say): Promise<SetupResult> {
  const dirAnswer = o.dir ?? (o.yes ? DEFAULT_DIR : await ask.text({
    message: "Folder for the server's files",
    defaultValue: DEFAULT_DIR,
  }));
  const dir = resolve(dirAnswer);
  const existing = await readConfig(dir);
  if (existing) return await changeExisting(dir, existing, o, ask, say);

  // Every answer first, each checked as it comes: nothing is made or written until all are good,
  // so a run that stops on a bad answer leaves nothing behind and a re-run decides the same.
  let dbAnswer = o.db;
  if (dbAnswer === undefined && !o.yes) {
    const kind = await ask.select("Database", [
      { value: "sqlite", label: `SQLite in the folder (${SQLITE_FILE})` },
      { value: "mysql", label: "MySQL or MariaDB" },
    ]);
    dbAnswer = kind === "sqlite" ? "sqlite" : await ask.text({
      message: "MySQL URL (mysql://user:password@host:3306/database)",
      defaultValue: "mysql://pesuchat@127.0.0.1:3306/pesuchat",
      validate: (v) => problemWithDb(v),
    });
  }
  const { database, dbPassword } = parseDb(dbAnswer ?? "sqlite");
  const registration = registrationFlag(o.registration);
  let password = o.password !== undefined ? o.password : o.envPassword;
  if (password === undefined) password = o.yes ? null : await askNewPassword(ask);
  checkLaunchPassword(password);
  const hostname = o.hostname ?? (o.yes ? DEFAULT_HOSTNAME : await ask.text({
    message: "Listen on address",
    defaultValue: DEFAULT_HOSTNAME,
    validate: problemWithAddress,
  }));
  const addressProblem = problemWithAddress(hostname);
  if (addressProblem) throw new ConfigError(`--listen: ${addressProblem}`);
  await mustBindable(hostname);
  const port = o.port ?? (o.yes ? DEFAULT_PORT : Number(
    await ask.text({
      message: "Port",
      defaultValue: String(DEFAULT_PORT),
      validate: (v) => isPort(Number(v)) ? undefined : "expected a port from 1 to 65535",
    }),
  ));

  // 1. The folder.
  const fresh = await Deno.stat(dir).then(() => false, () => true);
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 }).catch((e) => {
    throw new ConfigError(
      `cannot create the folder ${dir}: ${(e as Error).message}`,
      "choose a folder this user can write (--dir)",
    );
  });
  say(`1/5 folder: ${dir}`);

  // 2. The database and its tables: reachable before any key is made. A folder this run made is
  // removed again when the database cannot be reached, so a re-run starts from the same place.
  const m = await migrateStore(dir, database, dbPassword).catch(async (e) => {
    if (fresh) await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  });
  say(
    `2/5 database: ${
      database.kind === "sqlite" ? join(dir, database.file) : database.url
    } (schema ${m.to})`,
  );

  // 3. The server keypair.
  const secrets = await newSecrets(dbPassword);
  const fp = await fingerprint(secrets.serverKey.publicKey);
  say(`3/5 server key fingerprint: ${fp}`);

  // 4. The launch password.
  await writeFileAtomic(join(dir, KEYSTORE_FILE), await sealKeystore(secrets, password), 0o600);
  say(
    password === null
      ? `4/5 keystore: ${KEYSTORE_FILE}, NOT protected by a password (anyone who can read it can pose as this server)`
      : `4/5 keystore: ${KEYSTORE_FILE}, sealed with the launch password`,
  );

  // 5. Address and port; server.json last, so a folder without it is not set up.
  const config: ServerConfig = {
    version: 1,
    listen: { hostname, port },
    database,
    passwordProtected: password !== null,
    createdAt: new Date().toISOString(),
    ...(registration ? { registration } : {}),
  };
  await writeConfig(dir, config);
  say(`5/5 address: ${hostname}:${port}; sign-up: ${registration ?? "open"}`);
  return { created: true, config, fingerprint: fp, dir };
}

function registrationFlag(v: string | undefined): RegistrationMode | undefined {
  if (v === undefined) return undefined;
  if (!(REGISTRATION_MODES as readonly string[]).includes(v)) {
    throw new ConfigError(
      `--registration: expected open, token or closed, got ${JSON.stringify(v.slice(0, 20))}`,
    );
  }
  return v as RegistrationMode;
}

function checkLaunchPassword(password: string | null): void {
  if (password !== null && password.length < MIN_LAUNCH_PASSWORD) {
    throw new ConfigError(
      `the launch password must have at least ${MIN_LAUNCH_PASSWORD} characters`,
    );
  }
}

/** What is wrong with a --db answer, never quoting it (a URL can hold a password). */
function problemWithDb(answer: string): string | undefined {
  try {
    parseDb(answer);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

function parseDb(answer: string): { database: DatabaseConfig; dbPassword?: string } {
  if (answer === "sqlite") return { database: { kind: "sqlite", file: SQLITE_FILE } };
  if (!answer.startsWith("mysql://")) {
    throw new ConfigError(
      `unknown database ${JSON.stringify(answer.split(":")[0]!.slice(0, 20))}`,
      "use --db sqlite or --db mysql://user:pass@host:port/db",
    );
  }
  let split;
  try {
    split = splitMysqlUrl(answer);
    const u = new URL(split.url);
    if (!u.hostname || u.pathname.length < 2) throw new Error("incomplete");
  } catch {
    throw new ConfigError(
      "the database URL is not a valid mysql://user:pass@host:port/database URL",
      "check it (the URL is not repeated here because it may hold a password)",
    );
  }
  return { database: { kind: "mysql", url: split.url }, dbPassword: split.password };
}

/** What is wrong with a listen address: an IP address or a host name. */
function problemWithAddress(v: string): string | undefined {
  if (
    isIP(v) ||
    /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/
      .test(v)
  ) {
    return undefined;
  }
  return `expected an IP address or a host name, got ${JSON.stringify(v.slice(0, 64))}`;
}

/** Throws unless this machine can listen on `hostname` (on a free port, closed at once). */
async function mustBindable(hostname: string): Promise<void> {
  try {
    Deno.listen({ hostname, port: 0, transport: "tcp" }).close();
  } catch (e) {
    throw new ConfigError(
      `cannot listen on ${hostname}: ${(e as Error).message}`,
      "choose an address of this machine (127.0.0.1, 0.0.0.0, or one of its own addresses)",
    );
  }
  await Promise.resolve();
}

async function migrateStore(
  dir: string,
  database: DatabaseConfig,
  dbPassword: string | undefined,
): Promise<{ from: number; to: number }> {
  return await explainingDatabase(database, dir, async () => {
    const store = await openStore(storeLocation(dir, database, dbPassword));
    try {
      return await store.migrate();
    } finally {
      await store.close();
    }
  });
}

async function askNewPassword(ask: Prompter): Promise<string> {
  for (;;) {
    const a = await ask.password(
      `Launch password (at least ${MIN_LAUNCH_PASSWORD} characters; asked at every start)`,
    );
    if (a.length < MIN_LAUNCH_PASSWORD) {
      ask.note(`too short: at least ${MIN_LAUNCH_PASSWORD} characters`);
      continue;
    }
    const b = await ask.password("Launch password again");
    if (a === b) return a;
    ask.note("the two passwords differ; try again");
  }
}

async function changeExisting(
  dir: string,
  config: ServerConfig,
  o: SetupOptions,
  ask: Prompter,
  say: Say,
): Promise<SetupResult> {
  const keystorePath = join(dir, KEYSTORE_FILE);
  const keystoreText = await Deno.readTextFile(keystorePath);
  const describe = () =>
    `${dir} is set up already: ${config.database.kind} database, listening on ${config.listen.hostname}:${config.listen.port}, ` +
    `keystore ${config.passwordProtected ? "sealed with a launch password" : "without a password"}`;
  const wanted = await differences(config, keystoreText, o);
  if (!o.change) {
    if (wanted.length > 0) {
      throw new ConfigError(
        `${dir} is set up already, and ${wanted.join(", ")} would change it`,
        `to change it, add --change: pesuchat server setup --dir ${dir} --change ${
          wanted.join(" ")
        }`,
      );
    }
    say(describe());
    say(
      "nothing was changed; to change the address, port, database or launch password add --change with --listen, --port, --db or --password-file",
    );
    const secrets = config.passwordProtected ? null : await openKeystore(keystoreText, null);
    const fp = secrets
      ? await fingerprint(secrets.serverKey.publicKey)
      : "(sealed: shown by server run)";
    return { created: false, config, fingerprint: fp, dir };
  }
  // Everything checked before anything is written.
  const next: ServerConfig = {
    ...config,
    listen: { hostname: o.hostname ?? config.listen.hostname, port: o.port ?? config.listen.port },
  };
  if (o.hostname !== undefined) {
    const problem = problemWithAddress(o.hostname);
    if (problem) throw new ConfigError(`--listen: ${problem}`);
    await mustBindable(o.hostname);
  }
  if (o.password !== undefined) checkLaunchPassword(o.password);
  const registration = registrationFlag(o.registration);
  if (registration) next.registration = registration;
  let db: { database: DatabaseConfig; dbPassword?: string } | null = null;
  if (o.db !== undefined) {
    db = parseDb(o.db);
    if (db.database.kind !== config.database.kind) {
      throw new ConfigError(
        `this server keeps its data in ${config.database.kind}; setup does not move it to ${db.database.kind}`,
        "--change --db changes where the same database is reached and its password",
      );
    }
    next.database = db.database;
  }
  // Re-sealing happens only for a new launch password or a new database password, and then with
  // the launch password asked for or the current one: never with whatever the environment holds.
  if (o.password !== undefined || db) {
    let current: string | null = null;
    if (keystoreNeedsPassword(keystoreText)) {
      current = o.currentPassword ?? o.envPassword ?? await ask.password("Current launch password");
    }
    const secrets = await openKeystore(keystoreText, current).catch((e) => {
      if (e instanceof KeystoreError && e.code === "wrong_password") {
        throw new ConfigError(
          "the current launch password does not open the keystore; nothing was changed",
          "give it with PESUCHAT_CURRENT_PASSWORD, or type it when asked",
        );
      }
      throw e;
    });
    if (db) {
      secrets.dbPassword = db.dbPassword;
      if (db.dbPassword === undefined) delete secrets.dbPassword;
      const m = await migrateStore(dir, db.database, db.dbPassword);
      say(`database: ${storeName(dir, db.database)} reached (schema ${m.to})`);
    }
    const sealWith = o.password !== undefined ? o.password : current;
    await writeFileAtomic(keystorePath, await sealKeystore(secrets, sealWith), 0o600);
    next.passwordProtected = sealWith !== null;
    say(
      o.password === undefined
        ? "keystore: sealed again with the same launch password"
        : o.password === null
        ? "keystore: password removed"
        : "keystore: sealed with the new launch password",
    );
  }
  await writeConfig(dir, next);
  say(
    `address: ${next.listen.hostname}:${next.listen.port}; sign-up: ${next.registration ?? "open"}`,
  );
  return { created: false, config: next, fingerprint: "(unchanged)", dir };
}

function storeName(dir: string, d: DatabaseConfig): string {
  return d.kind === "sqlite" ? join(dir, d.file) : d.url;
}

/** True when `o.db` names the database the server uses, with the same password. */
async function sameDb(
  config: ServerConfig,
  keystoreText: string,
  o: SetupOptions,
): Promise<boolean> {
  if (problemWithDb(o.db!) !== undefined) return false;
  const { database, dbPassword } = parseDb(o.db!);
  if (database.kind !== config.database.kind) return false;
  if (database.kind === "sqlite" || config.database.kind === "sqlite") return true;
  if (database.url !== config.database.url) return false;
  const password = keystoreNeedsPassword(keystoreText) ? o.envPassword ?? o.password : null;
  if (password === undefined) return dbPassword === undefined;
  const secrets = await openKeystore(keystoreText, password).catch(() => null);
  return secrets !== null && secrets.dbPassword === dbPassword;
}

/** The flags of `o` that differ from the existing setup, as they were given. */
async function differences(
  config: ServerConfig,
  keystoreText: string,
  o: SetupOptions,
): Promise<string[]> {
  const out: string[] = [];
  if (o.hostname !== undefined && o.hostname !== config.listen.hostname) {
    out.push(`--listen ${o.hostname}`);
  }
  if (o.port !== undefined && o.port !== config.listen.port) out.push(`--port ${o.port}`);
  if (o.registration !== undefined && o.registration !== (config.registration ?? "open")) {
    out.push(`--registration ${o.registration}`);
  }
  if (o.db !== undefined && !(await sameDb(config, keystoreText, o))) out.push("--db …");
  if (o.password === null && config.passwordProtected) out.push("--no-password");
  if (typeof o.password === "string") {
    const opens = await openKeystore(keystoreText, o.password).then(() => true, () => false);
    if (!opens) out.push("--password-file …");
  }
  return out;
}

/** True when `dir` holds a set-up server. */
export async function isSetUp(dir: string): Promise<boolean> {
  try {
    await Deno.stat(join(dir, CONFIG_FILE));
    return true;
  } catch {
    return false;
  }
}
