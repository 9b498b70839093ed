/**
 * `pesuchat server setup`: the five steps — folder, database and tables, server keypair, launch
 * password, address and port — asked with defaults, or each given as a flag for unattended use.
 * It never destroys data: on a folder that is set up already it says what exists and stops,
 * unless asked to change the address, the port or the launch password.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { openStore } from "../sql/mod.ts";
import {
  CONFIG_FILE,
  ConfigError,
  type DatabaseConfig,
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
import { keystoreNeedsPassword, newSecrets, openKeystore, sealKeystore } from "./keystore.ts";
import type { Prompter } from "./prompts.ts";
import { fingerprint } from "../protocol/fingerprint.ts";

/** Shortest launch password accepted. */
export const MIN_LAUNCH_PASSWORD = 8;

/** What setup was told by flags; anything missing is asked, or defaulted with `yes`. */
export interface SetupOptions {
  dir: string;
  db?: string;
  hostname?: string;
  port?: number;
  /** The launch password (from a file or the environment); null means --no-password. */
  password?: string | null;
  /** Take defaults for everything not given instead of asking. */
  yes: boolean;
  /** On an existing setup, apply the given address, port or password instead of stopping. */
  change: boolean;
  /** For --change of the password: the current one. */
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
  const dir = resolve(o.dir);
  const existing = await readConfig(dir);
  if (existing) return await changeExisting(dir, existing, o, ask, say);

  // 1. The folder.
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  say(`1/5 folder: ${dir}`);

  // 2. The database and its tables.
  let dbAnswer = o.db;
  if (dbAnswer === undefined && !o.yes) {
    const kind = await ask.select("Database", [
      { value: "sqlite", label: `SQLite in the folder (${SQLITE_FILE})` },
      { value: "mysql", label: "MySQL or MariaDB" },
    ]);
    dbAnswer = kind === "sqlite" ? "sqlite" : await ask.text({
      message: "MySQL URL (mysql://user:password@host:3306/database)",
      defaultValue: "mysql://pesuchat@127.0.0.1:3306/pesuchat",
      validate: (v) => v.startsWith("mysql://") ? undefined : "expected a mysql:// URL",
    });
  }
  let database: DatabaseConfig;
  let dbPassword: string | undefined;
  if (dbAnswer === undefined || dbAnswer === "sqlite") {
    database = { kind: "sqlite", file: SQLITE_FILE };
  } else if (dbAnswer.startsWith("mysql://")) {
    const split = splitMysqlUrl(dbAnswer);
    database = { kind: "mysql", url: split.url };
    dbPassword = split.password;
  } else {
    throw new ConfigError(
      `unknown database ${JSON.stringify(dbAnswer)}`,
      "use --db sqlite or --db mysql://user:pass@host:port/db",
    );
  }
  const store = await openStore(storeLocation(dir, database, dbPassword));
  try {
    const m = await store.migrate();
    say(
      `2/5 database: ${
        database.kind === "sqlite" ? join(dir, database.file) : database.url
      } (schema ${m.to})`,
    );
  } finally {
    await store.close();
  }

  // 3. The server keypair.
  const secrets = await newSecrets(dbPassword);
  const fp = await fingerprint(secrets.serverKey.publicKey);
  say(`3/5 server key fingerprint: ${fp}`);

  // 4. The launch password.
  let password = o.password;
  if (password === undefined) {
    password = o.yes ? null : await askNewPassword(ask);
  }
  if (password !== null && password.length < MIN_LAUNCH_PASSWORD) {
    throw new ConfigError(
      `the launch password must have at least ${MIN_LAUNCH_PASSWORD} characters`,
    );
  }
  await writeFileAtomic(join(dir, KEYSTORE_FILE), await sealKeystore(secrets, password), 0o600);
  say(
    password === null
      ? `4/5 keystore: ${KEYSTORE_FILE}, NOT protected by a password (anyone who can read it can pose as this server)`
      : `4/5 keystore: ${KEYSTORE_FILE}, sealed with the launch password`,
  );

  // 5. Address and port.
  const hostname = o.hostname ?? (o.yes ? DEFAULT_HOSTNAME : await ask.text({
    message: "Listen on address",
    defaultValue: DEFAULT_HOSTNAME,
  }));
  const port = o.port ?? (o.yes ? DEFAULT_PORT : Number(
    await ask.text({
      message: "Port",
      defaultValue: String(DEFAULT_PORT),
      validate: (v) => isPort(Number(v)) ? undefined : "expected a port from 1 to 65535",
    }),
  ));
  const config: ServerConfig = {
    version: 1,
    listen: { hostname, port },
    database,
    passwordProtected: password !== null,
    createdAt: new Date().toISOString(),
  };
  await writeConfig(dir, config);
  say(`5/5 address: ${hostname}:${port}`);
  return { created: true, config, fingerprint: fp, dir };
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
  const keystoreText = await Deno.readTextFile(join(dir, KEYSTORE_FILE));
  const describe = () =>
    `${dir} is set up already: ${config.database.kind} database, listening on ${config.listen.hostname}:${config.listen.port}, ` +
    `keystore ${config.passwordProtected ? "sealed with a launch password" : "without a password"}`;
  if (!o.change) {
    say(describe());
    say(
      "nothing was changed; to change the address, port or launch password add --change with --listen, --port or --password-file",
    );
    const secrets = config.passwordProtected ? null : await openKeystore(keystoreText, null);
    const fp = secrets
      ? await fingerprint(secrets.serverKey.publicKey)
      : "(sealed: shown by server run)";
    return { created: false, config, fingerprint: fp, dir };
  }
  if (o.db !== undefined) {
    throw new ConfigError(
      "the database of an existing setup cannot be changed by setup",
      "set up a new folder instead",
    );
  }
  const next: ServerConfig = {
    ...config,
    listen: { hostname: o.hostname ?? config.listen.hostname, port: o.port ?? config.listen.port },
  };
  let current: string | null = null;
  if (keystoreNeedsPassword(keystoreText)) {
    current = o.currentPassword ?? await ask.password("Current launch password");
  }
  const secrets = await openKeystore(keystoreText, current);
  if (o.password !== undefined) {
    if (o.password !== null && o.password.length < MIN_LAUNCH_PASSWORD) {
      throw new ConfigError(
        `the launch password must have at least ${MIN_LAUNCH_PASSWORD} characters`,
      );
    }
    await writeFileAtomic(join(dir, KEYSTORE_FILE), await sealKeystore(secrets, o.password), 0o600);
    next.passwordProtected = o.password !== null;
    say(
      o.password === null
        ? "keystore: password removed"
        : "keystore: sealed with the new launch password",
    );
  }
  await writeConfig(dir, next);
  say(`address: ${next.listen.hostname}:${next.listen.port}`);
  return {
    created: false,
    config: next,
    fingerprint: await fingerprint(secrets.serverKey.publicKey),
    dir,
  };
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
