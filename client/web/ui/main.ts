/**
 * The page: draws each view the local process sends and sends back what the user does. Every
 * value from the process goes into the page as text (`textContent`, `value`), never as HTML, so a
 * message, a name or a username cannot become markup, script or style. Plain DOM, no library.
 *
 * @module
 */

import type {
  Action,
  MessageView,
  Notice,
  ReactionView,
  RoomView,
  RowView,
  ServerMessage,
  VersionView,
  View,
} from "../view.ts";
import { asReaction, COMMON_REACTIONS, MAX_REACTION_CHARS, REACTION_RULE } from "../../reaction.ts";
import { EDITED_MARK } from "../../words.ts";

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | boolean | ((e: Event) => void)>;

/** An element; strings become text nodes, attributes are set one by one (never as markup). */
function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (v === true) el.setAttribute(k, "");
    else if (v !== false) el.setAttribute(k, v);
  }
  for (const c of children) if (c) el.append(c);
  return el;
}

const SVG = "http://www.w3.org/2000/svg";

let socket: WebSocket | null = null;
let current: { key: string; update: (v: View) => void } | null = null;
const root = document.getElementById("app")!;

function send(a: Action): void {
  socket?.send(JSON.stringify(a));
}

function noticeBox(): { el: HTMLElement; set: (n?: Notice) => void } {
  const el = h("p", { class: "notice", role: "status", "aria-live": "polite" });
  return {
    el,
    set(n) {
      el.textContent = n?.text ?? "";
      el.className = "notice" + (n?.kind === "error" ? " error" : "");
    },
  };
}

function field(
  label: string,
  name: string,
  o: { type?: string; hint?: string; autocomplete?: string; required?: boolean } = {},
): HTMLElement {
  return h(
    "label",
    {},
    label,
    o.hint ? h("span", { class: "hint" }, o.hint) : null,
    h("input", {
      name,
      type: o.type ?? "text",
      autocomplete: o.autocomplete ?? "off",
      required: o.required ?? false,
      autocapitalize: "none",
      spellcheck: "false",
    }),
  );
}

/** A form whose named inputs become the action's fields; passwords are cleared after sending. */
function form(
  title: string,
  fields: HTMLElement[],
  submit: string,
  toAction: (v: Record<string, string>) => Action,
  cls = "",
): HTMLElement {
  const f = h("form", { "aria-label": title, class: cls }, ...fields, h("button", {}, submit));
  f.addEventListener("submit", (e) => {
    e.preventDefault();
    const values: Record<string, string> = {};
    for (const input of f.querySelectorAll<HTMLInputElement>("input, textarea")) {
      values[input.name] = input.type === "checkbox" ? (input.checked ? "on" : "") : input.value;
    }
    for (const input of f.querySelectorAll<HTMLInputElement>("input[type=password]")) {
      input.value = "";
    }
    send(toAction(values));
  });
  return f;
}

function yesNo(question: string, yes: string, no: string, focusNo: boolean): HTMLElement[] {
  const y = h("button", { onclick: () => send({ do: "answer", yes: true }) }, yes);
  const n = h("button", { class: "plain", onclick: () => send({ do: "answer", yes: false }) }, no);
  queueMicrotask(() => (focusNo ? n : y).focus());
  return [
    h("p", { class: "question" }, h("strong", {}, question)),
    h("div", { class: "row" }, y, n),
  ];
}

function statusText(s: string): HTMLElement {
  return h("span", { class: `status ${s}`, role: "status" }, s);
}

// -- screens ---------------------------------------------------------------------------------------

type Screen = { el: HTMLElement; update: (v: View) => void; focus?: HTMLElement };

function simple(els: Child[], notice?: Notice): Screen {
  const nb = noticeBox();
  nb.set(notice);
  return {
    el: h("div", { class: "screen" }, nb.el, ...els),
    update: (v) => nb.set("notice" in v ? v.notice : undefined),
  };
}

function busyScreen(v: Extract<View, { screen: "busy" }>): Screen {
  const p = h("p", { role: "status", "aria-live": "polite" }, v.text);
  return { el: p, update: (n) => n.screen === "busy" && (p.textContent = n.text) };
}

