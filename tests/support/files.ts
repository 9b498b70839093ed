/**
 * Reading what a program left on disk, for tests that look for secrets in it.
 *
 * @module
 */

import { join } from "node:path";

/** Every file under `dir`, with its bytes. */
export async function filesUnder(dir: string): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory) { for (const [p, b] of await filesUnder(path)) out.set(p, b); }
    else if (e.isFile) out.set(path, await Deno.readFile(path));
  }
  return out;
}

/** True when `needle` occurs in `haystack`. */
export function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}
