/**
 * `pesuchat server run`: unlock the keystore, bring the schema forward, listen, and shut down
 * cleanly on SIGINT or SIGTERM (stop accepting, finish queued commits, close the database).
 *
 * @module
 */

import { join, resolve } from "node:path";
import { openStore } from "../sql/mod.ts";
import { ConfigError, KEYSTORE_FILE, readConfig, storeLocation } from "./config.ts";
import {
  KeystoreError,
  keystoreNeedsPassword,
  type KeystoreSecrets,
  openKeystore,
} from "./keystore.ts";
import { clusterSubject, joinDatabase } from "./cluster_join.ts";
import { Logger } from "./log.ts";
import type { Prompter } from "./prompts.ts";
import { explainingDatabase } from "./db_problems.ts";
import { PesuchatServer, type ServerLimits } from "./server.ts";
import { setup } from "./setup.ts";

/** What `server run` was told. */
export interface RunOptions {
  dir: string;
  /** The launch password from a file or the environment, when given. */
  password?: string;
  /** Set up the folder unattended first when it is not set up (the README's quick start). */
  init: boolean;
  limits?: Partial<ServerLimits>;
  /** Override the configured address or port for this run. */
  hostname?: string;
  port?: number;
  version: string;
  /** The bus to other nodes: nats://HOST:PORT or redis://HOST:PORT. */
  bus?: string;
  /** How often a node reads its connections' queues even with the bus up; 0 never. */
  sweepMs?: number;
}

/** Starts a server from its folder; returns it running. */
export async function startFromDir(
  o: RunOptions,
  ask: Prompter,
  logger: Logger,
): Promise<PesuchatServer> {
  const dir = resolve(o.dir);
  let config = await readConfig(dir);
  if (!config) {
    if (!o.init) {
      throw new ConfigError(`${dir} is not set up`, `run: pesuchat server setup --dir ${o.dir}`);
    }
    const r = await setup(
      { dir, yes: true, change: false, password: o.password ?? null },
      ask,
      (line) => logger.info(`setup ${line}`),
    );
    config = r.config;
  }
  const secrets = await unlock(dir, o.password, ask);
  if (config.database.kind === "sqlite" && !o.init) {
    await mustHoldData(join(dir, config.database.file));
  }
  const database = config.database;
  const location = storeLocation(dir, database, secrets.dbPassword);
  const store = await explainingDatabase(database, dir, () => openStore(location));
  let node: Awaited<ReturnType<typeof joinDatabase>> | null = null;
  try {
    const m = await explainingDatabase(database, dir, () => store.migrate());
    if (m.from !== m.to) logger.info("database migrated", { from: m.from, to: m.to });
    node = await joinDatabase(location, o.bus, logger);
    const server = await PesuchatServer.start({
      store,
      secrets,
      hostname: o.hostname ?? config.listen.hostname,
      port: o.port ?? config.listen.port,
      logger,
      limits: { ...config.limits, ...o.limits },
      version: o.version,
      registration: config.registration,
      cluster: o.bus
        ? {
          bus: o.bus,
          subject: await clusterSubject(secrets.serverKey.publicKey, node.database),
          sweepMs: o.sweepMs,
        }
        : undefined,
      release: node.lock ? () => node!.lock!.release() : undefined,
    });
    logger.info("listening", {
      addr: `${server.hostname}:${server.port}`,
      db: config.database.kind,
      bus: server.cluster?.busUrl,
      node: server.cluster?.nodeId,
    });
    logger.info("server key", { fingerprint: server.fingerprint });
    return server;
  } catch (e) {
    await node?.lock?.release();
    await store.close().catch(() => {});
    throw e;
  }
}

/** Opens the keystore of the server in `dir`, with `password` or by asking on a terminal. */
export async function unlock(
  dir: string,
  givenPassword: string | undefined,
  ask: Prompter,
): Promise<KeystoreSecrets> {
  const text = await Deno.readTextFile(join(dir, KEYSTORE_FILE)).catch((e) => {
    throw new ConfigError(`cannot read the keystore in ${dir}: ${(e as Error).message}`);
  });
  let password: string | null = null;
  if (keystoreNeedsPassword(text)) {
    password = givenPassword ??
      (Deno.stdin.isTerminal() ? await ask.password("Launch password") : null);
    if (password === null) {
      throw new ConfigError(
        "the keystore needs the launch password",
        "give it with --password-file FILE or PESUCHAT_PASSWORD, or run on a terminal to be asked",
      );
    }
  }
  let secrets;
  try {
    secrets = await openKeystore(text, password);
  } catch (e) {
    if (e instanceof KeystoreError && e.code === "wrong_password") {
      throw new ConfigError(
        "wrong launch password: the keystore did not open",
        "nothing was started; try again",
      );
    }
    if (e instanceof KeystoreError && e.code === "corrupt") {
      throw new ConfigError(
        `${join(dir, KEYSTORE_FILE)}: ${e.message}`,
        "restore keystore.json from a backup; without it clients cannot trust this server again",
      );
    }
    throw e;
  }
  return secrets;
}

/**
 * Refuses an SQLite file that is gone or empty: opening it would make a fresh server with no
 * accounts, and every client would find its account missing.
 */
async function mustHoldData(file: string): Promise<void> {
  let size: number;
  try {
    size = (await Deno.stat(file)).size;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    size = -1;
  }
  if (size > 0) return;
  throw new ConfigError(
    `the database ${file} is ${size < 0 ? "missing" : "empty"}; nothing was started`,
    "restore it from a backup; to start afresh with no accounts, run again with --init",
  );
}

/**
 * Listens for SIGINT and SIGTERM from now on (so a signal during start-up is not lost) and
 * returns a function that waits for one, then shuts `server` down cleanly.
 */
export function stopOnSignal(logger: Logger): (server: PesuchatServer) => Promise<void> {
  const { promise, resolve } = Promise.withResolvers<Deno.Signal>();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const removers = signals.map((s) => {
    const h = () => resolve(s);
    Deno.addSignalListener(s, h);
    return () => Deno.removeSignalListener(s, h);
  });
  return async (server) => {
    const signal = await promise;
    logger.info("stopping", { signal });
    await server.shutdown();
    for (const off of removers) off();
    logger.info("stopped");
  };
}
