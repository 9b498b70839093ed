/**
 * The terminal the client draws on: its size, raw keys, colour, and the alternate screen. The
 * forms (clack) and the chat screen both read keys through node:readline's keypress decoder on
 * the same `process.stdin`, so one never steals input the other was given, and a burst of keys
 * is split into single keypresses instead of being dropped.
 *
 * @module
 */

import process from "node:process";
import { emitKeypressEvents } from "node:readline";
import type { Key } from "./keys.ts";
import type { Row, RowStyle } from "./chat_view.ts";

/** The size assumed when the terminal does not say. */
export const DEFAULT_SIZE = Object.freeze({ columns: 80, rows: 24 });

/** What the screens need from a terminal. */
export interface Terminal {
  /** True when colour may be used (a terminal, and NO_COLOR unset). */
  readonly color: boolean;
  size(): { columns: number; rows: number };
  write(text: string): void;
  /** Delivers raw keys to `onKey` until the returned function is called. */
  readKeys(onKey: (str: string | undefined, key: Key | undefined) => void): () => void;
  /** Calls `fn` when the terminal is resized, until the returned function is called. */
  onResize(fn: () => void): () => void;
}

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined;
  }
}

/** The process's own terminal (stdin and stdout). */
export function processTerminal(): Terminal {
  return {
    color: Deno.stdout.isTerminal() && env("NO_COLOR") === undefined,
    size() {
      try {
        const { columns, rows } = Deno.consoleSize();
        if (columns > 0 && rows > 0) return { columns, rows };
      } catch {
        // not a terminal
      }
      return { ...DEFAULT_SIZE };
    },
    write(text) {
      // Noted so that a fatal signal can switch back to the shell's screen (restoreTerminal).
      if (text.includes(ESC.altScreenOn)) onAlternateScreen = true;
      if (text.includes(ESC.altScreenOff)) onAlternateScreen = false;
      process.stdout.write(text);
    },
    readKeys(onKey) {
      const stdin = process.stdin;
      emitKeypressEvents(stdin);
      if (stdin.isTTY) stdin.setRawMode(true);
      stdin.on("keypress", onKey);
      stdin.resume();
      return () => {
        stdin.off("keypress", onKey);
        if (stdin.isTTY) stdin.setRawMode(false);
        stdin.pause();
      };
    },
    onResize(fn) {
      try {
        Deno.addSignalListener("SIGWINCH", fn);
        return () => Deno.removeSignalListener("SIGWINCH", fn);
      } catch {
        return () => {}; // no SIGWINCH here (Windows): the size is read at each redraw anyway
      }
    },
  };
}

/** Escape sequences the screens use. */
export const ESC = Object.freeze({
  altScreenOn: "\x1b[?1049h",
  altScreenOff: "\x1b[?1049l",
  clearScreen: "\x1b[2J\x1b[H",
  clearLine: "\x1b[2K",
  hideCursor: "\x1b[?25l",
  /** Bracketed paste: the terminal marks pasted text, so its line breaks do not send it. */
  pasteOn: "\x1b[?2004h",
  pasteOff: "\x1b[?2004l",
  showCursor: "\x1b[?25h",
  moveTo: (row: number, col: number) => `\x1b[${row + 1};${col + 1}H`,
});

const STYLE: Record<RowStyle, [string, string]> = {
  header: ["\x1b[7m", "\x1b[27m"],
  plain: ["", ""],
  info: ["\x1b[2m", "\x1b[22m"],
  warn: ["\x1b[33m", "\x1b[39m"],
  error: ["\x1b[31m", "\x1b[39m"],
};

/**
 * One write that redraws every row in place and puts the cursor back, so a frame never shows
 * half-drawn (each row is positioned absolutely and cleared, whatever the terminal wrapped).
 */
export function frameText(
  rows: Row[],
  cursor: { row: number; col: number },
  color: boolean,
): string {
  let out = ESC.hideCursor;
  rows.forEach((r, i) => {
    const [on, off] = color ? STYLE[r.style] : ["", ""];
    out += ESC.moveTo(i, 0) + ESC.clearLine + on + r.text + off;
  });
  return out + ESC.moveTo(cursor.row, cursor.col) + ESC.showCursor;
}

/** Whether the real terminal is showing the alternate screen now (a chat is open). */
let onAlternateScreen = false;

/**
 * Puts the terminal back as the shell expects it: cooked mode (echo on), the cursor shown, no
 * bracketed paste, the shell's own screen. Safe to call at any time, on a terminal or not.
 */
export function restoreTerminal(): void {
  try {
    if (process.stdin.isTTY) process.stdin.setRawMode(false);
  } catch {
    // not a terminal any more (hung up)
  }
  try {
    if (Deno.stdout.isTerminal()) {
      const back = onAlternateScreen ? ESC.altScreenOff : "";
      onAlternateScreen = false;
      Deno.stdout.writeSync(new TextEncoder().encode(ESC.pasteOff + ESC.showCursor + back));
    }
  } catch {
    // the terminal is gone
  }
}

const FATAL_SIGNALS: [Deno.Signal, number][] = [["SIGTERM", 15], ["SIGHUP", 1]];

/**
 * Until the returned function is called, a SIGTERM or SIGHUP restores the terminal before the
 * process exits with 128 + the signal's number (as a shell reports it), instead of leaving the
 * terminal without echo.
 */
export function guardTerminal(): () => void {
  const listeners = FATAL_SIGNALS.map(([signal, n]) => {
    const fn = () => {
      restoreTerminal();
      Deno.exit(128 + n);
    };
    try {
      Deno.addSignalListener(signal, fn);
    } catch {
      // no such signal here (Windows)
    }
    return [signal, fn] as const;
  });
  return () => {
    for (const [signal, fn] of listeners) {
      try {
        Deno.removeSignalListener(signal, fn);
      } catch {
        // never added
      }
    }
  };
}
