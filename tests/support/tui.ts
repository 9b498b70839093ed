/**
 * Steps through the real client's forms under tmux, shared by the terminal tests.
 *
 * @module
 */

import type { TestServer } from "./server.ts";
import { timeLimited } from "./sessions.ts";
import { TmuxClient } from "./tmux.ts";

/** `pesuchat connect` to the test server under tmux, on a fresh profile, trusting its key. */
export async function tuiConnect(
  t: TestServer,
  size: { columns?: number; rows?: number } = {},
): Promise<TmuxClient> {
  const profile = await Deno.makeTempDir({ prefix: "pesuchat_tui_" });
  return await TmuxClient.start({
    args: ["connect", `127.0.0.1:${t.port}`, "--profile", profile, "--trust", t.server.fingerprint],
    ...size,
  });
}

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
