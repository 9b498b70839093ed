/**
 * Builds release binaries with `deno compile` for Linux x64/arm64, macOS x64/arm64 and Windows
 * x64 into dist/. `deno compile` downloads a base runtime for each target from dl.deno.land, so
 * this needs that host to be reachable; where it is not, each target fails with that reason and
 * the script says so plainly. The binaries get the same narrow permissions as the bundle wrapper.
 *
 * usage: deno run -A scripts/compile.ts [target…]
 *
 * @module
 */

import denoJson from "../deno.json" with { type: "json" };
import { ALLOW_ENV } from "./permissions.ts";

/** The release targets. */
export const TARGETS = [
  "x86_64-unknown-linux-gnu",
  "aarch64-unknown-linux-gnu",
  "x86_64-apple-darwin",
  "aarch64-apple-darwin",
  "x86_64-pc-windows-msvc",
] as const;

/**
 * The permissions the shipped program runs with: the network (it is a network program), the
 * environment variables it reads, and files. Files cannot be narrowed to folders at compile
 * time because the server folder and profile are chosen at run time; nothing else (subprocesses,
 * FFI, system information) is granted.
 */
export const RUNTIME_PERMISSIONS = [
  "--allow-net",
  ALLOW_ENV,
  "--allow-read",
  "--allow-write",
];

if (import.meta.main) {
  const targets = Deno.args.length > 0 ? Deno.args : [...TARGETS];
  let failed = 0;
  for (const target of targets) {
    const ext = target.includes("windows") ? ".exe" : "";
    const output = `dist/pesuchat-${denoJson.version}-${target}${ext}`;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["compile", "--target", target, "--output", output, ...RUNTIME_PERMISSIONS, "main.ts"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (out.success) {
      console.error(`compile: ${output}`);
      continue;
    }
    failed++;
    const err = new TextDecoder().decode(out.stderr);
    const offline =
      /dl\.deno\.land|error sending request|dns error|failed to lookup|Connection refused|network/i
        .test(err);
    console.error(
      offline
        ? `compile: ${target}: cannot download the Deno base binary for this target (no route to dl.deno.land from this machine); build on a machine with internet access`
        : `compile: ${target} failed:\n${err.trim()}`,
    );
  }
  Deno.exit(failed === 0 ? 0 : 1);
}
