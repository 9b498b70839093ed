/**
 * The permissions the shipped program runs with, in one place: the network (it is a network
 * program), the environment variables it (and its libraries) read, and read/write on its own
 * folders. Nothing else: no subprocesses, no FFI, no system information. The `start` task in
 * deno.json, the bundle wrapper and the compiled binaries all use this list; a test keeps the
 * task in step with it.
 *
 * @module
 */

/**
 * Environment variables pesuchat reads, and those its libraries probe: clack and Deno's node:tty
 * colour detection (terminal kind, colour switches, the CI systems it recognises), mysql2 (debug,
 * time zone). Reading one that is not granted would stop the program, so the list errs wide.
 */
export const ENV_VARS: readonly string[] = [
  // pesuchat's own
  "HOME",
  "USERPROFILE",
  "PESUCHAT_HOME",
  "PESUCHAT_PASSWORD",
  "PESUCHAT_PASSWORD_FILE",
  "PESUCHAT_CURRENT_PASSWORD",
  // terminal and colour detection
  "NO_COLOR",
  "FORCE_COLOR",
  "NODE_DISABLE_COLORS",
  "TERM",
  "COLORTERM",
  "TERM_PROGRAM",
  "TERM_PROGRAM_VERSION",
  "TERMINAL_EMULATOR",
  "TERMINUS_SUBLIME",
  "WT_SESSION",
  "TMUX",
  "ACCESSIBLE",
  "COLUMNS",
  "LINES",
  // continuous-integration systems the colour detection recognises
  "CI",
  "CI_NAME",
  "TF_BUILD",
  "TEAMCITY_VERSION",
  "GITHUB_ACTIONS",
  "GITLAB_CI",
  "TRAVIS",
  "CIRCLECI",
  "APPVEYOR",
  "BUILDKITE",
  "DRONE",
  // mysql2
  "NODE_DEBUG",
  "TZ",
];

/** `--allow-env=…` for the list above. */
export const ALLOW_ENV = `--allow-env=${ENV_VARS.join(",")}`;