function connectScreen(v: Extract<View, { screen: "connect" }>): Screen {
  const f = form(
    "Connect",
    [field("Server", "server", { hint: "HOST:PORT, as the server's operator gave it" })],
    "Connect",
    (x) => ({ do: "connect", server: x.server ?? "" }),
  );
  (f.querySelector("input") as HTMLInputElement).value = v.server;
  const s = simple([h("h1", {}, "pesuchat"), f], v.notice);
  return { ...s, focus: f.querySelector("input")! };
}

function trustScreen(v: Extract<View, { screen: "trust" }>): Screen {
  return simple([
    h("h1", {}, `First contact with ${v.server}`),
    h("p", {}, v.lines.join(" ")),
    h(
      "p",
      { class: "mono number", "aria-label": `key fingerprint ${v.fingerprint}` },
      v.fingerprint,
    ),
    ...yesNo(v.question, "Trust", "Do not trust", true),
  ]);
}

function welcomeScreen(v: Extract<View, { screen: "welcome" }>): Screen {
  const login = form(
    "Log in",
    [
      field("Username", "username", { autocomplete: "username", required: true }),
      field("Password", "password", { type: "password", autocomplete: "current-password" }),
    ],
    "Log in",
    (x) => ({ do: "login", username: x.username!, password: x.password! }),
  );
  const signup = form(
    "Sign up",
    [
      field("Full name", "fullName", { autocomplete: "name", required: true }),
      field("Email", "email", { type: "email", hint: "optional", autocomplete: "email" }),
      field("Username", "username", { hint: v.usernameRule, required: true }),
      field("Password", "password", {
        type: "password",
        hint: `at least ${v.minPassword} characters`,
        autocomplete: "new-password",
      }),
      field("Password again", "password2", { type: "password", autocomplete: "new-password" }),
      h("p", { id: "backup-text", class: "hint" }, v.backupText),
      h(
        "label",
        { class: "check" },
        h("input", { type: "checkbox", name: "backup", "aria-describedby": "backup-text" }),
        v.backupQuestion,
      ),
    ],
    "Sign up",
    (x) => ({
      do: "signup",
      fullName: x.fullName!,
      email: x.email!,
      username: x.username!,
      password: x.password!,
      password2: x.password2!,
      backup: x.backup === "on",
    }),
  );
  const s = simple([
    h("h1", {}, `pesuchat · ${v.server}`),
    h("section", { "aria-labelledby": "login-h" }, h("h2", { id: "login-h" }, "Log in"), login),
    h("section", { "aria-labelledby": "signup-h" }, h("h2", { id: "signup-h" }, "Sign up"), signup),
  ], v.notice);
  return { ...s, focus: login.querySelector("input")! };
}

function restoreScreen(v: Extract<View, { screen: "restore" }>): Screen {
  return simple([
    h("h1", {}, "Restore"),
    h("p", {}, v.lines.join(" ")),
    ...yesNo(v.question, "Restore", "Start afresh", false),
  ]);
}

function questionScreen(v: Extract<View, { screen: "question" }>): Screen {
  return simple([
    h("h1", {}, v.title),
    ...v.lines.map((l) => h("p", {}, l)),
    ...yesNo(v.question, "Yes", "No", true),
  ]);
}

function recoveryKeyScreen(v: Extract<View, { screen: "recoveryKey" }>): Screen {
  return simple([
    h("h1", {}, "Your recovery key"),
    h("pre", { class: "number mono recovery-key" }, v.rows.join("\n")),
    h("p", { role: "alert" }, v.warning),
    v.again ? h("p", { class: "notice" }, v.again) : null,
    ...yesNo(v.question, "Yes, it is written down", "Not yet", true),
  ]);
}

function askRecoveryKeyScreen(v: Extract<View, { screen: "askRecoveryKey" }>): Screen {
  const f = form(
    "Recovery key",
    [field(v.label, "key", { required: true })],
    "Restore",
    (x) => ({ do: "recoveryKey", key: x.key! }),
  );
  const s = simple([
    h("h1", {}, "Restore"),
    v.problem ? h("p", { class: "notice error", role: "alert" }, v.problem) : null,
    f,
    h("button", { class: "plain", onclick: () => send({ do: "answer", yes: false }) }, "Give up"),
  ]);
  return { ...s, focus: f.querySelector("input")! };
}

