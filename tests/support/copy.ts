/**
 * Copies a folder, file modes included (a server folder's keystore is owner-only).
 *
 * @module
 */

import { join } from "node:path";

/** Copies `from` to `to` recursively, keeping each file's mode. */
export async function copy(from: string, to: string): Promise<void> {
  await Deno.mkdir(to, { recursive: true, mode: (await Deno.stat(from)).mode ?? 0o700 });
  for await (const e of Deno.readDir(from)) {
    const a = join(from, e.name);
    const b = join(to, e.name);
    if (e.isDirectory) await copy(a, b);
    else if (e.isFile) {
      await Deno.copyFile(a, b);
      const mode = (await Deno.stat(a)).mode;
      if (mode !== null) await Deno.chmod(b, mode & 0o777);
    }
  }
}
