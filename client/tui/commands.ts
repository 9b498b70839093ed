/**
 * Parses the chat screen's room and message-action commands into values the screen carries out
 * through the chat core. Kept apart from drawing so every form and every mistake is tested alone.
 *
 * @module
 */

import { MAX_REACTION_CHARS } from "../content_actions.ts";
/** A command the chat screen knows, with its arguments checked. */
export type Command =
  | { kind: "simple"; name: "help" | "back" | "quit" | "verify" | "accept" | "reject" | "retry" }
  | { kind: "newRoom"; room: "group" | "channel"; name: string; members: string[] }
  | { kind: "add"; users: string[] }
  | { kind: "remove"; user: string }
  | { kind: "leave" }
  | { kind: "admin"; user: string; on: boolean }
  | { kind: "rename"; name: string }
  | { kind: "invite"; revoke: boolean }
  | { kind: "join"; code: string }
  | { kind: "info" }
  | { kind: "reply"; n: number; text: string }
  | { kind: "edit"; n: number; text: string }
  | { kind: "delete"; n: number }
  | { kind: "pin"; n: number; on: boolean }
  | { kind: "react"; n: number; emoji: string | null }
  | { kind: "history"; n: number };

/**
 * What /help shows: every command of the chat screen on a line of its own, with what it does.
 * Rooms first, then message actions, then the rest; a test holds it to the parser.
 */
export const HELP_LINES: readonly string[] = [
  "rooms (groups and broadcast channels):",
  "/group new NAME USER...    make a group with these members, you its admin",
  "/channel new NAME USER...  make a channel: only admins post, members react",
  "/info                      name, members, admins, who is verified, joined when",
  "/add USER...               add members (admins)",
  "/remove USER               remove a member, who reads nothing after (admins)",
  "/admin promote|demote USER make a member an admin, or not (admins)",
  "/rename NAME               give the room a new name (admins)",
  "/invite                    new invite code (admins); /invite revoke ends it",
  "/join CODE                 join with an invite code; an admin's client admits",
  "/leave                     leave this room",
  "messages (N is the number beside one):",
  "/reply N TEXT              answer message N, quoting it",
  "/edit N TEXT               change your message N; it shows as edited",
  "/history N                 the earlier versions of message N, with times",
  "/delete N                  delete your N for everyone (room admins: any N)",
  "/pin N                     pin message N at the top, for everyone",
  "/unpin N                   take message N off the top",
  "/react N EMOJI             react to N, one each; /react N takes yours back",
  "this chat and pesuchat:",
  "/verify                    compare safety numbers, mark the contact verified",
  "/accept                    accept the contact's new safety number",
  "/reject                    refuse a new safety number; the old one stays",
  "/retry                     send again what is not sent yet (✗, or still …)",
  "/help                      this list",
  "/back                      back to the chat list",
  "/quit                      leave pesuchat (/exit too)",
  "//text                     send a message that starts with /",
];

/** What a typed line was: a command, or why it is not one (shown to the user as is). */
export type Parsed = { ok: true; command: Command } | { ok: false; error: string };

const SIMPLE = new Set(["help", "back", "quit", "verify", "accept", "reject", "retry"]);

const fail = (error: string): Parsed => ({ ok: false, error });
const ok = (command: Command): Parsed => ({ ok: true, command });

/** A message number as shown beside it: 1 or more, digits only. */
function number(word: string | undefined, usage: string): number | string {
  if (!word || !/^[1-9]\d{0,5}$/.test(word)) return `usage: ${usage} (N is the number beside it)`;
  return Number(word);
}

/** Parses `line`, which starts with "/" (and not "//"). */
export function parseCommand(line: string): Parsed {
  const trimmed = line.trim();
  const [head = "", ...words] = trimmed.split(/\s+/);
  const name = head.slice(1);
  // The rest of the line after the first `skip` words, with its own spacing kept.
  const rest = (skip: number) => {
    let s = trimmed;
    for (let i = 0; i < skip; i++) s = s.replace(/^\S+\s*/, "");
    return s;
  };
  if (name === "exit") return ok({ kind: "simple", name: "quit" });
  if (SIMPLE.has(name)) return ok({ kind: "simple", name: name as "help" });
  switch (name) {
    case "group":
    case "channel": {
      const usage = `/${name} new NAME USER...`;
      if (words[0] !== "new" || !words[1]) return fail(`usage: ${usage}`);
      return ok({ kind: "newRoom", room: name, name: words[1], members: words.slice(2) });
    }
    case "add":
      return words.length ? ok({ kind: "add", users: words }) : fail("usage: /add USER...");
    case "remove":
      return words.length === 1 ? ok({ kind: "remove", user: words[0]! }) : fail(
        "usage: /remove USER",
      );
    case "leave":
      return words.length === 0 ? ok({ kind: "leave" }) : fail("usage: /leave");
    case "admin": {
      const on = words[0] === "promote" ? true : words[0] === "demote" ? false : null;
      if (on === null || words.length !== 2) return fail("usage: /admin promote|demote USER");
      return ok({ kind: "admin", user: words[1]!, on });
    }
    case "rename": {
      const n = rest(1);
      return n ? ok({ kind: "rename", name: n }) : fail("usage: /rename NAME");
    }
    case "invite":
      if (words.length === 0) return ok({ kind: "invite", revoke: false });
      if (words.length === 1 && words[0] === "revoke") return ok({ kind: "invite", revoke: true });
      return fail("usage: /invite, or /invite revoke");
    case "join":
      return words.length === 1 ? ok({ kind: "join", code: words[0]! }) : fail(
        "usage: /join CODE",
      );
    case "info":
      return ok({ kind: "info" });
    case "reply":
    case "edit": {
      const usage = `/${name} N TEXT`;
      const n = number(words[0], usage);
      if (typeof n === "string") return fail(n);
      const text = rest(2);
      return text ? ok({ kind: name, n, text }) : fail(`usage: ${usage}`);
    }
    case "delete": {
      const n = number(words[0], "/delete N");
      return typeof n === "string" ? fail(n) : ok({ kind: "delete", n });
    }
    case "pin":
    case "unpin": {
      const n = number(words[0], `/${name} N`);
      return typeof n === "string" ? fail(n) : ok({ kind: "pin", n, on: name === "pin" });
    }
    case "history": {
      const n = number(words[0], "/history N");
      return typeof n === "string" || words.length > 1
        ? fail(typeof n === "string" ? n : "usage: /history N")
        : ok({ kind: "history", n });
    }
    case "react": {
      const n = number(words[0], "/react N EMOJI (no EMOJI takes yours back)");
      if (typeof n === "string") return fail(n);
      const emoji = words[1] ?? null;
      if (words.length > 2 || (emoji && emoji.length > MAX_REACTION_CHARS)) {
        return fail("usage: /react N EMOJI, one emoji");
      }
      return ok({ kind: "react", n, emoji });
    }
    default:
      return fail(`unknown command /${name}; /help lists the commands`);
  }
}
