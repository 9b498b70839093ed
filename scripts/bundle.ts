/**
 * Builds dist/pesuchat.js with `deno bundle` (offline) and dist/pesuchat, a wrapper that runs it
 * with the narrowest permissions: the network, the environment variables in permissions.ts, and
 * read/write only on pesuchat's own folders (the profile folder, `./pesuchat-data`, and the
 * folders or files named by --dir, --profile, --password-file and --join).
 *
 * usage: deno task bundle
 *
 * @module
 */

import { ALLOW_ENV } from "./permissions.ts";

const WRAPPER = `#!/bin/sh
# pesuchat: runs the bundle with only the permissions it needs (see scripts/permissions.ts).
here=$(dirname "$0")
home=\${PESUCHAT_HOME:-\${HOME:-.}/.pesuchat}
paths="$home,./pesuchat-data"
# A path is granted to Deno in a comma-separated list: an empty one or one with a comma would make
# Deno print its own errors, so the wrapper refuses them in pesuchat's words.
grant() {
  case "$2" in
    "") printf 'pesuchat: %s needs a value\npesuchat: see pesuchat --help\n' "$1" >&2; exit 2 ;;
    *,*) printf 'pesuchat: %s: a path with a comma cannot be used: %s\npesuchat: choose a path without ","\n' "$1" "$2" >&2; exit 2 ;;
  esac
  paths="$paths,$2"
}
prev=""
for a in "$@"; do
  case "$prev" in --dir|--profile|--password-file|--join) grant "$prev" "$a" ;; esac
  case "$a" in --dir=*|--profile=*|--password-file=*|--join=*) grant "\${a%%=*}" "\${a#*=}" ;; esac
  prev=$a
done
[ -n "\${PESUCHAT_PASSWORD_FILE:-}" ] && grant PESUCHAT_PASSWORD_FILE "$PESUCHAT_PASSWORD_FILE"
exec "\${DENO:-deno}" run --quiet --no-prompt --allow-net ${ALLOW_ENV} \\
  --allow-read="$paths" --allow-write="$paths" "$here/pesuchat.js" "$@"
`;

if (import.meta.main) {
  await Deno.mkdir("dist", { recursive: true });
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform", "deno", "-o", "dist/pesuchat.js", "main.ts"],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!out.success) Deno.exit(out.code);
  await Deno.writeTextFile("dist/pesuchat", WRAPPER, { mode: 0o755 });
  await Deno.chmod("dist/pesuchat", 0o755);
  console.error("bundle: dist/pesuchat.js and dist/pesuchat (the wrapper to run)");
}