function rowItem(r: RowView): HTMLElement {
  const unread = r.unread > 0 ? `, ${r.unread} unread` : "";
  const members = r.members !== undefined ? `, ${r.members} members` : "";
  return h(
    "li",
    {},
    h(
      "button",
      {
        "aria-label": `${r.name}${members}, ${r.time}${unread}: ${r.preview}`,
        onclick: () => send({ do: "open", peer: r.peer }),
      },
      h("span", { class: "name" }, r.name),
      members ? h("span", { class: "time" }, `${r.members} members`) : null,
      h("span", { class: "time" }, r.time),
      h("span", { class: "preview" }, r.preview),
      r.unread > 0 ? h("span", { class: "unread" }, `${r.unread} unread`) : null,
    ),
  );
}

function listScreen(v: Extract<View, { screen: "list" }>): Screen {
  const nb = noticeBox();
  const title = h("h1", {});
  const status = h("span", {});
  const list = h("ul", { class: "chats", "aria-label": "Chats" });
  const empty = h("p", {}, "No chats yet: start one below.");
  const newChat = form(
    "New chat",
    [field("New chat with (username)", "username", { required: true })],
    "Start chat",
    (x) => ({ do: "newChat", username: x.username! }),
    "new-chat",
  );
  const settings = h(
    "button",
    { class: "plain", onclick: () => send({ do: "settings" }) },
    "Settings",
  );
  const update = (n: View) => {
    if (n.screen !== "list") return;
    nb.set(n.notice);
    title.textContent = n.header;
    status.replaceChildren(statusText(n.status));
    list.replaceChildren(...n.rows.map(rowItem));
    empty.hidden = n.rows.length > 0;
  };
  update(v);
  return {
    el: h(
      "div",
      { class: "screen" },
      h("header", {}, title, status, settings),
      nb.el,
      h("h2", {}, "Chats"),
      empty,
      list,
      newChat,
      newRoomForm(),
      form(
        "Join a room",
        [field("Invite code", "code", { required: true })],
        "Join",
        (x) => ({ do: "joinRoom", code: x.code! }),
        "new-chat",
      ),
    ),
    update,
    focus: (list.querySelector("button") as HTMLElement | null) ?? newChat.querySelector("input")!,
  };
}

function newRoomForm(): HTMLElement {
  const f = form(
    "New group or channel",
    [
      field("Room name", "name", { required: true }),
      field("Members (usernames, separated by commas)", "members"),
      h(
        "label",
        { class: "check" },
        h("input", { type: "checkbox", name: "channel" }),
        "Broadcast channel",
      ),
    ],
    "Create room",
    (x) => ({
      do: "newRoom",
      name: x.name!,
      kind: x.channel ? "channel" : "group",
      members: x.members ?? "",
    }),
    "new-chat",
  );
  return f;
}

/** What the composer does with its text: send, send as a reply, or replace a message's text. */
type ComposeMode = { kind: "send" } | { kind: "reply" | "edit"; id: string; what: string };

/** What a message's buttons open beside the composer. */
interface MessageHandlers {
  compose: (mode: ComposeMode, text?: string) => void;
  /** Opens the reaction picker for a message. */
  pick: (m: MessageView) => void;
  /** Opens a message's earlier texts. */
  history: (m: MessageView) => void;
}

function reactionItem(r: ReactionView, mine: string | undefined): HTMLElement {
  const text = `${r.emoji} ${r.count} · ${r.who.join(", ")}`;
  return h("li", {
    class: r.emoji === mine ? "mine" : "",
    "aria-label": `${r.emoji} from ${r.who.join(", ")}`,
  }, text);
}

