/**
 * Every failure the client can meet, as a sentence a person can act on and a hint: wrong
 * password, unknown or changed server key, server down, network cut. No stack traces reach the
 * screen; an error nobody expected still reads as one line.
 *
 * @module
 */

import { ChatError } from "../chat.ts";
import { ServerError } from "../connection.ts";
import { HostKeyChangedError, HostKeyUnknownError } from "../known_hosts.ts";
import { ProtocolError } from "../../protocol/errors.ts";

/** A problem as the user reads it. */
export interface Problem {
  message: string;
  hint?: string;
  /** The exit code a command ends with because of it. */
  exitCode: number;
}

/** A command line that cannot be run as given (exit code 2). */
export class UsageError extends Error {
  override name = "UsageError";
  readonly code = "usage";
  constructor(message: string, readonly hint = "see --help") {
    super(message);
  }
}

/** A problem the client found itself (no account, no password, no terminal). */
export class ClientProblem extends Error {
  override name = "ClientProblem";
  constructor(
    readonly code: "no_account" | "no_password" | "no_terminal" | "not_sent" | "trust_mismatch",
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/**
 * The warning for a changed server key, line by line: what it means and how to proceed. The
 * client never connects after it.
 */
export function hostKeyChangedLines(e: HostKeyChangedError): string[] {
  return [
    `WARNING: the server key for ${e.host} has changed`,
    `  remembered: ${e.knownFingerprint}`,
    `  presented:  ${e.presentedFingerprint}`,
    "someone may be impersonating the server,",
    "or it was set up again (reinstalled) with a new key.",
    "not connecting. If you know the server was set up again,",
    "check the new fingerprint with its operator, then remove",
    `the line for ${e.host} from`,
    `  ${e.file}`,
    "and connect again.",
  ];
}

function where(e: Error): string {
  const m = e.message.match(/\b(?:to|from) (\S+:\d+)/);
  return m ? m[1]! : "the server";
}

/** The problem `e` stands for. */
export function explain(e: unknown): Problem {
  if (e instanceof UsageError) return { message: e.message, hint: e.hint, exitCode: 2 };
  if (e instanceof ClientProblem) return { message: e.message, hint: e.hint, exitCode: 1 };
  if (e instanceof HostKeyChangedError) {
    const [first, ...rest] = hostKeyChangedLines(e);
    return { message: first!, hint: rest.join("\n"), exitCode: 1 };
  }
  if (e instanceof HostKeyUnknownError) {
    return {
      message: `the key of ${e.host} is not known yet: ${e.presentedFingerprint}`,
      hint: "compare it with the fingerprint the server printed, then pass\n" +
        `--trust ${e.presentedFingerprint}`,
      exitCode: 1,
    };
  }
  if (e instanceof ChatError) return chatProblem(e);
  if (e instanceof ServerError) {
    if (e.code === "unavailable") {
      return {
        message: "the server's database is unavailable, try again",
        hint: "try again in a moment; if it lasts, tell the server's operator",
        exitCode: 1,
      };
    }
    return { message: `the server refused: ${e.message}`, exitCode: 1 };
  }
  if (e instanceof Deno.errors.ConnectionRefused) {
    return {
      message: "cannot reach the server: the connection was refused",
      hint: "is the server running? check the address and port",
      exitCode: 1,
    };
  }
  if (e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.BrokenPipe) {
    return {
      message: "the connection to the server was cut",
      hint: "check the network and try again",
      exitCode: 1,
    };
  }
  if (e instanceof ProtocolError) {
    if (e.code === "timeout") {
      return {
        message: `no answer from ${where(e)}`,
        hint: "check the address; a firewall may be dropping the connection",
        exitCode: 1,
      };
    }
    if (e.code === "bad_preamble" || e.code === "version_mismatch") {
      return {
        message: `that address does not answer as a pesuchat server (${e.message})`,
        hint: "check the address and port",
        exitCode: 1,
      };
    }
    return {
      message: `the connection failed: ${e.message}`,
      hint: "try again; if it keeps failing, ask the server's operator",
      exitCode: 1,
    };
  }
  if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
    return { message: `not permitted: ${(e as Error).message}`, exitCode: 1 };
  }
  const message = (e as Error)?.message ?? String(e);
  if (/failed to lookup address|Name or service not known|No such host/i.test(message)) {
    return {
      message: "cannot find that server: the host name is unknown",
      hint: "check the spelling of the address",
      exitCode: 1,
    };
  }
  if ((e as Error)?.name === "HandshakeError") {
    return {
      message: `the secure handshake with the server failed (${message})`,
      hint: "check the address; if it keeps failing, ask the server's operator",
      exitCode: 1,
    };
  }
  return { message: `unexpected error: ${message.split("\n")[0]}`, exitCode: 1 };
}

function chatProblem(e: ChatError): Problem {
  switch (e.code) {
    case "wrong_password":
      // The core says which: the login's pair, or the current password when changing it.
      return {
        message: e.message,
        ...(/username/.test(e.message)
          ? { hint: "check both; after several failures the server makes you wait" }
          : {}),
        exitCode: 1,
      };
    case "offline":
      return {
        message: "not connected to the server",
        hint: "check the network and that the server is running, then try again",
        exitCode: 1,
      };
    case "weak_password":
      return { message: `the password is too weak: ${e.message}`, exitCode: 1 };
    case "identity_changed":
      return {
        message: e.message,
        hint: "compare safety numbers in 'pesuchat connect', then /accept",
        exitCode: 1,
      };
    default:
      return { message: e.message, exitCode: 1 };
  }
}
