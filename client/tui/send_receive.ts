/**
 * `pesuchat send` and `pesuchat receive`, for scripts and bots in the spirit of signal-cli: the
 * same profile and keys as the interactive client, the password from PESUCHAT_PASSWORD or
 * PESUCHAT_PASSWORD_FILE (or asked on a terminal), output on stdout, problems on stderr.
 *
 * @module
 */

import process from "node:process";
import { basename, dirname } from "node:path";
import { type ChatClient, ChatError } from "../chat.ts";
import { MessageState, type StoredMessage } from "../local_store.ts";
import type { Profile } from "../profile.ts";
import { canonicalUsername } from "../../protocol/username.ts";
import { fullTime } from "./format.ts";
import { ClientProblem } from "./problems.ts";
import { askSecret } from "./prompts.ts";
import { textLines, textWidth } from "./text_width.ts";
import { connectTrusting, trustQuestion } from "./trust.ts";

/** Longest `--wait`, in seconds. */
export const MAX_WAIT_SECONDS = 3600;
/** How long `send` waits for the server to take the message before saying it is queued. */
export const SEND_TIMEOUT_MS = 15_000;
/** How often `send` and `receive` look at the clock while they wait. */
const POLL_MS = 50;

/** Where a script command goes and as whom. */
export interface ScriptTarget {
  hostname: string;
  port: number;
  profile: Profile;
  trust?: string;
  /** `--user`; otherwise the profile's only account on this server. */
  user?: string;
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** The accounts this profile has on `server` (from the local store files). */
export async function accountsOn(profile: Profile, server: string): Promise<string[]> {
  // The store's file name is "<server>--<username>.db": find the prefix by asking for "x".
  const probe = profile.accountStore(server, "x");
  const prefix = basename(probe).slice(0, -"x.db".length);
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dirname(probe))) {
      if (e.isFile && e.name.startsWith(prefix) && e.name.endsWith(".db")) {
        names.push(e.name.slice(prefix.length, -".db".length));
      }
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return names.sort();
}

/** The password: PESUCHAT_PASSWORD_FILE, PESUCHAT_PASSWORD, or asked on a terminal. */
export async function scriptPassword(username: string): Promise<string> {
  const file = env("PESUCHAT_PASSWORD_FILE");
  if (file) {
    try {
      return (await Deno.readTextFile(file)).replace(/\r?\n$/, "");
    } catch (e) {
      throw new ClientProblem(
        "no_password",
        `cannot read PESUCHAT_PASSWORD_FILE ${file}: ${(e as Error).message}`,
      );
    }
  }
  const password = env("PESUCHAT_PASSWORD");
  if (password !== undefined) return password;
  if (Deno.stdin.isTerminal()) {
    const typed = await askSecret(`Password for ${username}`, { output: process.stderr });
    if (typed !== null) return typed;
  }
  throw new ClientProblem(
    "no_password",
    "no password",
    "set PESUCHAT_PASSWORD or PESUCHAT_PASSWORD_FILE (or run on a terminal)",
  );
}

/**
 * Connects and logs in to an account that already has a local store in the profile.
 * `beforeLogin` runs on the connected client first (to listen before messages start to flow).
 */
export async function scriptLogin(
  t: ScriptTarget,
  beforeLogin?: (client: ChatClient) => void,
): Promise<ChatClient> {
  const server = `${t.hostname}:${t.port}`;
  const connectHint =
    `sign up or log in once with 'pesuchat connect ${server} --profile ${t.profile.dir}'`;
  let username: string;
  if (t.user !== undefined) {
    const u = canonicalUsername(t.user);
    if (!u || !(await t.profile.hasAccount(server, u))) {
      throw new ClientProblem(
        "no_account",
        `no account ${t.user} for ${server} in ${t.profile.dir}`,
        connectHint,
      );
    }
    username = u;
  } else {
    const all = await accountsOn(t.profile, server);
    if (all.length === 0) {
      throw new ClientProblem(
        "no_account",
        `no account for ${server} in ${t.profile.dir}`,
        connectHint,
      );
    }
    if (all.length > 1) {
      throw new ClientProblem(
        "no_account",
        `${t.profile.dir} has several accounts for ${server}: ${all.join(", ")}`,
        "choose one with --user NAME",
      );
    }
    username = all[0]!;
  }
  const password = await scriptPassword(username);
  const client = await connectTrusting(
    t,
    Deno.stdin.isTerminal()
      ? trustQuestion(server, t.profile.knownHosts, process.stderr)
      : undefined,
  );
  try {
    beforeLogin?.(client);
    // The local store exists, so there is nothing to restore: never start a new identity here.
    await client.login({ username, password, restore: () => Promise.resolve(false) });
    return client;
  } catch (e) {
    await client.close().catch(() => {});
    throw e;
  }
}