function messageItem(
  m: MessageView,
  room: RoomView | undefined,
  on: MessageHandlers,
): HTMLElement {
  const act = (op: string) => send({ do: "message", op, id: m.id });
  // In a channel, members who may not post may still react.
  const canPost = !room || room.canPost;
  const tools: Child[] = [];
  const button = (label: string, onclick: () => void, aria?: string) =>
    h("button", { class: "plain", onclick, ...(aria ? { "aria-label": aria } : {}) }, label);
  if (!m.deleted) {
    if (canPost) {
      tools.push(button("Reply", () => on.compose({ kind: "reply", id: m.id, what: m.text })));
    }
    if (canPost && m.outgoing) {
      tools.push(
        button("Edit", () => on.compose({ kind: "edit", id: m.id, what: m.text }, m.text)),
      );
    }
    if (m.canDelete) tools.push(button("Delete for everyone", () => act("delete")));
    if (canPost) {
      tools.push(button(m.pinned ? "Unpin" : "Pin", () => act(m.pinned ? "unpin" : "pin")));
    }
    tools.push(button("React", () => on.pick(m), m.mine ? `React (yours: ${m.mine})` : "React"));
  }
  return h(
    "li",
    { class: m.outgoing ? "msg out" : "msg", "data-id": m.id },
    h("span", { class: room ? "who" : "sr-only" }, `${m.who}: `),
    m.quote && !m.deleted ? h("blockquote", { class: "quote" }, m.quote) : null,
    h("div", { class: m.deleted ? "text deleted" : "text" }, m.text),
    h(
      "div",
      { class: "meta" },
      m.time,
      m.edited
        ? h("button", {
          class: "link edited",
          "aria-label": `${EDITED_MARK}: show the earlier versions`,
          onclick: () => on.history(m),
        }, EDITED_MARK)
        : null,
      m.pinned && !m.deleted ? h("span", { class: "pinned" }, " · pinned") : null,
      m.mark ? " " : "",
      m.mark ? h("span", { class: "mark", "aria-label": markLabel(m.mark) }, m.mark) : null,
    ),
    m.reactions?.length && !m.deleted
      ? h(
        "ul",
        { class: "reactions", "aria-label": "Reactions" },
        ...m.reactions.map((r) => reactionItem(r, m.mine)),
      )
      : null,
    tools.length ? h("div", { class: "row tools" }, ...tools) : null,
  );
}

/**
 * The reaction picker, one per chat screen (so a redraw of the messages keeps what is typed in
 * it): the common emoji, any other single emoji typed in, and taking one's reaction back. Our
 * reaction is pressed; choosing it again takes it back, choosing another replaces it.
 */
function reactionPicker(onClose: () => void): {
  el: HTMLElement;
  open: (m: MessageView) => void;
  update: (messages: MessageView[]) => void;
  close: () => void;
} {
  let target: MessageView | null = null;
  const what = h("p", { class: "status" });
  const problem = h("p", { class: "notice error", role: "alert" });
  const react = (emoji: string | null) => {
    if (!target) return;
    const id = target.id;
    if (emoji === null || emoji === target.mine) send({ do: "message", op: "unreact", id });
    else send({ do: "message", op: "react", id, text: emoji });
    close();
  };
  const choices = COMMON_REACTIONS.map((e) =>
    h("button", {
      type: "button",
      class: "plain emoji",
      "aria-label": `React ${e}`,
      "aria-pressed": "false",
      onclick: () => react(e),
    }, e)
  );
  const typed = h("input", {
    name: "emoji",
    autocomplete: "off",
    maxlength: String(MAX_REACTION_CHARS),
    "aria-describedby": "emoji-rule",
  }) as HTMLInputElement;
  const other = h(
    "form",
    { "aria-label": "Type any emoji", class: "row" },
    h("label", {}, "Any other emoji", typed),
    h("button", { class: "plain" }, "React with it"),
  );
  other.addEventListener("submit", (e) => {
    e.preventDefault();
    const emoji = asReaction(typed.value);
    if (!emoji) {
      problem.textContent = `${REACTION_RULE}: "${typed.value.slice(0, 40)}" is not`;
      return;
    }
    typed.value = "";
    react(emoji);
  });
  const takeBack = h("button", {
    type: "button",
    class: "plain",
    onclick: () => react(null),
  }, "Take back my reaction");
  const el = h(
    "section",
    { class: "panel picker", role: "group", "aria-label": "Choose a reaction" },
    what,
    h("div", { class: "row" }, ...choices),
    other,
    h("p", { id: "emoji-rule", class: "hint" }, `${REACTION_RULE}, one per person per message`),
    problem,
    h(
      "div",
      { class: "row" },
      takeBack,
      h("button", { type: "button", class: "plain", onclick: () => close() }, "Close"),
    ),
  );
  el.hidden = true;
  el.addEventListener("keydown", (e) => e.key === "Escape" && close());
  const draw = () => {
    if (!target) return;
    what.textContent = `Reacting to: ${target.text.slice(0, 80)}`;
    for (const b of choices) {
      b.setAttribute("aria-pressed", String(b.textContent === target.mine));
    }
    takeBack.hidden = !target.mine;
    takeBack.textContent = `Take back my ${target.mine ?? "reaction"}`;
  };
  const close = () => {
    const was = target !== null;
    target = null;
    el.hidden = true;
    problem.textContent = "";
    if (was) onClose();
  };
  return {
    el,
    open(m) {
      target = m;
      el.hidden = false;
      problem.textContent = "";
      draw();
      (choices.find((b) => b.getAttribute("aria-pressed") === "true") ?? choices[0])!.focus();
    },
    update(messages) {
      if (!target) return;
      const m = messages.find((x) => x.id === target!.id);
      if (!m || m.deleted) return close();
      target = m;
      draw();
    },
    close,
  };
}

