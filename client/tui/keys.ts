/**
 * Keys to intentions on the chat screen. node:readline's keypress decoder splits what arrives
 * (a burst of pasted text, several keys in one read) into single keys, so nothing is lost when
 * keys come faster than the screen redraws; this file only says what each one means.
 *
 * @module
 */

import type { Edit } from "./line_editor.ts";

/** A key as node:readline's `keypress` event describes it. */
export interface Key {
  name?: string;
  ctrl?: boolean;
  meta?: boolean;
  shift?: boolean;
  sequence?: string;
  /** An escape sequence's code when the decoder has no name for it, e.g. "[200". */
  code?: string;
}

/** What a key asks the chat screen to do. */
export type KeyAction =
  | { kind: "edit"; edit: Edit }
  | { kind: "submit" }
  | { kind: "interrupt" } // Ctrl-C: leave
  | { kind: "eof" } // Ctrl-D: leave when the line is empty
  | { kind: "redraw" } // Ctrl-L
  | { kind: "scroll"; by: "pageUp" | "pageDown" }
  // Bracketed paste begins or ends. Deno's decoder splits the marker ESC [200~ into "ESC [200"
  // and a "~" key: `tilde` says that "~" is still to come and is part of the marker.
  | { kind: "paste"; on: boolean; tilde: boolean }
  | { kind: "none" };

/** A line break typed into the message (Alt-Enter), or an Enter inside a paste. */
export const NEW_LINE: KeyAction = Object.freeze({
  kind: "edit",
  edit: Object.freeze({ kind: "insert", text: "\n" }),
});

const EDIT_KEYS: Record<string, Edit> = {
  backspace: { kind: "backspace" },
  delete: { kind: "delete" },
  left: { kind: "left" },
  right: { kind: "right" },
  home: { kind: "home" },
  end: { kind: "end" },
};

const CTRL_KEYS: Record<string, KeyAction> = {
  c: { kind: "interrupt" },
  d: { kind: "eof" },
  l: { kind: "redraw" },
  a: { kind: "edit", edit: { kind: "home" } },
  e: { kind: "edit", edit: { kind: "end" } },
  b: { kind: "edit", edit: { kind: "left" } },
  f: { kind: "edit", edit: { kind: "right" } },
  h: { kind: "edit", edit: { kind: "backspace" } },
  u: { kind: "edit", edit: { kind: "killBefore" } },
  k: { kind: "edit", edit: { kind: "killAfter" } },
  w: { kind: "edit", edit: { kind: "killWordBefore" } },
  left: { kind: "edit", edit: { kind: "wordLeft" } },
  right: { kind: "edit", edit: { kind: "wordRight" } },
};

/** The action of one keypress (`str` is the text it typed, if any). */
export function keyAction(str: string | undefined, key: Key | undefined): KeyAction {
  const name = key?.name;
  if (name === "paste-start" || name === "paste-end") {
    return { kind: "paste", on: name === "paste-start", tilde: false };
  }
  const code = key?.code;
  if (code === "[200" || code === "[201") {
    return { kind: "paste", on: code === "[200", tilde: true };
  }
  if ((name === "return" || name === "enter") && key?.meta) return NEW_LINE;
  if (name === "return" || name === "enter") return { kind: "submit" };
  if (key?.ctrl && name && CTRL_KEYS[name]) return CTRL_KEYS[name]!;
  if (key?.meta && name === "b") return { kind: "edit", edit: { kind: "wordLeft" } };
  if (key?.meta && name === "f") return { kind: "edit", edit: { kind: "wordRight" } };
  if (key?.meta && name === "backspace") return { kind: "edit", edit: { kind: "killWordBefore" } };
  if (name === "pageup") return { kind: "scroll", by: "pageUp" };
  if (name === "pagedown") return { kind: "scroll", by: "pageDown" };
  if (name && EDIT_KEYS[name] && !key?.ctrl && !key?.meta) {
    return { kind: "edit", edit: EDIT_KEYS[name]! };
  }
  if (key?.ctrl || key?.meta) return { kind: "none" };
  // Typed text: anything printable; escape sequences the decoder did not name are dropped.
  if (str && !str.startsWith("\x1b") && !/^\p{Cc}$/u.test(str)) {
    return { kind: "edit", edit: { kind: "insert", text: str } };
  }
  return { kind: "none" };
}
