/**
 * Questions for `server setup` and `server run`: the clack prompts on a terminal, plain lines
 * when stdin is a pipe (so an operator's script can answer them). Prompts go to the terminal;
 * everything else the server says goes to stderr.
 *
 * @module
 */

import * as clack from "@clack/prompts";
import { ConfigError } from "./config.ts";

// Ctrl-D cancels like Ctrl-C: otherwise node:readline closes under the prompt, leaves raw mode
// (a password typed next would echo) and the question never ends.
clack.updateSettings({ aliases: { "\x04": "cancel" } });

/** A question with a default answer. */
export interface TextQuestion {
  message: string;
  defaultValue: string;
  validate?: (value: string) => string | undefined;
}

/** Asks the operator things. */
export interface Prompter {
  text(q: TextQuestion): Promise<string>;
  password(message: string): Promise<string>;
  select<T extends string>(message: string, options: { value: T; label: string }[]): Promise<T>;
  note(message: string): void;
}

/** The operator cancelled a question (Ctrl-C on a terminal). Answers on a pipe running out is a
 * `ConfigError` instead: a script's mistake, not a person's choice. */
export class PromptCancelled extends Error {
  override name = "PromptCancelled";
  constructor() {
    super("setup cancelled");
  }
}

/** The prompter that fits stdin: clack on a terminal, lines on a pipe. */
export function defaultPrompter(): Prompter {
  return Deno.stdin.isTerminal() ? clackPrompter() : linePrompter(Deno.stdin.readable);
}

function clackPrompter(): Prompter {
  const check = <T>(v: T | symbol): Exclude<T, symbol> => {
    if (clack.isCancel(v) || typeof v === "symbol") throw new PromptCancelled();
    return v as Exclude<T, symbol>;
  };
  return {
    async text(q) {
      const v = check(
        await clack.text({
          message: q.message,
          placeholder: q.defaultValue,
          defaultValue: q.defaultValue,
          validate: q.validate ? (s) => q.validate!(s || q.defaultValue) : undefined,
        }),
      );
      return v || q.defaultValue;
    },
    async password(message) {
      return check(await clack.password({ message, mask: "*" }));
    },
    async select(message, options) {
      // deno-lint-ignore no-explicit-any
      return check(await clack.select({ message, options: options as any })) as any;
    },
    note(message) {
      clack.log.info(message);
    },
  };
}

/** Reads one answer per line; an empty line takes the default. Used for scripted setup. */
export function linePrompter(input: ReadableStream<Uint8Array>): Prompter {
  const lines = input.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const queue: string[] = [];
  const next = async (message: string): Promise<string> => {
    console.error(message);
    while (queue.length === 0) {
      const { value, done } = await lines.read();
      if (done) {
        if (buffered) {
          queue.push(buffered);
          buffered = "";
          break;
        }
        throw new ConfigError(
          `the answers on stdin ran out before this question: ${message}`,
          "give one answer a line for every question, or use flags with --yes",
        );
      }
      buffered += value;
      const parts = buffered.split(/\r?\n/);
      buffered = parts.pop()!;
      queue.push(...parts);
    }
    return queue.shift()!;
  };
  return {
    async text(q) {
      for (;;) {
        const v = (await next(`${q.message} [${q.defaultValue}]`)).trim() || q.defaultValue;
        const problem = q.validate?.(v);
        if (!problem) return v;
        console.error(`pesuchat: ${problem}`);
      }
    },
    password(message) {
      return next(message);
    },
    async select(message, options) {
      const labels = options.map((o, i) => `${i + 1}) ${o.label}`).join("  ");
      for (;;) {
        const v = (await next(`${message} ${labels} [1]`)).trim() || "1";
        const byIndex = options[Number(v) - 1];
        const byValue = options.find((o) => o.value === v);
        if (byIndex ?? byValue) return (byIndex ?? byValue)!.value;
        console.error(`pesuchat: answer with a number from 1 to ${options.length}`);
      }
    },
    note(message) {
      console.error(message);
    },
  };
}
