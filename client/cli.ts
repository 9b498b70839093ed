/**
 * The client's commands: `connect` (the interactive client), `send` and `receive` (for
 * scripts). Flags in with node:util parseArgs; problems out as one line `pesuchat: …` and a hint
 * line on stderr, never a stack trace.
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { type Address, parseAddresses } from "./servers.ts";
import { Profile, profileDir } from "./profile.ts";
import { runConnect } from "./tui/app.ts";
import { ClientProblem, explain, UsageError } from "./tui/problems.ts";
import {
  MAX_WAIT_SECONDS,
  receiveCommand,
  sendCommand,
  sendGroupCommand,
} from "./tui/send_receive.ts";
import { guardTerminal, processTerminal, restoreTerminal } from "./tui/terminal.ts";

/** The client commands. */
export type ClientCommandName = "connect" | "send" | "receive";

/** `receive` waits this long for more messages unless `--wait` says otherwise. */
export const DEFAULT_WAIT_SECONDS = 2;

const COMMON_FLAGS =
  `  HOST:PORT,HOST:PORT…   several addresses of one server (its nodes): tried in order
  --profile DIR          the profile folder (default $PESUCHAT_HOME or ~/.pesuchat)
  --trust FINGERPRINT    trust this server key on first contact without asking`;

export const HELP: Record<ClientCommandName, string> = {
  connect: `usage: pesuchat connect HOST:PORT[,HOST:PORT…] [flags]

Opens the chat client: sign up or log in, the chat list, chats.

${COMMON_FLAGS}`,
  send: `usage: pesuchat send HOST:PORT[,HOST:PORT…] USER TEXT [flags]
       pesuchat send HOST:PORT[,HOST:PORT…] --group ROOM TEXT [flags]

Sends TEXT to USER (or to the room ROOM, by name or id) and exits once the server has it.
TEXT "-" reads the text from stdin.
The password comes from PESUCHAT_PASSWORD or PESUCHAT_PASSWORD_FILE, or is asked on a terminal.

${COMMON_FLAGS}
  --user NAME            send as NAME (default: the profile's only account on the server)
  --group ROOM           send to a group or channel you are in, by its name or id`,
  receive: `usage: pesuchat receive HOST:PORT[,HOST:PORT…] [flags]

Prints the messages waiting for you, waits for more until none comes for --wait seconds, and
exits. The password comes as for send.

${COMMON_FLAGS}
  --user NAME            receive as NAME (default: the profile's only account on the server)
  --json                 one JSON object per line, typed: message, edit, delete, pin, react,
                         room (see the README)
  --wait SECONDS         quiet time before exiting, 0 to ${MAX_WAIT_SECONDS} (default ${DEFAULT_WAIT_SECONDS})`,
};

/** A client command line, parsed and checked. */
export interface ClientArgs {
  command: ClientCommandName;
  help: boolean;
  hostname: string;
  port: number;
  /** The other addresses of `HOST:PORT,HOST:PORT,…`, tried in order after the first. */
  alternates: Address[];
  profile?: string;
  trust?: string;
  user?: string;
  /** send: the recipient and the text ("-" means stdin). */
  peer?: string;
  /** send --group: the room, by name or id. */
  group?: string;
  text?: string;
  /** receive */
  json: boolean;
  wait: number;
}

/** Parses `--wait`: whole or decimal seconds from 0 to {@linkcode MAX_WAIT_SECONDS}. */
export function parseWait(v: string | undefined): number {
  if (v === undefined) return DEFAULT_WAIT_SECONDS;
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n < 0 || n > MAX_WAIT_SECONDS) {
    throw new UsageError(
      `--wait: expected seconds from 0 to ${MAX_WAIT_SECONDS}, got ${JSON.stringify(v)}`,
    );
  }
  return n;
}

/** The flags of a client command. */
export function clientOptions(command: ClientCommandName): ParseArgsOptionsConfig {
  return {
    profile: { type: "string" },
    trust: { type: "string" },
    help: { type: "boolean", short: "h" },
    ...(command === "connect" ? {} : { user: { type: "string" } }),
    ...(command === "send" ? { group: { type: "string" } } : {}),
    ...(command === "receive" ? { json: { type: "boolean" }, wait: { type: "string" } } : {}),
  };
}

