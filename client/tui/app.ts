/**
 * `pesuchat connect`: the interactive client as a small state machine of screens. Each screen
 * runs, and returns the next screen as a value; failures become one line and a way back (the
 * menu, or retry), never a stack trace.
 *
 * @module
 */

import { type ChatClient, ChatError } from "../chat.ts";
import { HostKeyChangedError, HostKeyUnknownError } from "../known_hosts.ts";
import type { Profile } from "../profile.ts";
import type { Address } from "../servers.ts";
import { askRecoveryKey, loginForm, showRecoveryKey, signupForm } from "./account_forms.ts";
import { chatList } from "./chat_list.ts";
import { chatScreen } from "./chat_screen.ts";
import type { Status } from "./chat_view.ts";
import { ClientProblem, explain, hostKeyChangedLines } from "./problems.ts";
import { ask, askSecret, choose, confirm, say } from "./prompts.ts";
import { settingsMenu } from "./settings.ts";
import type { Terminal } from "./terminal.ts";
import { connectTrusting, trustQuestion } from "./trust.ts";
import { canonicalUsername, usernameProblem } from "../../protocol/username.ts";
import {
  NEW_IDENTITY_NOTICE,
  notTrusted,
  RESTORE_QUESTION,
  RESTORED_NOTICE,
  restoreLines,
} from "../words.ts";

/** Screens of the client; each step returns the next. */
export type Screen =
  | { kind: "connect" }
  | { kind: "welcome" }
  | { kind: "list"; notice?: string }
  | { kind: "newChat" }
  | { kind: "chat"; peer: string }
  | { kind: "settings" }
  | { kind: "exit"; code: number };

/** Where `connect` goes and how. */
export interface ConnectTarget {
  hostname: string;
  port: number;
  /** More addresses of the same server, tried in order. */
  alternates?: Address[];
  profile: Profile;
  trust?: string;
}

/** Runs the interactive client until the user quits; returns the exit code. */
export async function runConnect(target: ConnectTarget, term: Terminal): Promise<number> {
  const app = new App(target, term);
  try {
    let screen: Screen = { kind: "connect" };
    while (screen.kind !== "exit") screen = await app.step(screen);
    return screen.code;
  } finally {
    await app.close();
  }
}

class App {
  #client: ChatClient | null = null;
  #status: Status = "online";
  #offStatus: (() => void) | null = null;
  readonly server: string;

  constructor(readonly target: ConnectTarget, readonly term: Terminal) {
    this.server = `${target.hostname}:${target.port}`;
  }

  step(s: Screen): Promise<Screen> {
    switch (s.kind) {
      case "connect":
        return this.connect();
      case "welcome":
        return this.welcome();
      case "list":
        return this.list(s.notice);
      case "newChat":
        return this.newChat();
      case "chat":
        return this.chat(s.peer);
      case "settings":
        return this.settings();
      case "exit":
        return Promise.resolve(s);
    }
  }

  get client(): ChatClient {
    return this.#client!;
  }

  async close(): Promise<void> {
    this.#offStatus?.();
    await this.#client?.close().catch(() => {});
    this.#client = null;
  }

  /** Connects (again), trusting a new server only if the user says so; offers retry on failure. */
  async connect(next: Screen = { kind: "welcome" }): Promise<Screen> {
    await this.close();
    // Bounded by the user: every failed pass asks whether to try again.
    for (;;) {
      try {
        const client = await connectTrusting(
          this.target,
          trustQuestion(this.server, this.target.profile.knownHosts),
        );
        this.#client = client;
        this.#status = "online";
        this.#offStatus = client.on("connection", (s) => this.#status = s);
        return next;
      } catch (e) {
        if (e instanceof HostKeyChangedError) {
          const [first, ...rest] = hostKeyChangedLines(e);
          say.problem(first!, rest.join("\n"));
          return { kind: "exit", code: 1 };
        }
        if (e instanceof ClientProblem) {
          say.problem(e.message, e.hint);
          return { kind: "exit", code: 1 };
        }
        if (e instanceof HostKeyUnknownError) {
          say.problem(
            notTrusted(e.host),
            "connect again to be asked again, or pass --trust FINGERPRINT",
          );
          return { kind: "exit", code: 1 };
        }
        const p = explain(e);
        say.problem(`${this.server}: ${p.message}`, p.hint);
        const again = await choose("What now?", [
          { value: "retry", label: "Try again" },
          { value: "quit", label: "Quit" },
        ]);
        if (again !== "retry") return { kind: "exit", code: 1 };
      }
    }
  }