/** A message's earlier texts, with when each was written; drawn again as edits arrive. */
function historyPanel(onClose: () => void): {
  el: HTMLElement;
  open: (m: MessageView) => void;
  update: (messages: MessageView[]) => void;
} {
  let id: string | null = null;
  const list = h("ol", { "aria-label": "Versions, oldest first" });
  const closeButton = h("button", {
    type: "button",
    class: "plain",
    onclick: () => close(),
  }, "Close");
  const el = h(
    "section",
    { class: "panel history", "aria-label": "Edit history" },
    h("h2", {}, "Edit history"),
    h("p", { class: "hint" }, "kept on this computer only"),
    list,
    closeButton,
  );
  el.hidden = true;
  el.addEventListener("keydown", (e) => e.key === "Escape" && close());
  const item = (v: VersionView) =>
    h(
      "li",
      {},
      h("span", { class: "status" }, `${v.label} ${v.time}`),
      h("div", { class: "text" }, v.text),
    );
  const close = () => {
    const was = id !== null;
    id = null;
    el.hidden = true;
    if (was) onClose();
  };
  const draw = (m: MessageView | undefined) => {
    if (!m?.history) return close();
    list.replaceChildren(...m.history.map(item));
  };
  return {
    el,
    open(m) {
      id = m.id;
      el.hidden = false;
      draw(m);
      closeButton.focus();
    },
    update(messages) {
      if (id !== null) draw(messages.find((x) => x.id === id));
    },
  };
}

/** The room's information and, for its admins, the forms that change it. */
function roomPanel(room: RoomView): HTMLElement {
  const arg = h("input", {
    name: "arg",
    autocomplete: "off",
    autocapitalize: "none",
  }) as HTMLInputElement;
  const op = (name: string, label: string) =>
    h("button", {
      type: "button",
      class: "plain",
      onclick: () => send({ do: "room", op: name, arg: arg.value }),
    }, label);
  const members = h(
    "ul",
    { class: "members", "aria-label": "Members" },
    ...room.members.map((m) =>
      h(
        "li",
        {},
        m.username,
        m.admin ? " · admin" : "",
        m.verified ? " · verified" : " · not verified",
      )
    ),
  );
  return h(
    "details",
    { class: "room" },
    h("summary", {}, `Room info: ${room.kind}, ${room.members.length} members`),
    h("p", {}, `You joined ${room.joined}.`, room.member ? "" : " You are no longer a member."),
    members,
    room.invite ? h("p", { class: "invite" }, "Invite code: ", h("code", {}, room.invite)) : null,
    room.admin
      ? h(
        "form",
        { "aria-label": "Manage room", onsubmit: (e: Event) => e.preventDefault() },
        h("label", {}, "Username or new name", arg),
        h(
          "div",
          { class: "row" },
          op("add", "Add member"),
          op("remove", "Remove member"),
          op("promote", "Make admin"),
          op("demote", "Remove admin"),
          op("rename", "Rename"),
          op("invite", "Make invite code"),
          op("revoke", "Revoke invite code"),
        ),
      )
      : null,
    room.member
      ? h(
        "button",
        { class: "plain", onclick: () => send({ do: "room", op: "leave" }) },
        "Leave room",
      )
      : null,
  );
}

