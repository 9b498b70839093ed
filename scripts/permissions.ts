/**
 * The permissions the shipped program runs with, in one place: the network (it is a network
 * program), the environment variables it (and its libraries) read, and read/write on its own
 * folders. Nothing else: no subprocesses, no FFI, no system information. The `start` task in
 * deno.json, the bundle wrapper and the compiled binaries all use this list; a test keeps the
 * task in step with it.
 *
 * @module
 */

/** Environment variables pesuchat reads, and those its libraries probe (clack: terminal kind;
 * mysql2: debug and time zone). */
export const ENV_VARS: readonly string[] = [
  "HOME",
  "USERPROFILE",
  "PESUCHAT_HOME",
  "PESUCHAT_PASSWORD",
  "PESUCHAT_PASSWORD_FILE",
  "PESUCHAT_CURRENT_PASSWORD",
  "NO_COLOR",
  "FORCE_COLOR",
  "TERM",
  "TERM_PROGRAM",
  "TERMINAL_EMULATOR",
  "TERMINUS_SUBLIME",
  "WT_SESSION",
  "CI",
  "ACCESSIBLE",
  "COLUMNS",
  "LINES",
  "NODE_DEBUG",
  "TZ",
];

/** `--allow-env=…` for the list above. */
export const ALLOW_ENV = `--allow-env=${ENV_VARS.join(",")}`;
