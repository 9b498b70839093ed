/**
 * What the chat core's users see besides the client itself: its error class, its events, the
 * password rule, and the helpers both halves of the core share.
 *
 * @module
 */

import { ServerError } from "./connection.ts";
import type { ActionContent } from "./content_actions.ts";
import type { MessageStateValue, StoredMessage } from "./local_store.ts";

/** Shortest password accepted at sign-up and password change. */
export const MIN_PASSWORD_CHARS = 10;

/** A problem a person can act on; `code` says which. */
export class ChatError extends Error {
  override name = "ChatError";
  constructor(
    readonly code:
      | "weak_password"
      | "bad_input"
      | "no_such_user"
      | "identity_changed"
      | "bad_identity"
      | "wrong_password"
      | "offline"
      | "not_logged_in"
      | "backups_off"
      | "restore_cancelled"
      | "wrong_recovery_key"
      | "weak_kdf"
      | "server",
    message: string,
  ) {
    super(message);
  }
}

/** Different characters a password needs at least. */
export const MIN_PASSWORD_DISTINCT_CHARS = 5;

/**
 * Every rule {@linkcode passwordProblem} applies, in words, to show before the password is
 * typed rather than only after a refusal.
 */
export function passwordRules(username: string): string {
  return `at least ${MIN_PASSWORD_CHARS} characters, ${MIN_PASSWORD_DISTINCT_CHARS} of them ` +
    `different, not containing "${username}", not starting "password", "qwerty" or a run like "1234567890"`;
}

/** Why a password is refused, or null when it is acceptable. */
export function passwordProblem(password: string, username?: string): string | null {
  if (password.length < MIN_PASSWORD_CHARS) return `use at least ${MIN_PASSWORD_CHARS} characters`;
  if (new Set(password).size < MIN_PASSWORD_DISTINCT_CHARS) return "use more different characters";
  if (username && password.toLowerCase().includes(username.toLowerCase())) {
    return "do not put the username in the password";
  }
  if (/^(.)\1*$/.test(password) || /^(0123456789|1234567890|password|qwerty)/i.test(password)) {
    return "this password is too easy to guess";
  }
  return null;
}

/** Events a front end listens to. */
export interface ChatEvents {
  /** A message was added (incoming, or outgoing from another path) or its state changed. */
  message(m: StoredMessage): void;
  /** Outgoing messages changed state (sent, delivered, read). */
  state(peer: string, mids: Uint8Array[], state: MessageStateValue): void;
  /** An outgoing message could not be sent: refused, or waiting too long (it is still resent). */
  failed(peer: string, mid: Uint8Array, reason: string): void;
  /** A contact's identity changed; it must be acknowledged before the next send. */
  identityChanged(peer: string): void;
  /** The connection went down, is retrying, or came back. */
  connection(status: "online" | "reconnecting" | "offline", detail: string): void;
  /**
   * Something about the conversation with `peer` worth a line in that chat: a message that could
   * not be decrypted, a repeated one ignored, a new session the contact started.
   */
  notice(peer: string, text: string): void;
  /** Something went wrong that the user should hear about (never a stack trace). */
  problem(message: string): void;
  /** A room was created, joined or changed (its id). */
  room(id: string): void;
  /** A message was edited, deleted, pinned or reacted to: where, by whom, and how. */
  action(conversation: string, from: string, action: ActionContent): void;
}

/** Turns the server's refusals into the sentences a person can act on. */
export async function explainServer<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (!(e instanceof ServerError)) throw e;
    switch (e.code) {
      case "bad_credentials":
        throw new ChatError("wrong_password", "wrong username or password");
      case "username_taken":
      case "invalid_username":
        throw new ChatError("bad_input", e.message);
      case "no_such_user":
        throw new ChatError("no_such_user", e.message);
      case "closed":
      case "timeout":
        throw new ChatError("offline", e.message);
      default:
        throw new ChatError("server", e.message);
    }
  }
}
