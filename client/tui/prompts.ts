/**
 * The forms and lists of the client, on @clack/prompts. Every question can be cancelled (Esc,
 * Ctrl-C or Ctrl-D), which answers `null`: the caller goes back a step instead of exiting with a
 * stack trace. Problems are one line starting `pesuchat:`, with a hint on the next line when there is
 * something to do about them.
 *
 * @module
 */

import * as clack from "@clack/prompts";
import process from "node:process";

// Ctrl-D is "end of input": without this, node:readline under the prompt closes on it, takes the
// terminal out of raw mode (so the next password typed echoes in clear) and the form waits forever.
clack.updateSettings({ aliases: { "\x04": "cancel" } });

/** Where prompts are drawn: the terminal (stdout) for the client, stderr for scripts. */
export type PromptOutput = typeof process.stdout | typeof process.stderr;

/** A choice in a list. */
export interface Choice<T> {
  value: T;
  label: string;
  hint?: string;
}

function answer<T>(v: unknown): T | null {
  return clack.isCancel(v) || typeof v === "symbol" ? null : v as T;
}

/** Asks for a line of text; `validate` returns why an answer is refused. */
export async function ask(
  message: string,
  o: { validate?: (v: string) => string | undefined; placeholder?: string; initial?: string } = {},
): Promise<string | null> {
  return answer<string>(
    await clack.text({
      message,
      placeholder: o.placeholder,
      initialValue: o.initial,
      validate: o.validate ? (v) => o.validate!(v ?? "") : undefined,
    }),
  );
}

/** Asks for a secret; what is typed shows as `*`. */
export async function askSecret(
  message: string,
  o: { validate?: (v: string) => string | undefined; output?: PromptOutput } = {},
): Promise<string | null> {
  return answer<string>(
    await clack.password({
      message,
      mask: "*",
      validate: o.validate ? (v) => o.validate!(v ?? "") : undefined,
      output: o.output,
    }),
  );
}

/** A yes/no question. */
export async function confirm(
  message: string,
  o: { initial?: boolean; output?: PromptOutput } = {},
): Promise<boolean | null> {
  return answer<boolean>(
    await clack.confirm({ message, initialValue: o.initial ?? false, output: o.output }),
  );
}

/** A list to choose from; `signal` withdraws it (the answer is then `null`). */
export async function choose<T>(
  message: string,
  choices: Choice<T>[],
  o: { signal?: AbortSignal; maxItems?: number; initial?: T } = {},
): Promise<T | null> {
  return answer<T>(
    await clack.select<T>({
      message,
      // deno-lint-ignore no-explicit-any
      options: choices as any,
      signal: o.signal,
      maxItems: o.maxItems,
      initialValue: o.initial,
    }),
  );
}

/** Lines for the user, in the forms' style. */
export const say = {
  info(text: string, output?: PromptOutput): void {
    clack.log.info(text, { output });
  },
  step(text: string): void {
    clack.log.step(text);
  },
  success(text: string): void {
    clack.log.success(text);
  },
  warn(text: string): void {
    clack.log.warn(text);
  },
  /** A problem: one line `pesuchat: …`, and the hint on its own line. */
  problem(message: string, hint?: string): void {
    const lines = [message, ...(hint ? hint.split("\n") : [])];
    clack.log.error(lines.map((l) => `pesuchat: ${l}`).join("\n"));
  },
  note(text: string, title?: string): void {
    clack.note(text, title);
  },
};
