/**
 * Command-line dispatch: `server setup`, `server run`, `connect`, `web`, `send`, `receive`, `help`,
 * `--help`, `--version`. Each command module owns its flags and help; this file checks the flags
 * against them first, so every command answers a wrong command line the same way: one line
 * saying what is wrong (with the nearest flag when one was mistyped), the usage, exit code 2.
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

const USAGE = `pesuchat: end-to-end encrypted chat you can host yourself

usage:
  pesuchat server setup [flags]     create a server: folder, database, keys, password, address
  pesuchat server run [--dir DIR]   run a server that was set up
  pesuchat connect HOST:PORT        open the chat client
  pesuchat web [HOST:PORT]          open the chat client in your browser (on 127.0.0.1)
  pesuchat send HOST:PORT USER TEXT send one message from a script
  pesuchat receive HOST:PORT        print waiting messages (--json for one object per line)
  pesuchat help COMMAND             the flags of a command (as 'pesuchat COMMAND --help')
  pesuchat --help | --version`;

/** Exit code of a command line that cannot be run as given. */
export const EXIT_USAGE = 2;

interface Command {
  help: string;
  options: ParseArgsOptionsConfig;
  positionals: boolean;
}

const SERVER_HELP = `usage: pesuchat server setup|run|invite [flags]

  pesuchat server setup [flags]   create a server in a folder (see 'pesuchat server setup --help')
  pesuchat server run [flags]     run a server that was set up (see 'pesuchat server run --help')
  pesuchat server invite [flags]  a one-time sign-up invite token (see 'pesuchat server invite --help')`;

const COMMAND_NAMES = [
  "server setup",
  "server run",
  "server invite",
  "connect",
  "web",
  "send",
  "receive",
] as const;
type CommandName = (typeof COMMAND_NAMES)[number];

/**
 * A command's help and flags. Loaded only when needed: the command modules pull in the terminal
 * and database libraries, which `--version` and `--help` do without.
 */
async function command(name: CommandName): Promise<Command> {
  if (name === "server setup" || name === "server run" || name === "server invite") {
    const s = await import("./server/cli.ts");
    return name === "server setup"
      ? { help: s.SETUP_HELP, options: s.SETUP_OPTIONS, positionals: false }
      : name === "server run"
      ? { help: s.RUN_HELP, options: s.RUN_OPTIONS, positionals: false }
      : { help: s.INVITE_HELP, options: s.INVITE_OPTIONS, positionals: false };
  }
  if (name === "web") {
    const w = await import("./client/web/cli.ts");
    return { help: w.WEB_HELP, options: w.WEB_OPTIONS, positionals: true };
  }
  const c = await import("./client/cli.ts");
  return { help: c.HELP[name], options: c.clientOptions(name), positionals: true };
}

/** Runs the command line `args` and returns the process exit code. */
export async function runCli(args: string[], version: string): Promise<number> {
  const [first, second] = args;
  if (first === undefined) return usageError("a command is missing", USAGE);
  if (first === "--help" || first === "-h") {
    console.log(USAGE);
    return 0;
  }
  if (first === "help") return await help(args.slice(1));
  if (first === "--version" || first === "-V" || first === "version") {
    console.log(`pesuchat ${version}`);
    return 0;
  }
  if (first === "server") {
    if (second === undefined) return usageError("server: setup or run is missing", SERVER_HELP);
    if (second === "--help" || second === "-h") {
      console.log(SERVER_HELP);
      return 0;
    }
    if (second !== "setup" && second !== "run" && second !== "invite") {
      return usageError(
        `unknown command 'server ${second}'${nearest(second, ["setup", "run", "invite"])}`,
        SERVER_HELP,
      );
    }
    const c = await command(`server ${second}`);
    const problem = checkFlags(c, args.slice(2));
    if (problem) return usageError(problem, c.help);
    const { serverCommand } = await import("./server/cli.ts");
    return await serverCommand(second, args.slice(2), version);
  }
  if (first === "connect" || first === "send" || first === "receive") {
    const c = await command(first);
    const problem = checkFlags(c, args.slice(1));
    if (problem) return usageError(problem, c.help);
    const { clientCommand } = await import("./client/cli.ts");
    return await clientCommand(first, args.slice(1));
  }
  if (first === "web") {
    const c = await command(first);
    const problem = checkFlags(c, args.slice(1));
    if (problem) return usageError(problem, c.help);
    const { webCommand } = await import("./client/web/cli.ts");
    return await webCommand(args.slice(1));
  }
  const known = ["server", "connect", "web", "send", "receive", "help"];
  return usageError(`unknown command '${first}'${nearest(first, known)}`, USAGE);
}

/** `pesuchat help [COMMAND…]`: the help of that command on stdout. */
async function help(words: string[]): Promise<number> {
  const name = words.join(" ");
  if (name === "") {
    console.log(USAGE);
    return 0;
  }
  if (name === "server") {
    console.log(SERVER_HELP);
    return 0;
  }
  if (!(COMMAND_NAMES as readonly string[]).includes(name)) {
    return usageError(`no help for '${name}'${nearest(name, COMMAND_NAMES)}`, USAGE);
  }
  console.log((await command(name as CommandName)).help);
  return 0;
}

/** Says what is wrong and shows the usage, on stderr; returns {@linkcode EXIT_USAGE}. */
function usageError(problem: string, usage: string): number {
  console.error(`pesuchat: ${problem}`);
  console.error("");
  console.error(usage);
  return EXIT_USAGE;
}

/** What is wrong with the flags in `args`, or null when they parse. */
export function checkFlags(c: Command, args: string[]): string | null {
  try {
    parseArgs({ args, options: c.options, allowPositionals: c.positionals, strict: true });
    return null;
  } catch (e) {
    const err = e as Error & { code?: string };
    const flag = err.message.match(/'(-[^' ]+)/)?.[1] ?? "";
    switch (err.code) {
      case "ERR_PARSE_ARGS_UNKNOWN_OPTION": {
        const names = Object.keys(c.options).map((n) => `--${n}`);
        return `unknown flag ${flag}${nearest(flag.split("=")[0]!, names)}`;
      }
      case "ERR_PARSE_ARGS_INVALID_OPTION_VALUE":
        return /argument missing/.test(err.message)
          ? `${flag} needs a value`
          : `${flag} takes no value`;
      case "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL":
        return `unexpected argument '${err.message.match(/argument '([^']*)'/)?.[1] ?? ""}'`;
      default:
        return err.message.split("\n")[0]!;
    }
  }
}

/** " (did you mean X?)" for the closest of `names` to `word`, when one is close; else "". */
export function nearest(word: string, names: readonly string[]): string {
  let best = "";
  let bestDistance = Infinity;
  for (const n of names) {
    const d = editDistance(word, n);
    if (d < bestDistance) [best, bestDistance] = [n, d];
  }
  // Close means a typo: at most a third of the word's letters wrong (a swap counts as one).
  return best && bestDistance <= Math.max(1, Math.floor(word.replace(/^-+/, "").length / 3))
    ? ` (did you mean ${best}?)`
    : "";
}

/** Edit distance counting a swap of two neighbouring letters as one edit; small strings only. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}
