/**
 * `pesuchat server setup --join FROM --dir DIR`: a new node for an existing cluster, made from
 * another node's folder. The new node gets the same keystore (so the same server key: clients
 * trust it already, and nothing is registered anywhere) and the same database; only the address
 * it listens on may differ. The keystore is opened once first, so a damaged copy or a wrong
 * launch password shows now rather than at the first start.
 *
 * @module
 */

import { join, resolve } from "node:path";
import { fingerprint } from "../protocol/fingerprint.ts";
import {
  CONFIG_FILE,
  ConfigError,
  KEYSTORE_FILE,
  readConfig,
  writeConfig,
  writeFileAtomic,
} from "./config.ts";
import { KeystoreError, keystoreNeedsPassword, openKeystore } from "./keystore.ts";

/** What `--join` was told. */
export interface JoinOptions {
  /** The folder of a node of the cluster (or a copy of it). */
  from: string;
  /** The new node's folder; must not be set up. */
  dir: string;
  /** The launch password, to check the keystore opens; required when it is sealed. */
  password: string | null | undefined;
  hostname?: string;
  port?: number;
}

/** Makes the new node's folder; returns the server key's fingerprint. */
export async function joinCluster(
  o: JoinOptions,
  say: (line: string) => void,
): Promise<{ fingerprint: string }> {
  const from = resolve(o.from);
  const dir = resolve(o.dir);
  if (from === dir) throw new ConfigError("--join names the folder being set up");
  const config = await readConfig(from);
  if (!config) {
    throw new ConfigError(
      `${from} is not a pesuchat server folder (no ${CONFIG_FILE})`,
      "--join takes the folder of a node that is set up already",
    );
  }
  if (config.database.kind !== "mysql") {
    throw new ConfigError(
      `the server in ${from} uses SQLite, which only one machine can use`,
      "nodes of a cluster share a MySQL or MariaDB database (see docs/cluster.md)",
    );
  }
  if (await readConfig(dir)) {
    throw new ConfigError(`${dir} is set up already; nothing was changed`);
  }
  const keystore = await Deno.readTextFile(join(from, KEYSTORE_FILE)).catch((e) => {
    throw new ConfigError(`cannot read the keystore in ${from}: ${(e as Error).message}`);
  });
  if (keystoreNeedsPassword(keystore) && !o.password) {
    throw new ConfigError(
      "the keystore is sealed with the launch password; give it to check the copy opens",
      "--password-file FILE or PESUCHAT_PASSWORD",
    );
  }
  let secrets;
  try {
    secrets = await openKeystore(keystore, o.password ?? null);
  } catch (e) {
    if (e instanceof KeystoreError && e.code === "wrong_password") {
      throw new ConfigError("wrong launch password: the keystore did not open; nothing was made");
    }
    throw e;
  }
  await Deno.mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFileAtomic(join(dir, KEYSTORE_FILE), keystore, 0o600);
  await writeConfig(dir, {
    ...config,
    listen: { hostname: o.hostname ?? config.listen.hostname, port: o.port ?? config.listen.port },
    createdAt: new Date().toISOString(),
  });
  const fp = await fingerprint(secrets.serverKey.publicKey);
  say(`joined: ${dir} has the keystore and database of ${from}`);
  say(`listening on ${o.hostname ?? config.listen.hostname}:${o.port ?? config.listen.port}`);
  return { fingerprint: fp };
}
