/**
 * The `pesuchat server …` commands: flags in, setup or run out, errors as one sentence and a hint
 * on stderr with the program's prefix, never a stack trace.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { ConfigError, DEFAULT_DIR, isPort } from "./config.ts";
import { Logger } from "./log.ts";
import { defaultPrompter, PromptCancelled } from "./prompts.ts";
import { startFromDir, stopOnSignal } from "./run.ts";
import { joinCluster } from "./join.ts";
import { setup } from "./setup.ts";
import { invite } from "./invite.ts";
import { StoreError } from "../sql/store.ts";
import { KeystoreError } from "./keystore.ts";

/** The flags of `server setup`. */
export const SETUP_OPTIONS = {
  dir: { type: "string" },
  db: { type: "string" },
  "password-file": { type: "string" },
  "no-password": { type: "boolean" },
  listen: { type: "string" },
  port: { type: "string" },
  yes: { type: "boolean", short: "y" },
  change: { type: "boolean" },
  registration: { type: "string" },
  join: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The flags of `server invite`. */
export const INVITE_OPTIONS = {
  dir: { type: "string" },
  "password-file": { type: "string" },
  revoke: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** The flags of `server run`. */
export const RUN_OPTIONS = {
  dir: { type: "string" },
  "password-file": { type: "string" },
  init: { type: "boolean" },
  listen: { type: "string" },
  port: { type: "string" },
  "max-connections": { type: "string" },
  "requests-per-second": { type: "string" },
  "signups-per-hour": { type: "string" },
  bus: { type: "string" },
  "sweep-seconds": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

/** `pesuchat server setup --help`. */
export const SETUP_HELP = `usage: pesuchat server setup [flags]

Creates a server in a folder in five steps; each is asked unless given as a flag.

  --dir DIR              the server's folder (default ${DEFAULT_DIR})
  --db sqlite|URL        SQLite in the folder (default) or mysql://user:pass@host:port/db
  --password-file FILE   the launch password, read from FILE (or set PESUCHAT_PASSWORD)
  --no-password          no launch password: the keystore is protected only by file mode
  --listen ADDRESS       the address to listen on (default 127.0.0.1)
  --port PORT            the TCP port (default 7400)
  --registration MODE    who may sign up: open (anyone who reaches the port; the default),
                         token (with a one-time invite from 'pesuchat server invite'), closed
  --yes                  take the default for anything not given instead of asking
  --change               on a folder set up already: apply --listen, --port, --registration,
                         --db (the same
                         kind of database: a new URL or password), --password-file or
                         --no-password; the server key never changes. Without --change such
                         a flag on a folder set up already is refused.
  --join FROM            a new node of the cluster FROM belongs to: FROM's keystore and
                         database in --dir (no new key); --listen and --port may differ

The environment's PESUCHAT_PASSWORD (or PESUCHAT_CURRENT_PASSWORD) is taken as the current
launch password when --change must re-seal the keystore; only --password-file sets a new one.`;

/** `pesuchat server invite --help`. */
export const INVITE_HELP = `usage: pesuchat server invite [flags]

Prints a new one-time invite token for a server whose registration is "token" (the server may be
running). Give it to one person: the sign-up form asks for it. Only its hash is kept.

  --dir DIR              the server's folder (default ${DEFAULT_DIR})
  --password-file FILE   the launch password (or PESUCHAT_PASSWORD / PESUCHAT_PASSWORD_FILE)
  --revoke TOKEN         revoke a token that was not used yet instead of making one`;

/** `pesuchat server run --help`. */
export const RUN_HELP = `usage: pesuchat server run [flags]

  --dir DIR                  the server's folder (default ${DEFAULT_DIR})
  --password-file FILE       read the launch password from FILE (or set PESUCHAT_PASSWORD
                             or PESUCHAT_PASSWORD_FILE); otherwise it is asked
  --init                     set the folder up first, unattended, if it is not set up, and
                             start an SQLite database that is missing or empty afresh
  --listen ADDRESS, --port PORT   override the configured address for this run
  --max-connections N, --requests-per-second N, --signups-per-hour N
                             override limits for this run (sign-ups are counted per address)
  --bus nats://HOST:PORT|redis://HOST:PORT   run as one node of several on one MySQL/MariaDB
                             database (see docs/cluster.md)
  --sweep-seconds N          with --bus: read every connection's queue every N seconds even
                             when the bus is up, for notices it lost (default 10; 0 never)`;

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // not granted: treated as unset
  }
}

async function passwordFrom(file: string | undefined): Promise<string | undefined> {
  const path = file ?? env("PESUCHAT_PASSWORD_FILE");
  if (path) {
    try {
      return (await Deno.readTextFile(path)).replace(/\r?\n$/, "");
    } catch (e) {
      throw new ConfigError(`cannot read the password file ${path}: ${(e as Error).message}`);
    }
  }
  return env("PESUCHAT_PASSWORD");
}

/** A flag's value is not one the command takes: exit 2 with the command's usage. */
class FlagError extends ConfigError {
  override name = "FlagError";
  constructor(message: string, readonly usage: string) {
    super(message);
  }
}

function portFlag(v: string | undefined, usage: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!isPort(n)) {
    throw new FlagError(`--port: expected a port from 1 to 65535, got ${JSON.stringify(v)}`, usage);
  }
  return n;
}

function sweepFlag(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0 || n > 3600) {
    throw new FlagError(
      `--sweep-seconds: expected seconds from 0 to 3600, got ${JSON.stringify(v)}`,
      RUN_HELP,
    );
  }
  return n * 1000;
}

function countFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) {
    throw new FlagError(
      `--${name}: expected a positive whole number, got ${JSON.stringify(v)}`,
      RUN_HELP,
    );
  }
  return n;
}

/** Runs `pesuchat server <sub> args`; returns the exit code. */
export async function serverCommand(sub: string, args: string[], version: string): Promise<number> {
  try {
    if (sub === "setup") return await setupCommand(args);
    if (sub === "invite") return await inviteCommand(args);
    return await runCommand(args, version);
  } catch (e) {
    return report(e);
  }
}

async function setupCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: SETUP_OPTIONS });
  if (values.help) {
    console.log(SETUP_HELP);
    return 0;
  }
  // Only the flags ask for a new launch password; the environment's is the current one (or a new
  // server's), so an exported PESUCHAT_PASSWORD never re-seals an existing keystore by itself.
  const password = values["no-password"]
    ? null
    : values["password-file"] !== undefined
    ? await passwordFrom(values["password-file"])
    : undefined;
  if (values.join !== undefined) {
    const dir = values.dir ?? DEFAULT_DIR;
    const r = await joinCluster(
      {
        from: values.join,
        dir,
        password: password ?? await passwordFrom(undefined),
        hostname: values.listen,
        port: portFlag(values.port, SETUP_HELP),
      },
      (line) => console.error(`pesuchat: ${line}`),
    );
    console.error(`pesuchat: start it with: pesuchat server run --dir ${dir} --bus URL`);
    console.error(`pesuchat: the server key is the cluster's: ${r.fingerprint}`);
    return 0;
  }
  const r = await setup(
    {
      dir: values.dir,
      db: values.db,
      hostname: values.listen,
      port: portFlag(values.port, SETUP_HELP),
      password,
      envPassword: await passwordFrom(undefined),
      registration: values.registration,
      yes: values.yes ?? false,
      change: values.change ?? false,
      currentPassword: env("PESUCHAT_CURRENT_PASSWORD"),
    },
    defaultPrompter(),
    (line) => console.error(`pesuchat: ${line}`),
  );
  if (r.created) {
    console.error(`pesuchat: ready; start it with: pesuchat server run --dir ${r.dir}`);
    console.error(`pesuchat: clients check this fingerprint on first contact: ${r.fingerprint}`);
  }
  return 0;
}

async function inviteCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: INVITE_OPTIONS });
  if (values.help) {
    console.log(INVITE_HELP);
    return 0;
  }
  const token = await invite(
    {
      dir: values.dir ?? DEFAULT_DIR,
      password: await passwordFrom(values["password-file"]),
      revoke: values.revoke,
    },
    defaultPrompter(),
  );
  if (token === null) {
    console.error("pesuchat: the invite token was revoked");
  } else {
    console.log(token);
    console.error("pesuchat: a one-time invite token; the sign-up form asks for it");
  }
  return 0;
}

async function runCommand(args: string[], version: string): Promise<number> {
  const { values } = parseArgs({ args, options: RUN_OPTIONS });
  if (values.help) {
    console.log(RUN_HELP);
    return 0;
  }
  const logger = new Logger();
  const rps = countFlag("requests-per-second", values["requests-per-second"]);
  const maxConnections = countFlag("max-connections", values["max-connections"]);
  const signups = countFlag("signups-per-hour", values["signups-per-hour"]);
  const limits = {
    ...(rps ? { requestsPerSecond: rps, requestBurst: rps * 2 } : {}),
    ...(maxConnections ? { maxConnections } : {}),
    ...(signups ? { signupsPerAddress: signups } : {}),
  };
  const untilSignal = stopOnSignal(logger);
  const server = await startFromDir(
    {
      dir: values.dir ?? DEFAULT_DIR,
      password: await passwordFrom(values["password-file"]),
      init: values.init ?? false,
      hostname: values.listen,
      port: portFlag(values.port, RUN_HELP),
      limits,
      version,
      bus: values.bus,
      sweepMs: sweepFlag(values["sweep-seconds"]),
    },
    defaultPrompter(),
    logger,
  );
  await untilSignal(server);
  return 0;
}

function report(e: unknown): number {
  if (e instanceof FlagError) {
    console.error(`pesuchat: ${e.message}`);
    console.error("");
    console.error(e.usage);
    return 2;
  }
  if (e instanceof ConfigError) {
    console.error(`pesuchat: ${e.message}`);
    if (e.hint) console.error(`pesuchat: ${e.hint}`);
    return 1;
  }
  if (e instanceof PromptCancelled) {
    console.error("pesuchat: cancelled; nothing more was changed");
    return 130;
  }
  if (e instanceof StoreError) {
    console.error(`pesuchat: database: ${e.message}`);
    if (e.code === "unavailable") {
      console.error("pesuchat: is the database running, and are the URL and password right?");
    }
    return 1;
  }
  if (e instanceof KeystoreError) {
    console.error(`pesuchat: keystore: ${e.message}`);
    return 1;
  }
  if (e instanceof Deno.errors.AddrInUse) {
    console.error(`pesuchat: the address is in use: ${e.message}`);
    console.error("pesuchat: stop the other program or choose another --port");
    return 1;
  }
  if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
    console.error(`pesuchat: not permitted: ${(e as Error).message}`);
    return 1;
  }
  if (e instanceof TypeError && /parseArgs|Unknown option|argument/i.test(e.message)) {
    console.error(`pesuchat: ${e.message}`);
    console.error("pesuchat: see --help");
    return 2;
  }
  console.error(`pesuchat: unexpected error: ${(e as Error)?.message ?? String(e)}`);
  return 1;
}
