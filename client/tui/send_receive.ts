/**
 * `pesuchat send` and `pesuchat receive`, for scripts and bots in the spirit of signal-cli: the
 * same profile and keys as the interactive client, the password from PESUCHAT_PASSWORD or
 * PESUCHAT_PASSWORD_FILE (or asked on a terminal), output on stdout, problems on stderr.
 *
 * @module
 */

import process from "node:process";
import { type ChatClient, ChatError } from "../chat.ts";
import { MessageState, type StoredMessage } from "../local_store.ts";
import type { ActionContent } from "../content.ts";
import { KnownHosts } from "../known_hosts.ts";
import type { Profile } from "../profile.ts";
import { type Address, serverIdOf, serverIdOfFingerprint, showAddress } from "../servers.ts";
import { canonicalUsername } from "../../protocol/username.ts";
import { fullTime } from "./format.ts";
import { ClientProblem } from "./problems.ts";
import { askSecret } from "./prompts.ts";
import { textLines, textWidth } from "./text_width.ts";
import { actionText } from "../words.ts";
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
  /** More addresses of the same server, tried in order. */
  alternates?: Address[];
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
 * The accounts this profile may have on the server at `t`'s addresses, found without connecting:
 * under the key known_hosts holds for any of the addresses or the `--trust` fingerprint names,
 * and under the addresses themselves (profiles from before servers were known by their key).
 */
export async function accountsFor(t: ScriptTarget): Promise<{ names: string[]; known: boolean }> {
  const knownHosts = await KnownHosts.load(t.profile.knownHosts);
  const addresses = [t, ...(t.alternates ?? [])].map(showAddress);
  const places = new Set<string>(addresses);
  let known = false;
  if (t.trust !== undefined) places.add(serverIdOfFingerprint(t.trust));
  for (const a of addresses) {
    const key = knownHosts.get(a);
    if (key) {
      places.add(await serverIdOf(key));
      known = true;
    }
  }
  const names = new Set<string>();
  for (const p of places) for (const n of await t.profile.accountsOn(p)) names.add(n);
  return { names: [...names].sort(), known };
}

function chooseAccount(t: ScriptTarget, names: string[], server: string, hint: string): string {
  if (t.user !== undefined) {
    const u = canonicalUsername(t.user);
    if (!u || !names.includes(u)) {
      throw new ClientProblem(
        "no_account",
        `no account ${t.user} for ${server} in ${t.profile.dir}`,
        hint,
      );
    }
    return u;
  }
  if (names.length === 0) {
    throw new ClientProblem("no_account", `no account for ${server} in ${t.profile.dir}`, hint);
  }
  if (names.length > 1) {
    throw new ClientProblem(
      "no_account",
      `${t.profile.dir} has several accounts for ${server}: ${names.join(", ")}`,
      "choose one with --user NAME",
    );
  }
  return names[0]!;
}

/**
 * Connects and logs in to an account that already has a local store in the profile.
 * `beforeLogin` runs on the connected client first (to listen before messages start to flow).
 */
export async function scriptLogin(
  t: ScriptTarget,
  beforeLogin?: (client: ChatClient) => void,
): Promise<ChatClient> {
  const server = [t, ...(t.alternates ?? [])].map(showAddress).join(",");
  const connectHint =
    `sign up or log in once with 'pesuchat connect ${server} --profile ${t.profile.dir}'`;
  const found = await accountsFor(t);
  const ask = Deno.stdin.isTerminal()
    ? trustQuestion(server, t.profile.knownHosts, process.stderr)
    : undefined;
  let client: ChatClient | null = null;
  let names = found.names;
  try {
    if (names.length === 0 && !found.known && (await t.profile.hasAnyAccount())) {
      // Perhaps a new address of a server this profile knows by its key: connect to see which
      // key it has (an unknown or mismatched key is reported as such).
      client = await connectTrusting(t, ask);
      names = await t.profile.accountsOn(client.serverId);
    }
    const username = chooseAccount(t, names, server, connectHint);
    const password = await scriptPassword(username);
    client ??= await connectTrusting(t, ask);
    if (!(await t.profile.hasAccount(client.serverId, username))) {
      throw new ClientProblem(
        "no_account",
        `no account ${username} for the server at ${client.server} in ${t.profile.dir}`,
        connectHint,
      );
    }
    beforeLogin?.(client);
    // The local store exists, so there is nothing to restore: never start a new identity here.
    await client.login({ username, password, restore: () => Promise.resolve(false) });
    return client;
  } catch (e) {
    await client?.close().catch(() => {});
    throw e;
  }
}