function markLabel(mark: string): string {
  switch (mark) {
    case "…":
      return "waiting to send";
    case "✓":
      return "on the server";
    case "✓✓":
      return "delivered";
    case "✓✓ read":
      return "read";
    case "✗ not sent":
      return "not sent";
    default:
      return mark;
  }
}

function chatScreen(v: Extract<View, { screen: "chat" }>): Screen {
  const nb = noticeBox();
  const title = h("h1", {});
  const status = h("span", {});
  const verified = h("span", { class: "status" });
  const banner = h("div", { class: "banner", role: "alert" });
  const list = h("ol", { class: "messages", role: "log", "aria-label": "Messages" });
  const text = h("textarea", {
    name: "text",
    rows: "2",
    "aria-describedby": "composer-hint",
  }) as HTMLTextAreaElement;
  const composer = h(
    "form",
    { class: "composer", "aria-label": "Write a message" },
    h("label", {}, "Message", text),
    h("button", {}, "Send"),
  ) as HTMLFormElement;
  const hint = h(
    "p",
    { id: "composer-hint", class: "status" },
    "Enter sends, Shift+Enter starts a new line; /verify, /accept, /reject and /back work as in " +
      "the terminal.",
  );
  let mode: ComposeMode = { kind: "send" };
  const modeLine = h("p", { class: "status", role: "status" });
  const cancel = h("button", {
    type: "button",
    class: "plain",
    onclick: () => compose({ kind: "send" }, ""),
  }, "Cancel");
  const modeBox = h("div", { class: "row" }, modeLine, cancel);
  modeBox.hidden = true;
  const compose = (m: ComposeMode, value?: string) => {
    mode = m;
    modeBox.hidden = m.kind === "send";
    modeLine.textContent = m.kind === "send"
      ? ""
      : `${m.kind === "reply" ? "Replying to" : "Editing"}: ${m.what.slice(0, 80)}`;
    if (value !== undefined) text.value = value;
    text.focus();
  };
  composer.addEventListener("submit", (e) => {
    e.preventDefault();
    if (!text.value.trim()) return;
    if (mode.kind === "edit") send({ do: "message", op: "edit", id: mode.id, text: text.value });
    else if (mode.kind === "reply") send({ do: "send", text: text.value, reply: mode.id });
    else send({ do: "send", text: text.value });
    text.value = "";
    compose({ kind: "send" });
  });
  const picker = reactionPicker(() => text.focus());
  const history = historyPanel(() => text.focus());
  const handlers: MessageHandlers = {
    compose: (m, value) => compose(m, value),
    pick: (m) => picker.open(m),
    history: (m) => history.open(m),
  };
  const roomBox = h("div", {});
  const pinned = h("ul", { class: "pinned", "aria-label": "Pinned messages" });
  const readOnly = h("p", { class: "status" });
  let panelKey = "";
  const verifyButton = h(
    "button",
    { class: "plain", onclick: () => send({ do: "verify" }) },
    "Verify",
  );
  text.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      composer.requestSubmit();
    }
  });
  const peer = v.peer;
  const update = (n: View) => {
    if (n.screen !== "chat") return;
    nb.set(n.notice);
    title.textContent = n.title;
    status.replaceChildren(statusText(n.status));
    verified.textContent = n.verified ? "verified" : "not verified";
    banner.hidden = !n.identityChanged;
    banner.replaceChildren(
      h("p", {}, n.identityText),
      h(
        "div",
        { class: "row" },
        h("button", { onclick: () => send({ do: "verify" }) }, "Verify"),
        h("button", { class: "plain", onclick: () => send({ do: "accept" }) }, "Accept"),
        h("button", { class: "plain", onclick: () => send({ do: "reject" }) }, "Reject"),
      ),
    );
    const atEnd = list.scrollTop + list.clientHeight >= list.scrollHeight - 8;
    const key = JSON.stringify(n.room ?? null);
    if (key !== panelKey) {
      panelKey = key;
      // The panel is drawn again when the room changes; it stays open if it was.
      const wasOpen = roomBox.querySelector("details")?.open ?? false;
      const panel = n.room ? roomPanel(n.room) : null;
      if (panel && wasOpen) panel.setAttribute("open", "");
      roomBox.replaceChildren(panel ?? "");
    }
    const pins = n.messages.filter((m) => m.pinned && !m.deleted);
    pinned.hidden = pins.length === 0;
    pinned.replaceChildren(...pins.map((m) => h("li", {}, `📌 ${m.who}: ${m.text}`)));
    composer.hidden = Boolean(n.room && !n.room.canPost);
    // A room's members are verified one by one, from their own chats.
    verifyButton.hidden = Boolean(n.room);
    readOnly.hidden = !composer.hidden;
    readOnly.textContent = n.room?.member
      ? "Only admins post in this channel."
      : "You are no longer a member of this room.";
    list.replaceChildren(
      ...(n.messages.length
        ? n.messages.map((m) => messageItem(m, n.room, handlers))
        : [h("li", { class: "status" }, `this is the start of your chat with ${peer}`)]),
    );
    if (atEnd) list.scrollTop = list.scrollHeight;
    picker.update(n.messages);
    history.update(n.messages);
    if (n.draft !== undefined && text.value === "") text.value = n.draft;
  };
  update(v);
  return {
    el: h(
      "div",
      { class: "screen" },
      h(
        "header",
        {},
        h("button", { class: "plain", onclick: () => send({ do: "back" }) }, "Back"),
        title,
        verified,
        status,
        verifyButton,
      ),
      banner,
      nb.el,
      roomBox,
      pinned,
      list,
      history.el,
      picker.el,
      modeBox,
      composer,
      readOnly,
      hint,
    ),
    update,
    focus: text,
  };
}