  /** The connection may have closed while a form waited (the server drops idle logins). */
  async #ensureConnected(next: Screen): Promise<Screen> {
    if (this.#client && this.#client.isOnline) return next;
    return await this.connect(next);
  }

  async welcome(): Promise<Screen> {
    const what = await choose(`pesuchat · ${this.server}`, [
      { value: "login", label: "Log in" },
      { value: "signup", label: "Sign up", hint: "create an account on this server" },
      { value: "quit", label: "Quit" },
    ]);
    if (what === "login") return await this.login();
    if (what === "signup") return await this.signup();
    return { kind: "exit", code: 0 };
  }

  async signup(): Promise<Screen> {
    // The server said in the handshake who may sign up: ask for a token, or say it is closed,
    // before anyone types a form for nothing.
    if (this.client.registration === "closed") {
      say.problem(
        "this server does not take new sign-ups",
        "ask its operator for an account, or log in",
      );
      return { kind: "welcome" };
    }
    const answers = await signupForm(this.client.registration === "token");
    if (answers === null) return { kind: "welcome" };
    const ready = await this.#ensureConnected({ kind: "welcome" });
    if (ready.kind === "exit") return ready;
    say.step("creating the account (deriving keys from the password takes a moment)");
    try {
      const { recoveryKey } = await this.client.signup(answers);
      if (recoveryKey) await showRecoveryKey(recoveryKey);
    } catch (e) {
      const p = explain(e);
      say.problem(p.message, p.hint ?? "back to the menu");
      return { kind: "welcome" };
    }
    return { kind: "list", notice: `signed up as ${answers.username}; welcome` };
  }

  async login(): Promise<Screen> {
    const answers = await loginForm();
    if (answers === null) return { kind: "welcome" };
    const ready = await this.#ensureConnected({ kind: "welcome" });
    if (ready.kind === "exit") return ready;
    say.step("logging in");
    try {
      const r = await this.client.login({
        ...answers,
        restore: async () => {
          say.info(restoreLines(answers.username).join("\n"));
          return await confirm(RESTORE_QUESTION, { initial: true }) ?? false;
        },
        recoveryKey: askRecoveryKey,
        previousPassword: async () => {
          say.info(
            "the password was changed on another computer; this computer's copy of the account\n" +
              "is still sealed under the previous password, needed once to re-seal it",
          );
          return await askSecret("Previous password");
        },
      });
      if (r.restored) return { kind: "list", notice: RESTORED_NOTICE };
      if (r.newIdentity) return { kind: "list", notice: NEW_IDENTITY_NOTICE };
    } catch (e) {
      const p = explain(e);
      say.problem(p.message, p.hint);
      return { kind: "welcome" };
    }
    return { kind: "list" };
  }

  async list(notice?: string): Promise<Screen> {
    if (!this.#client?.isOnline && this.#status === "offline") {
      notice ??= "offline: quit and connect again to log in";
    }
    const picked = await chatList(this.client, this.term, () => this.#status, notice);
    switch (picked.kind) {
      case "chat":
        return { kind: "chat", peer: picked.peer };
      case "newChat":
        return { kind: "newChat" };
      case "settings":
        return { kind: "settings" };
      case "quit":
        return { kind: "exit", code: 0 };
    }
  }

  async newChat(): Promise<Screen> {
    const name = await ask("Chat with (username)", {
      validate: (v) => usernameProblem(v) ?? undefined,
    });
    if (name === null) return { kind: "list" };
    const peer = canonicalUsername(name)!;
    if (peer === this.client.username) {
      return { kind: "list", notice: "pesuchat: that is you; choose someone else" };
    }
    try {
      await this.client.lookup(peer);
    } catch (e) {
      if (e instanceof ChatError && e.code === "no_such_user") {
        return { kind: "list", notice: `pesuchat: there is no user ${peer} on this server` };
      }
      const p = explain(e);
      return { kind: "list", notice: `pesuchat: ${p.message}` };
    }
    return { kind: "chat", peer };
  }

  async chat(peer: string): Promise<Screen> {
    const how = await chatScreen(this.client, this.term, peer, this.#status);
    if (how === "relogin") {
      say.info("log in again: what is not sent yet goes out once you are logged in");
      return await this.connect({ kind: "welcome" });
    }
    if (typeof how === "object") return { kind: "chat", peer: how.open };
    return how === "quit" ? { kind: "exit", code: 0 } : { kind: "list" };
  }

  async settings(): Promise<Screen> {
    const r = await settingsMenu(this.client);
    return r.next === "loggedOut" ? { kind: "welcome" } : { kind: "list", notice: r.notice };
  }
}