/** Parses the arguments after the command name; throws {@linkcode UsageError}. */
export function parseClientArgs(command: ClientCommandName, args: string[]): ClientArgs {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: clientOptions(command) });
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]!, `see 'pesuchat ${command} --help'`);
  }
  const { values, positionals } = parsed;
  const v = values as Record<string, string | boolean | undefined>;
  const base = {
    command,
    help: v.help === true,
    profile: v.profile as string | undefined,
    trust: v.trust as string | undefined,
    user: v.user as string | undefined,
    json: v.json === true,
    wait: parseWait(v.wait as string | undefined),
  };
  if (base.help) return { ...base, hostname: "", port: 0, alternates: [] };
  const [server, ...rest] = positionals;
  const usage = HELP[command].split("\n")[0]!;
  if (!server) throw new UsageError(`missing HOST:PORT`, usage);
  let hostname: string, port: number, alternates: Address[];
  try {
    [{ hostname, port }, ...alternates] = parseAddresses(server) as [Address, ...Address[]];
  } catch (e) {
    throw new UsageError((e as Error).message, usage);
  }
  if (base.trust !== undefined && !/^SHA256:[A-Za-z0-9+/]{43}$/.test(base.trust)) {
    throw new UsageError(
      `--trust: expected a fingerprint like SHA256:…, got ${JSON.stringify(base.trust)}`,
      "copy it from what 'pesuchat server run' prints",
    );
  }
  if (command === "send" && v.group !== undefined) {
    if (rest.length === 0) throw new UsageError("missing TEXT", usage);
    return { ...base, hostname, port, alternates, group: v.group as string, text: rest.join(" ") };
  }
  if (command === "send") {
    const [peer, ...words] = rest;
    if (!peer || words.length === 0) throw new UsageError("missing USER or TEXT", usage);
    return { ...base, hostname, port, alternates, peer, text: words.join(" ") };
  }
  if (rest.length > 0) throw new UsageError(`unexpected ${JSON.stringify(rest[0])}`, usage);
  return { ...base, hostname, port, alternates };
}

async function readStdinText(): Promise<string> {
  const text = await new Response(Deno.stdin.readable).text();
  return text.replace(/\r?\n$/, "");
}

/** Runs `fn` with the terminal put back as it was on every way out: return, throw or signal. */
async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  const unguard = guardTerminal();
  try {
    return await fn();
  } finally {
    unguard();
    restoreTerminal();
  }
}

async function run(a: ClientArgs): Promise<number> {
  if (a.help) {
    console.log(HELP[a.command]);
    return 0;
  }
  const profile = new Profile(profileDir(a.profile));
  const target = {
    hostname: a.hostname,
    port: a.port,
    alternates: a.alternates,
    profile,
    trust: a.trust,
    user: a.user,
  };
  switch (a.command) {
    case "connect":
      if (!Deno.stdin.isTerminal() || !Deno.stdout.isTerminal()) {
        throw new ClientProblem(
          "no_terminal",
          "connect needs a terminal",
          "from scripts, use 'pesuchat send' and 'pesuchat receive'",
        );
      }
      return await guarded(() => runConnect(target, processTerminal()));
    case "send": {
      const text = a.text === "-" ? await readStdinText() : a.text!;
      await guarded(() =>
        a.group !== undefined
          ? sendGroupCommand(target, a.group, text)
          : sendCommand(target, a.peer!, text)
      );
      return 0;
    }
    case "receive":
      await guarded(() => receiveCommand(target, { json: a.json, wait: a.wait }));
      return 0;
  }
}

/** Prints a problem as `pesuchat: …` lines on stderr and returns its exit code. */
export function report(e: unknown, write: (line: string) => void = console.error): number {
  const p = explain(e);
  write(`pesuchat: ${p.message}`);
  for (const line of p.hint?.split("\n") ?? []) write(`pesuchat: ${line}`);
  return p.exitCode;
}

/** Runs `pesuchat <command> args`; returns the exit code. */
export async function clientCommand(command: ClientCommandName, args: string[]): Promise<number> {
  let parsed: ClientArgs;
  try {
    parsed = parseClientArgs(command, args);
  } catch (e) {
    if (!(e instanceof UsageError)) return report(e);
    // A wrong command line: what is wrong, then the command's usage, as every command does.
    console.error(`pesuchat: ${e.message}`);
    console.error("");
    console.error(HELP[command]);
    return 2;
  }
  try {
    return await run(parsed);
  } catch (e) {
    return report(e);
  }
}