function qrCode(rows: string[]): SVGElement {
  const n = rows.length;
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `-4 -4 ${n + 8} ${n + 8}`);
  svg.setAttribute("class", "qr");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", "QR code of the safety number");
  let d = "";
  rows.forEach((row, y) => {
    for (let x = 0; x < row.length; x++) if (row[x] === "1") d += `M${x} ${y}h1v1h-1z`;
  });
  const bg = document.createElementNS(SVG, "rect");
  for (
    const [k, val] of [["x", "-4"], ["y", "-4"], ["width", `${n + 8}`], ["height", `${n + 8}`]]
  ) {
    bg.setAttribute(k!, val!);
  }
  bg.setAttribute("fill", "#fff");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", d);
  path.setAttribute("fill", "#000");
  svg.append(bg, path);
  return svg;
}

function verifyScreen(v: Extract<View, { screen: "verify" }>): Screen {
  return simple([
    h(
      "header",
      {},
      h("button", { class: "plain", onclick: () => send({ do: "back" }) }, "Back"),
      h("h1", {}, `Safety number with ${v.peer}`),
    ),
    h(
      "pre",
      { class: "number mono", "aria-label": `safety number ${v.digits}` },
      v.rows.join("\n"),
    ),
    qrCode(v.qr) as unknown as HTMLElement,
    h("p", {}, v.lines.join(" ")),
    ...yesNo(v.question, "They match", "They do not match", true),
  ]);
}

