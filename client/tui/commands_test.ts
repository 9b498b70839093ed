import assert from "node:assert/strict";
import { MAX_REACTION_CHARS } from "../content_actions.ts";
import { HELP_LINES, parseCommand } from "./commands.ts";

const cmd = (line: string) => {
  const p = parseCommand(line);
  assert.ok(p.ok, `${line}: ${!p.ok && p.error}`);
  return p.command;
};
const err = (line: string) => {
  const p = parseCommand(line);
  assert.ok(!p.ok, `${line} parsed`);
  return p.error;
};

Deno.test("commands: rooms are made, changed, joined and left", () => {
  assert.deepEqual(cmd("/group new Climbers bob carol"), {
    kind: "newRoom",
    room: "group",
    name: "Climbers",
    members: ["bob", "carol"],
  });
  assert.deepEqual(cmd("/channel new News"), {
    kind: "newRoom",
    room: "channel",
    name: "News",
    members: [],
  });
  assert.match(err("/group Climbers bob"), /usage: \/group new NAME USER/);
  assert.match(err("/group new"), /usage/);
  assert.deepEqual(cmd("/add bob  carol"), { kind: "add", users: ["bob", "carol"] });
  assert.match(err("/add"), /usage: \/add USER/);
  assert.deepEqual(cmd("/remove bob"), { kind: "remove", user: "bob" });
  assert.match(err("/remove bob carol"), /usage/);
  assert.deepEqual(cmd("/leave"), { kind: "leave" });
  assert.deepEqual(cmd("/admin promote bob"), { kind: "admin", user: "bob", on: true });
  assert.deepEqual(cmd("/admin demote bob"), { kind: "admin", user: "bob", on: false });
  assert.match(err("/admin bob"), /promote\|demote/);
  assert.deepEqual(cmd("/rename Big  Wall crew"), { kind: "rename", name: "Big  Wall crew" });
  assert.match(err("/rename"), /usage/);
  assert.deepEqual(cmd("/invite"), { kind: "invite", revoke: false });
  assert.deepEqual(cmd("/invite revoke"), { kind: "invite", revoke: true });
  assert.match(err("/invite now"), /usage/);
  assert.deepEqual(cmd("/join abc-123"), { kind: "join", code: "abc-123" });
  assert.match(err("/join"), /usage/);
  assert.deepEqual(cmd("/info"), { kind: "info" });
  assert.deepEqual(cmd("/exit"), { kind: "simple", name: "quit" });
  assert.deepEqual(cmd("/back"), { kind: "simple", name: "back" });
  assert.match(err("/frobnicate"), /unknown command \/frobnicate/);
});

Deno.test("commands: message actions pick a message by its number", () => {
  assert.deepEqual(cmd("/reply 3 sounds  good"), { kind: "reply", n: 3, text: "sounds  good" });
  assert.deepEqual(cmd("/edit 12 fixed"), { kind: "edit", n: 12, text: "fixed" });
  assert.match(err("/edit 12"), /usage: \/edit N TEXT/);
  assert.match(err("/reply x hi"), /N is the number beside it/);
  assert.match(err("/delete 0"), /usage: \/delete N/);
  assert.deepEqual(cmd("/delete 1"), { kind: "delete", n: 1 });
  assert.deepEqual(cmd("/pin 2"), { kind: "pin", n: 2, on: true });
  assert.deepEqual(cmd("/unpin 2"), { kind: "pin", n: 2, on: false });
  assert.deepEqual(cmd("/react 4 👍"), { kind: "react", n: 4, emoji: "👍" });
  assert.deepEqual(cmd("/react 4"), { kind: "react", n: 4, emoji: null });
  // The core's reaction limit, at N and N + 1.
  assert.ok(parseCommand(`/react 1 ${"x".repeat(MAX_REACTION_CHARS)}`).ok);
  assert.match(err(`/react 1 ${"x".repeat(MAX_REACTION_CHARS + 1)}`), /one emoji/);
  assert.match(err("/react 1 👍 🎉"), /one emoji/);
});

Deno.test("commands: /help gives every command a line of its own that fits 80 columns", () => {
  // Each command the parser knows, as /help names it at the start of its line.
  const known = [
    "/group new",
    "/channel new",
    "/info",
    "/add",
    "/remove",
    "/admin",
    "/rename",
    "/invite",
    "/join",
    "/leave",
    "/reply",
    "/edit",
    "/history",
    "/delete",
    "/pin",
    "/unpin",
    "/react",
    "/verify",
    "/accept",
    "/reject",
    "/retry",
    "/help",
    "/back",
    "/quit",
    "//text",
  ];
  for (const name of known) {
    const lines = HELP_LINES.filter((l) => l.startsWith(name + " "));
    assert.equal(lines.length, 1, `${name}: ${lines.length} lines in /help`);
    // The description, of a few words, starts in one column on every line.
    assert.match(lines[0]!.slice(0, 27), /^\S.*\S *$/, name);
    assert.match(lines[0]!.slice(26), /^ \S+ \S/, name);
    if (name !== "//text") {
      const p = parseCommand(name === "/group new" || name === "/channel new" ? name + " X" : name);
      assert.ok(p.ok || !/unknown command/.test(p.error), `${name} is not a command`);
    }
  }
  // And the other way: every line that names a command names one of these.
  for (const line of HELP_LINES.filter((l) => l.startsWith("/"))) {
    assert.ok(known.some((k) => line.startsWith(k + " ")), line);
  }
  for (const line of HELP_LINES) assert.ok(line.length <= 78, `${line.length}: ${line}`);
});

Deno.test("commands: /history picks one message by its number", () => {
  assert.deepEqual(cmd("/history 7"), { kind: "history", n: 7 });
  assert.match(err("/history"), /usage: \/history N/);
  assert.match(err("/history 7 8"), /usage: \/history N/);
  assert.match(err("/history seven"), /N is the number beside it/);
});
