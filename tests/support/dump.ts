/**
 * A database dump as bytes, and searches in it: what a stolen database gives away.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type FreshDatabase, testMysqlUrl } from "./databases.ts";
import { contains } from "./files.ts";

export { contains };

/** Everything the database holds, as bytes: the SQLite files, or a MariaDB dump with blobs in hex. */
export async function dump(db: FreshDatabase): Promise<Uint8Array> {
  if (db.kind === "sqlite") {
    const parts = await Promise.all(
      ["", "-wal", "-shm"].map((s) =>
        Deno.readFile(db.location + s).catch(() => new Uint8Array(0))
      ),
    );
    return new Uint8Array(parts.flatMap((p) => [...p]));
  }
  const url = new URL(db.location);
  const base = testMysqlUrl();
  const out = await new Deno.Command("mariadb-dump", {
    args: [
      "--hex-blob",
      "--skip-extended-insert",
      `-h${url.hostname}`,
      `-P${url.port || "3306"}`,
      `-u${decodeURIComponent(base.username)}`,
      `-p${decodeURIComponent(base.password)}`,
      url.pathname.slice(1),
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  return out.stdout;
}

/** True when `secret` appears raw, or as hex in either case (how a dump writes blobs). */
export function leaks(d: Uint8Array, secret: Uint8Array): boolean {
  const te = new TextEncoder();
  return contains(d, secret) || contains(d, te.encode(secret.toHex())) ||
    contains(d, te.encode(secret.toHex().toUpperCase()));
}