function settingsScreen(v: Extract<View, { screen: "settings" }>): Screen {
  const nb = noticeBox();
  const contacts = h("ul", { class: "chats", "aria-label": "Contacts to verify" });
  const backups = h("section", { "aria-labelledby": "backups-h" });
  const update = (n: View) => {
    if (n.screen !== "settings") return;
    nb.set(n.notice);
    backups.replaceChildren(
      h("h2", { id: "backups-h" }, "Backups"),
      ...(n.backupsOn
        ? [
          h("p", {}, "sealed under your recovery key; the server cannot read it"),
          h(
            "div",
            { class: "row" },
            h("button", { onclick: () => send({ do: "backup" }) }, "Back up now"),
            h(
              "button",
              { class: "plain", onclick: () => send({ do: "backupOff" }) },
              "Turn backups off",
            ),
          ),
        ]
        : [
          h("p", {}, n.backupText),
          h(
            "div",
            { class: "row" },
            h("button", { onclick: () => send({ do: "backupOn" }) }, "Turn backups on"),
          ),
        ]),
    );
    contacts.replaceChildren(
      ...n.contacts.map((c) =>
        h("li", {}, h("button", { onclick: () => send({ do: "verify", peer: c.peer }) }, c.name))
      ),
    );
  };
  update(v);
  const back = h("button", { class: "plain", onclick: () => send({ do: "back" }) }, "Back");
  return {
    el: h(
      "div",
      { class: "screen" },
      h("header", {}, back, h("h1", {}, "Settings")),
      nb.el,
      h("h2", {}, "Verify a contact (compare safety numbers)"),
      contacts,
      h("h2", {}, "Change password"),
      form(
        "Change password",
        [
          field("Current password", "current", {
            type: "password",
            autocomplete: "current-password",
          }),
          field("New password", "next", { type: "password", autocomplete: "new-password" }),
          field("New password again", "next2", { type: "password", autocomplete: "new-password" }),
        ],
        "Change password",
        (x) => ({
          do: "changePassword",
          current: x.current!,
          next: x.next!,
          next2: x.next2!,
        }),
      ),
      backups,
      h("h2", {}, "Log out"),
      h("div", { class: "row" }, h("button", { onclick: () => send({ do: "logout" }) }, "Log out")),
      h("h2", {}, "Delete account"),
      h(
        "p",
        {},
        `deleting removes ${v.username} and every message, on the server and on this computer; ` +
          "this cannot be undone",
      ),
      form(
        "Delete account",
        [field("Password, to confirm", "password", { type: "password" })],
        `Delete the account ${v.username} for good`,
        (x) => ({ do: "deleteAccount", password: x.password! }),
        "danger",
      ),
    ),
    update,
    focus: back,
  };
}

function build(v: View): Screen {
  switch (v.screen) {
    case "busy":
      return busyScreen(v);
    case "connect":
      return connectScreen(v);
    case "trust":
      return trustScreen(v);
    case "welcome":
      return welcomeScreen(v);
    case "restore":
      return restoreScreen(v);
    case "question":
      return questionScreen(v);
    case "recoveryKey":
      return recoveryKeyScreen(v);
    case "askRecoveryKey":
      return askRecoveryKeyScreen(v);
    case "list":
      return listScreen(v);
    case "chat":
      return chatScreen(v);
    case "verify":
      return verifyScreen(v);
    case "settings":
      return settingsScreen(v);
  }
}

function keyOf(v: View): string {
  if (v.screen === "chat" || v.screen === "verify") return `${v.screen} ${v.peer}`;
  if (v.screen === "trust") return `trust ${v.fingerprint}`;
  if (v.screen === "recoveryKey") return `recoveryKey ${v.again}`;
  if (v.screen === "askRecoveryKey") return `askRecoveryKey ${v.problem}`;
  return v.screen;
}

/** Draws `v`: the same screen is updated in place (keeping what is typed), another replaces it. */
function show(v: View): void {
  const key = keyOf(v);
  if (current?.key === key) {
    current.update(v);
    return;
  }
  const s = build(v);
  root.replaceChildren(s.el);
  document.title = v.screen === "chat" ? `${v.title} · pesuchat` : "pesuchat";
  current = { key, update: s.update };
  (s.focus ?? s.el.querySelector<HTMLElement>("h1, button, input"))?.focus();
}

/** Tries to open the WebSocket again this many times, a second apart, after it closes. */
const RECONNECT_TRIES = 10;
let tries = 0;
let stopped = false;

function connect(): void {
  const ws = new WebSocket(`ws://${location.host}/ws`);
  socket = ws;
  ws.onopen = () => tries = 0;
  ws.onmessage = (e) => {
    const m = JSON.parse(e.data as string) as ServerMessage;
    if (m.type === "view") show(m.view);
    else {
      stopped = true;
      current = null;
      root.replaceChildren(h("p", { role: "alert" }, m.text));
    }
  };
  ws.onclose = () => {
    if (socket !== ws) return;
    socket = null;
    if (stopped) return;
    current = null;
    if (tries++ < RECONNECT_TRIES) {
      root.replaceChildren(h("p", { role: "status" }, "reconnecting to pesuchat web…"));
      setTimeout(connect, 1000);
      return;
    }
    root.replaceChildren(
      h("p", { role: "alert" }, "the connection to pesuchat web closed; reload the page to retry"),
    );
  };
}

connect();
