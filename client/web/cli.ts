/**
 * `pesuchat web [HOST:PORT] [--profile DIR] [--port N] [--no-open] [--trust FINGERPRINT]`: the
 * chat core in this process, and the web interface on 127.0.0.1. Prints the one-time address and
 * opens it in the browser where it can; stops on Ctrl-C (SIGINT) or SIGTERM after a last backup.
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";
import { report } from "../cli.ts";
import { splitHost } from "../chat.ts";
import { Profile, profileDir } from "../profile.ts";
import { UsageError } from "../tui/problems.ts";
import { WebApp } from "./app.ts";
import { WebServer } from "./http.ts";

/** The help text of `pesuchat web`. */
export const WEB_HELP = `usage: pesuchat web [HOST:PORT] [flags]

Opens the chat in your browser: the keys and messages stay in this process, and the page is
served on 127.0.0.1 only, to the browser that opens the one-time address printed here.
Without HOST:PORT the page asks for the server.

  --profile DIR          the profile folder (default $PESUCHAT_HOME or ~/.pesuchat)
  --trust FINGERPRINT    trust this server key on first contact without asking
  --port N               serve the page on 127.0.0.1:N (default: a free port)
  --no-open              print the address only; do not open a browser`;

/** `pesuchat web`'s flags. */
export const WEB_OPTIONS: ParseArgsOptionsConfig = {
  profile: { type: "string" },
  trust: { type: "string" },
  port: { type: "string" },
  "no-open": { type: "boolean" },
  help: { type: "boolean", short: "h" },
};

/** `pesuchat web`'s command line, parsed. */
export interface WebArgs {
  help: boolean;
  server: string;
  profile?: string;
  trust?: string;
  port: number;
  open: boolean;
}

/** Parses the arguments after `web`; throws {@linkcode UsageError}. */
export function parseWebArgs(args: string[]): WebArgs {
  let parsed;
  try {
    parsed = parseArgs({ args, allowPositionals: true, options: WEB_OPTIONS });
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]!, "see 'pesuchat web --help'");
  }
  const { positionals } = parsed;
  const v = parsed.values as Record<string, string | boolean | undefined> & {
    profile?: string;
    trust?: string;
    port?: string;
  };
  const usage = WEB_HELP.split("\n")[0]!;
  if (positionals.length > 1) throw new UsageError(`unexpected ${positionals[1]}`, usage);
  const server = positionals[0] ?? "";
  if (server) {
    try {
      splitHost(server);
    } catch (e) {
      throw new UsageError((e as Error).message, usage);
    }
  }
  const port = v.port === undefined ? 0 : Number(v.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535 || v.port?.trim() === "") {
    throw new UsageError(`--port: expected 0 to 65535, got ${JSON.stringify(v.port)}`, usage);
  }
  if (v.trust !== undefined && !/^SHA256:[A-Za-z0-9+/]{43}$/.test(v.trust)) {
    throw new UsageError(
      `--trust: expected a fingerprint like SHA256:…, got ${JSON.stringify(v.trust)}`,
      "copy it from what 'pesuchat server run' prints",
    );
  }
  return {
    help: v.help === true,
    server,
    profile: v.profile,
    trust: v.trust,
    port,
    open: v["no-open"] !== true,
  };
}

/** Opens `url` in the desktop's browser, if this system and the permissions allow it. */
async function openBrowser(url: string): Promise<boolean> {
  const opener = Deno.build.os === "darwin"
    ? ["open"]
    : Deno.build.os === "windows"
    ? ["cmd", "/c", "start", ""]
    : ["xdg-open"];
  try {
    const child = new Deno.Command(opener[0]!, {
      args: [...opener.slice(1), url],
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    return (await child.status).success;
  } catch {
    return false;
  }
}

/** Runs `pesuchat web` until SIGINT or SIGTERM; returns the exit code. */
export async function runWeb(a: WebArgs): Promise<number> {
  if (a.help) {
    console.log(WEB_HELP);
    return 0;
  }
  const profile = new Profile(profileDir(a.profile));
  await profile.ensure();
  const app = new WebApp({ server: a.server, profile, trust: a.trust });
  let http: WebServer;
  try {
    http = WebServer.start(app, a.port);
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      throw new UsageError(`--port: 127.0.0.1:${a.port} is in use`, "choose another port");
    }
    throw e;
  }
  app.start();
  console.log(`pesuchat web: open ${http.url}`);
  console.log("pesuchat web: the address works once, in one browser; Ctrl-C stops");
  if (a.open && !(await openBrowser(http.url))) {
    console.log("pesuchat web: could not open a browser; open the address yourself");
  }
  const { promise: stop, resolve } = Promise.withResolvers<void>();
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, resolve);
  await stop;
  for (const s of signals) Deno.removeSignalListener(s, resolve);
  console.log("pesuchat web: stopping (a last backup first)");
  await app.close();
  await http.close();
  return 0;
}

/** Runs `pesuchat web args`; returns the exit code (2 for a wrong command line, with the usage). */
export async function webCommand(args: string[]): Promise<number> {
  let parsed: WebArgs;
  try {
    parsed = parseWebArgs(args);
  } catch (e) {
    if (!(e instanceof UsageError)) return report(e);
    console.error(`pesuchat: ${e.message}`);
    console.error("");
    console.error(WEB_HELP);
    return 2;
  }
  try {
    return await runWeb(parsed);
  } catch (e) {
    return report(e);
  }
}
