/**
 * Steps through the real client's forms under tmux, shared by the terminal tests.
 *
 * @module
 */

import { timeLimited } from "./sessions.ts";
import type { TmuxClient } from "./tmux.ts";

/**
 * Signs up from the welcome menu (full name = the username in capitals, no server backup) and
 * waits for the list.
 */
export async function tuiSignUp(c: TmuxClient, username: string, password: string): Promise<void> {
  await c.prompt("pesuchat ·");
  await c.keys("Down", "Enter");
  for (
    const [prompt, answer] of [
      ["Full name", username.toUpperCase()],
      ["Email (optional", ""],
      ["Username (3-32", username],
      ["Password (at least", password],
      ["Password again", password],
    ]
  ) {
    await c.prompt(prompt!);
    await c.line(answer!);
  }
  await c.prompt("Keep an encrypted backup");
  await c.keys("Enter"); // no backup
  await c.waitFor("Chats");
}

/** From the chat list, opens the chat with `peer` through "New chat". */
export async function tuiOpenChat(c: TmuxClient, peer: string): Promise<void> {
  await c.prompt("Chats");
  await c.keys("Enter");
  await c.prompt("Chat with (username)");
  await c.line(peer);
  await c.waitFor(new RegExp(`\\(${peer}\\) · |^ ${peer} · `, "m"));
}

/** A terminal test ends in this time or fails, whatever hangs. */
export const TUI_TEST_LIMIT_MS = 180_000;

/** Wraps a test so it fails after `limitMs` instead of hanging the suite. */
export function withLimit(
  fn: () => Promise<void>,
  limitMs = TUI_TEST_LIMIT_MS,
): () => Promise<void> {
  return () => timeLimited(limitMs, fn);
}