/** Sends `text` to `peer`; resolves once the server has it. */
export async function sendCommand(t: ScriptTarget, peer: string, text: string): Promise<void> {
  const client = await scriptLogin(t);
  try {
    const to = canonicalUsername(peer);
    if (!to) throw new ChatError("no_such_user", `there is no user ${JSON.stringify(peer)}`);
    if (to === client.username) {
      throw new ChatError("bad_input", "that is you; send to someone else");
    }
    await client.checkContact(to);
    const message = await client.send(to, text);
    await client.settle();
    const deadline = Date.now() + SEND_TIMEOUT_MS;
    const id = message.mid.toHex();
    // Bounded by SEND_TIMEOUT_MS.
    while (Date.now() < deadline) {
      const mine = (await client.history(to, 50)).find((m) => m.mid.toHex() === id);
      if (mine && mine.state >= MessageState.sent) return;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    throw new ClientProblem(
      "not_sent",
      "the server did not take the message in time; it is queued in the profile",
      "it goes out the next time this account connects (send, receive or connect)",
    );
  } finally {
    await client.close();
  }
}

/** One received message as `receive` prints it. */
export function receivedLine(m: StoredMessage, json: boolean): string {
  if (json) return JSON.stringify({ from: m.peer, text: m.text, ts: m.ts, id: m.mid.toHex() });
  const prefix = `${fullTime(m.ts)} ${m.peer}: `;
  // Continuation lines start under the first line's text, so a reader sees where a message ends.
  return prefix + textLines(m.text).join("\n" + " ".repeat(textWidth(prefix)));
}

/**
 * Prints the messages waiting on the server, then waits for more until none has come for `wait`
 * seconds, and exits. What is printed comes from the profile, not from the connection: every
 * incoming message not printed yet, whichever process stored it (a `send` or `connect` that was
 * connected when it arrived included). Before the last pass it stops taking deliveries, so a
 * message that arrives while it closes stays on the server for next time instead of being
 * acknowledged and never printed.
 */
export async function receiveCommand(
  t: ScriptTarget,
  o: { json: boolean; wait: number; write?: (line: string) => void },
): Promise<number> {
  const write = o.write ?? ((line: string) => console.log(line));
  let count = 0;
  let last = Date.now();
  let off: (() => void)[] = [];
  const client = await scriptLogin(t, (c) => {
    off = [
      c.on("message", (m) => {
        if (!m.outgoing) last = Date.now();
      }),
      c.on("notice", (_peer, text) => console.error(`pesuchat: ${text}`)),
      c.on("problem", (p) => console.error(`pesuchat: ${p}`)),
    ];
  });
  const printNew = async () => {
    for (const m of await client.unprinted()) {
      write(receivedLine(m, o.json));
      // After the write: a crash in between prints it again rather than never.
      client.markPrinted(m.mid);
      count++;
    }
  };
  try {
    last = Date.now();
    const start = last;
    const quiet = o.wait * 1000;
    await printNew();
    // Bounded: ends after `wait` quiet seconds, or MAX_WAIT_SECONDS however busy it is.
    while (Date.now() - last < quiet && Date.now() - start < MAX_WAIT_SECONDS * 1000) {
      await new Promise((r) => setTimeout(r, Math.min(POLL_MS, quiet)));
      await printNew();
    }
    await client.stopDeliveries();
    await printNew();
    return count;
  } finally {
    for (const f of off) f();
    await client.close();
  }
}
