/**
 * The sign-up and log-in forms. Each field says its rule before it is refused, and a refusal
 * says why; cancelling any field (Esc, Ctrl-C) goes back to the menu.
 *
 * @module
 */

import { passwordProblem, passwordRules } from "../chat.ts";
import { canonicalUsername, USERNAME_RULE, usernameProblem } from "../../protocol/username.ts";
import { ask, askSecret, confirm, say } from "./prompts.ts";
import {
  BACKUP_QUESTION,
  BACKUP_TRADE_OFF,
  RECOVERY_KEY_AGAIN,
  RECOVERY_KEY_HINT,
  RECOVERY_KEY_PROMPT,
  RECOVERY_KEY_WARNING,
  RECOVERY_KEY_WRITTEN,
  recoveryKeyRows,
} from "../words.ts";

/** Times a new password may be mistyped before the form gives up and goes back. */
export const MAX_PASSWORD_ATTEMPTS = 3;

/** What the sign-up form collects. */
export interface SignupAnswers {
  fullName: string;
  email?: string;
  username: string;
  password: string;
  invite?: string;
  /** Keep an encrypted backup on the server (sealed under a recovery key the user keeps). */
  backup: boolean;
}

export { BACKUP_TRADE_OFF };

/** Asks whether to keep a backup on the server, after saying what it means. Null when cancelled. */
export async function askBackup(): Promise<boolean | null> {
  say.info(BACKUP_TRADE_OFF);
  return await confirm(BACKUP_QUESTION, { initial: false });
}

/**
 * Shows a new recovery key once, four groups to a line, and waits until the user says it is
 * written down (it is never shown again).
 */
export async function showRecoveryKey(key: string): Promise<void> {
  say.note(recoveryKeyRows(key).join("\n"), "Your recovery key");
  say.warn(RECOVERY_KEY_WARNING);
  while (!(await confirm(RECOVERY_KEY_WRITTEN, { initial: false }))) say.info(RECOVERY_KEY_AGAIN);
}

/** Asks for the recovery key to restore a backup, saying what was wrong with the last one. */
export async function askRecoveryKey(problem: string | null): Promise<string | null> {
  if (problem) {
    say.problem(problem, RECOVERY_KEY_HINT);
  }
  return await ask(RECOVERY_KEY_PROMPT, {
    validate: (v) => v.trim() ? undefined : "type the recovery key, or press Esc to give up",
  });
}

/** The shape an email address must have (the server never mails anyone; it is for people). */
export function emailProblem(email: string): string | undefined {
  if (email === "") return undefined;
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)
    ? undefined
    : "that does not look like an email address (name@example.org); leave it empty to skip";
}

/**
 * Asks for a new password twice, hidden; a weak one is refused with the reason. Null when
 * cancelled or mistyped {@linkcode MAX_PASSWORD_ATTEMPTS} times.
 */
export async function newPassword(username: string, label = "Password"): Promise<string | null> {
  for (let attempt = 0; attempt < MAX_PASSWORD_ATTEMPTS; attempt++) {
    const first = await askSecret(`${label} (${passwordRules(username)}; hidden)`, {
      validate: (v) => {
        const p = passwordProblem(v, username);
        return p ? `too weak: ${p}` : undefined;
      },
    });
    if (first === null) return null;
    const second = await askSecret(`${label} again`);
    if (second === null) return null;
    if (first === second) return first;
    say.problem("the two passwords differ", "type the same password twice");
  }
  return null;
}

/** The sign-up form: an invite token when the server needs one, full name, email (optional),
 * username, password twice, backup or not. */
export async function signupForm(needsInvite = false): Promise<SignupAnswers | null> {
  const invite = needsInvite
    ? await ask("Invite token (this server needs one; ask its operator)", {
      validate: (v) => v.trim() ? undefined : "the invite token cannot be empty",
    })
    : undefined;
  if (invite === null) return null;
  const fullName = await ask("Full name", {
    validate: (v) => v.trim() ? undefined : "the full name cannot be empty",
  });
  if (fullName === null) return null;
  const email = await ask("Email (optional; press Enter to skip)", { validate: emailProblem });
  if (email === null) return null;
  const username = await ask(`Username (${USERNAME_RULE})`, {
    validate: (v) => usernameProblem(v) ?? undefined,
  });
  if (username === null) return null;
  const canonical = canonicalUsername(username)!;
  const password = await newPassword(canonical);
  if (password === null) return null;
  const backup = await askBackup();
  if (backup === null) return null;
  return {
    fullName: fullName.trim(),
    ...(email.trim() ? { email: email.trim() } : {}),
    username: canonical,
    password,
    backup,
    ...(invite ? { invite: invite.trim() } : {}),
  };
}

/** The log-in form: username and password. */
export async function loginForm(): Promise<{ username: string; password: string } | null> {
  const username = await ask("Username", {
    validate: (v) => v.trim() ? undefined : "type your username",
  });
  if (username === null) return null;
  const password = await askSecret("Password");
  if (password === null) return null;
  return { username: username.trim(), password };
}
