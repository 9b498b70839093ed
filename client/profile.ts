/**
 * The profile folder: `known_hosts` and one local store per account and server. By default
 * `~/.pesuchat` (or `$PESUCHAT_HOME`); `--profile DIR` chooses another.
 *
 * @module
 */

import { basename, join } from "node:path";

/** The profile folder to use: the flag, then PESUCHAT_HOME, then ~/.pesuchat. */
export function profileDir(flag?: string): string {
  if (flag) return flag;
  const env = (name: string) => {
    try {
      return Deno.env.get(name);
    } catch {
      return undefined;
    }
  };
  const home = env("PESUCHAT_HOME");
  if (home) return home;
  const user = env("HOME") ?? env("USERPROFILE");
  if (!user) throw new Error("no home folder: set PESUCHAT_HOME or use --profile DIR");
  return join(user, ".pesuchat");
}

/** The paths inside a profile. */
export class Profile {
  constructor(readonly dir: string) {}

  /** Creates the folder (owner-only) if needed. */
  async ensure(): Promise<void> {
    await Deno.mkdir(join(this.dir, "accounts"), { recursive: true, mode: 0o700 });
  }

  get knownHosts(): string {
    return join(this.dir, "known_hosts");
  }

  /**
   * The local store of `username` on the server named `serverId` (from its key; see
   * servers.ts). Profiles made before servers were known by their key used "host:port" here.
   */
  accountStore(serverId: string, username: string): string {
    return join(
      this.dir,
      "accounts",
      `${serverId.replace(/[^A-Za-z0-9.-]/g, "_")}--${username}.db`,
    );
  }

  /** The usernames with a local store for `serverId`. */
  async accountsOn(serverId: string): Promise<string[]> {
    const prefix = basename(this.accountStore(serverId, "x")).slice(0, -"x.db".length);
    const names: string[] = [];
    try {
      for await (const e of Deno.readDir(join(this.dir, "accounts"))) {
        if (e.isFile && e.name.startsWith(prefix) && e.name.endsWith(".db")) {
          names.push(e.name.slice(prefix.length, -".db".length));
        }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return names.sort();
  }

  /**
   * Moves the stores an older profile kept under the address `hostPort` to the server's key
   * name, once its key is verified to be the one known_hosts holds for that address. A store
   * already under the key name wins; the old one is then left where it is.
   */
  async adoptLegacy(hostPort: string, serverId: string): Promise<string[]> {
    const moved: string[] = [];
    for (const username of await this.accountsOn(hostPort)) {
      const from = this.accountStore(hostPort, username);
      const to = this.accountStore(serverId, username);
      if (await exists(to)) continue;
      // SQLite's side files first, so the main file never sits beside another store's journal.
      for (const side of ["-wal", "-shm", "-journal"]) {
        if (await exists(from + side)) await Deno.rename(from + side, to + side);
      }
      const number = this.#backupFile(hostPort, username);
      if (await exists(number)) await Deno.rename(number, this.#backupFile(serverId, username));
      await Deno.rename(from, to);
      moved.push(username);
    }
    return moved;
  }

  /** True when this profile has a local store for any account on any server. */
  async hasAnyAccount(): Promise<boolean> {
    try {
      for await (const e of Deno.readDir(join(this.dir, "accounts"))) {
        if (e.isFile && e.name.endsWith(".db")) return true;
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    return false;
  }

  /**
   * The highest backup number this profile has made or restored for the account (0 for none).
   * It lives beside the local store, not in it, so a profile whose store is lost or deleted still
   * refuses a backup older than one it has seen.
   */
  async backupSeen(server: string, username: string): Promise<number> {
    try {
      const n = Number((await Deno.readTextFile(this.#backupFile(server, username))).trim());
      return Number.isSafeInteger(n) && n > 0 ? n : 0;
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) return 0;
      throw e;
    }
  }

  /** Records backup number `seq` as seen (never lowering it). */
  async noteBackup(server: string, username: string, seq: number): Promise<void> {
    if (seq <= await this.backupSeen(server, username)) return;
    const file = this.#backupFile(server, username);
    const tmp = `${file}.${crypto.randomUUID()}.tmp`;
    await Deno.writeTextFile(tmp, `${seq}\n`, { mode: 0o600 });
    await Deno.rename(tmp, file);
  }

  #backupFile(serverId: string, username: string): string {
    return this.accountStore(serverId, username).replace(/\.db$/, ".backup-number");
  }

  /** True when this profile has a local store for the account. */
  hasAccount(serverId: string, username: string): Promise<boolean> {
    return exists(this.accountStore(serverId, username));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