/** Waits until the message `mid` in `conversation` has reached the server. */
async function untilSent(client: ChatClient, conversation: string, mid: Uint8Array) {
  const deadline = Date.now() + SEND_TIMEOUT_MS;
  const id = mid.toHex();
  // Bounded by SEND_TIMEOUT_MS.
  while (Date.now() < deadline) {
    const mine = (await client.history(conversation, 50)).find((m) => m.mid.toHex() === id);
    if (mine && mine.state >= MessageState.sent) return;
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  throw new ClientProblem(
    "not_sent",
    "the server did not take the message in time; it is queued in the profile",
    "it goes out the next time this account connects (send, receive or connect)",
  );
}

/** Sends `text` to a room by name or id; resolves once the server has it. */
export async function sendGroupCommand(
  t: ScriptTarget,
  room: string,
  text: string,
): Promise<void> {
  const client = await scriptLogin(t);
  try {
    await client.settle();
    const r = await client.rooms.find(room);
    const message = await client.rooms.send(r.id, text);
    await client.settle();
    await untilSent(client, r.peer, message.mid);
  } finally {
    await client.close();
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
    await untilSent(client, to, message.mid);
  } finally {
    await client.close();
  }
}

/** Where a message was said: a room's id and name, when it was in a room. */
export interface Said {
  from: string;
  room?: { id: string; name: string };
  replyTo?: string;
}

/** One received message as `receive` prints it. */
export function receivedLine(m: StoredMessage, json: boolean, said?: Said): string {
  const from = said?.from ?? m.peer;
  if (json) {
    return JSON.stringify({
      type: "message",
      from,
      ...(said?.room ? { room: said.room } : {}),
      text: m.text,
      ts: m.ts,
      id: m.mid.toHex(),
      ...(said?.replyTo ? { replyTo: said.replyTo } : {}),
    });
  }
  const prefix = `${fullTime(m.ts)} ${said?.room ? `[${said.room.name}] ` : ""}${from}: `;
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
  // Actions and room changes are printed as they arrive in this run, after the messages.
  const events: Promise<string>[] = [];
  const client = await scriptLogin(t, (c) => {
    off = [
      c.on("message", (m) => {
        if (!m.outgoing) last = Date.now();
      }),
      c.on("notice", (_peer, text) => console.error(`pesuchat: ${text}`)),
      c.on("problem", (p) => console.error(`pesuchat: ${p}`)),
      c.on("action", (conversation, from, a) => {
        last = Date.now();
        events.push(actionLine(c, conversation, from, a, o.json));
      }),
      c.on("room", (id) => {
        last = Date.now();
        events.push(roomLine(c, id, o.json));
      }),
    ];
  });
  const printNew = async () => {
    for (const m of await client.unprinted()) {
      write(receivedLine(m, o.json, await saidOf(client, m)));
      // After the write: a crash in between prints it again rather than never.
      client.markPrinted(m.mid);
      count++;
    }
    for (const e of events.splice(0)) write(await e);
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

/** Who said a message and where, for `receive`. */
async function saidOf(client: ChatClient, m: StoredMessage): Promise<Said> {
  const reply = (await client.rooms.actions(m.mid)).replyTo;
  const said: Said = { from: client.rooms.author(m), ...(reply ? { replyTo: reply } : {}) };
  if (!m.peer.startsWith("#")) return said;
  const info = await client.rooms.info(m.peer.slice(1)).catch(() => null);
  return { ...said, room: { id: m.peer.slice(1), name: info?.name ?? "" } };
}

/** An action as `receive` prints it: a typed JSON event, or a line. */
async function actionLine(
  client: ChatClient,
  conversation: string,
  from: string,
  a: ActionContent,
  json: boolean,
): Promise<string> {
  const room = conversation.startsWith("#")
    ? await client.rooms.info(conversation.slice(1)).then(
      (r) => ({ id: r.id, name: r.name }),
      () => undefined,
    )
    : undefined;
  const fields = a.t === "edit"
    ? { text: a.text }
    : a.t === "pin"
    ? { on: a.on }
    : a.t === "react"
    ? { emoji: a.emoji }
    : {};
  if (json) {
    return JSON.stringify({
      type: a.t,
      from,
      ...(room ? { room } : {}),
      target: a.target.toHex(),
      ...fields,
    });
  }
  const where = room ? `[${room.name}] ` : "";
  return `${fullTime(Date.now())} ${where}${from} ${actionText(a)}`;
}

/** A room's state as `receive` prints it when it changes. */
async function roomLine(client: ChatClient, id: string, json: boolean): Promise<string> {
  const r = await client.rooms.info(id);
  if (json) {
    return JSON.stringify({
      type: "room",
      room: { id: r.id, name: r.name },
      kind: r.kind,
      version: r.version,
      member: r.member,
      members: r.members.map((m) => m.username),
      admins: r.members.filter((m) => m.admin).map((m) => m.username),
    });
  }
  return `${fullTime(Date.now())} [${r.name}] ${r.kind} of ${r.members.length}` +
    (r.member ? "" : " (you are no longer a member)");
}
