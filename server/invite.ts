/**
 * `pesuchat server invite`: makes a one-time invite token for a server whose registration is
 * "token", or revokes one. The database keeps only the token's hash; the token is printed once.
 *
 * @module
 */

import { resolve } from "node:path";
import { openStore } from "../sql/mod.ts";
import { ConfigError, readConfig, storeLocation } from "./config.ts";
import { explainingDatabase } from "./db_problems.ts";
import type { Prompter } from "./prompts.ts";
import { inviteHash, newInviteToken } from "./registration.ts";
import { unlock } from "./run.ts";

/** What `server invite` was told. */
export interface InviteOptions {
  dir: string;
  password?: string;
  /** A token to revoke instead of making one. */
  revoke?: string;
}

/** Makes a token (returned, to print) or revokes one (returns null). */
export async function invite(o: InviteOptions, ask: Prompter): Promise<string | null> {
  const dir = resolve(o.dir);
  const config = await readConfig(dir);
  if (!config) {
    throw new ConfigError(`${dir} is not set up`, `run: pesuchat server setup --dir ${o.dir}`);
  }
  const secrets = await unlock(dir, o.password, ask);
  const db = config.database;
  return await explainingDatabase(db, dir, async () => {
    const store = await openStore(storeLocation(dir, db, secrets.dbPassword));
    try {
      await store.migrate();
      if (o.revoke !== undefined) {
        if (!(await store.takeInvite(await inviteHash(o.revoke)))) {
          throw new ConfigError(
            "no such invite token: it was used, revoked already, or mistyped",
          );
        }
        return null;
      }
      const token = newInviteToken();
      await store.addInvite(await inviteHash(token), Date.now());
      return token;
    } finally {
      await store.close();
    }
  });
}
