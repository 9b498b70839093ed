/**
 * The web interface's screens, run in the local process: the same chat core as `connect`, the
 * same words, and the same steps (trust, sign up or log in, the list, chats, verify, settings).
 * The page only draws the {@linkcode View} it is sent and sends back an {@linkcode Action}; keys,
 * sessions and the local store never leave this process.
 *
 * @module
 */

import { canonicalUsername, USERNAME_RULE, usernameProblem } from "../../protocol/username.ts";
import { type ChatClient, ChatError, passwordProblem, splitHost } from "../chat.ts";
import { HostKeyChangedError, HostKeyUnknownError } from "../known_hosts.ts";
import type { Profile } from "../profile.ts";
import { explain } from "../tui/problems.ts";
import { connectTrusting } from "../tui/trust.ts";
import * as words from "../words.ts";
import { joinRoom, messageAction, newRoom, roomChange, type RoomStepResult } from "./room_steps.ts";
import { screenView } from "./screens.ts";
import type { Action, Notice, StatusView, View } from "./view.ts";

/** Delay that gathers a burst of events into one new view. */
export const VIEW_REFRESH_DELAY_MS = 50;

/** Where the web interface is: the logical screen behind the view. */
export type Place =
  | { kind: "connect" }
  | { kind: "welcome" }
  | { kind: "list" }
  | { kind: "chat"; peer: string; draft?: string; invite?: string }
  | { kind: "verify"; peer: string; back: "chat" | "settings" }
  | { kind: "settings" };

/** What `pesuchat web` connects to. */
export interface WebTarget {
  /** "host:port", or empty to ask in the page. */
  server: string;
  profile: Profile;
  trust?: string;
}

/** A question the page is showing while a step waits for it: yes or no, or a line of text. */
interface Question {
  view: View;
  answer: (yes: boolean) => void;
  text?: (text: string) => void;
}

/** The state of one `pesuchat web` process, shared by every page it serves. */
export class WebApp {
  readonly target: WebTarget;
  #client: ChatClient | null = null;
  #offClient: (() => void)[] = [];
  #place: Place = { kind: "connect" };
  #notice: Notice | undefined;
  #status: StatusView = "online";
  #busy: string | null = null;
  #question: Question | null = null;
  #queue: Promise<void> = Promise.resolve();
  #listeners = new Set<(v: View) => void>();
  #timer: ReturnType<typeof setTimeout> | null = null;
  #last: View = { screen: "busy", text: "starting" };
  #closed = false;
  #published = 0;

  constructor(target: WebTarget) {
    this.target = target;
  }

  /** Connects to the server given on the command line, if any. */
  start(): void {
    if (this.target.server) this.#run(() => this.#connect(this.target.server));
    else this.#refresh();
  }

  /** The chat client, once connected (for tests that check what it stored). */
  get client(): ChatClient | null {
    return this.#client;
  }

  get place(): Place {
    return this.#place;
  }

  get status(): StatusView {
    return this.#status;
  }

  /** Calls `fn` with every new view, starting with the current one. */
  subscribe(fn: (v: View) => void): () => void {
    this.#listeners.add(fn);
    fn(this.#last);
    return () => this.#listeners.delete(fn);
  }

  /** Takes an action from a page. Answers to a question go straight to the step waiting. */
  act(a: Action): void {
    const q = this.#question;
    if (q && (a.do === "answer" || (a.do === "recoveryKey" && q.text))) {
      this.#question = null;
      if (a.do === "answer") q.answer(a.yes);
      else q.text!(a.key);
      return;
    }
    this.#run(() => this.#do(a));
  }

  /** Closes the chat client (after its last backup) and tells the pages. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#question?.answer(false);
    await this.#queue;
    await this.#drop();
  }

  // -- running steps one at a time ---------------------------------------------------------------

  #run(step: () => Promise<void>): void {
    this.#queue = this.#queue.then(async () => {
      if (this.#closed) return;
      try {
        await step();
      } catch (e) {
        this.#say(problemText(e), "error");
      } finally {
        this.#busy = null;
      }
      this.#refresh(0);
    });
  }

  #say(text: string, kind: Notice["kind"] = "info"): void {
    this.#notice = { text, kind };
  }

  #go(place: Place, notice?: string, kind: Notice["kind"] = "info"): void {
    this.#place = place;
    this.#notice = notice ? { text: notice, kind } : undefined;
  }

  #setBusy(text: string): void {
    this.#busy = text;
    this.#refresh(0);
  }

  /** Shows `view` until the page answers yes or no. */
  #ask(view: View): Promise<boolean> {
    return new Promise((resolve) => {
      this.#question = { view, answer: resolve };
      this.#refresh(0);
    }).then((yes) => {
      this.#refresh(0);
      return yes as boolean;
    });
  }

  /** Shows `view` until the page sends a line of text (null when the user gives up). */
  #askText(view: View): Promise<string | null> {
    return new Promise<string | null>((resolve) => {
      this.#question = { view, answer: () => resolve(null), text: resolve };
      this.#refresh(0);
    }).then((text) => {
      this.#refresh(0);
      return text;
    });
  }

  /** Shows a new recovery key until the user says it is written down (it is shown only now). */
  async #showRecoveryKey(key: string): Promise<void> {
    let again = "";
    // Bounded by the user, as in the terminal: the key is not shown again once they go on.
    while (
      !(await this.#ask({
        screen: "recoveryKey",
        rows: words.recoveryKeyRows(key),
        warning: words.RECOVERY_KEY_WARNING.replaceAll("\n", " "),
        question: words.RECOVERY_KEY_WRITTEN,
        again,
      }))
    ) again = words.RECOVERY_KEY_AGAIN;
  }

  /** Builds the view again (soon, so a burst of events makes one) and sends it to every page. */
  #refresh(delay = VIEW_REFRESH_DELAY_MS): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.#publish();
    }, delay);
  }

  async #publish(): Promise<void> {
    // Views are read asynchronously; one started earlier can finish later, and must not then
    // replace a newer one on the page.
    const seq = ++this.#published;
    let view: View;
    if (this.#question) view = this.#question.view;
    else if (this.#busy) view = { screen: "busy", text: this.#busy };
    else {
      try {
        view = await screenView(this, this.#place, this.#notice);
      } catch (e) {
        view = { screen: "busy", text: problemText(e) };
      }
    }
    if (seq !== this.#published) return;
    this.#last = view;
    for (const fn of this.#listeners) fn(view);
  }

  /** The current notice (for the screens). */
  get notice(): Notice | undefined {
    return this.#notice;
  }

  // -- the connection ----------------------------------------------------------------------------

  async #drop(): Promise<void> {
    for (const off of this.#offClient.splice(0)) off();
    const c = this.#client;
    this.#client = null;
    await c?.close().catch(() => {});
  }

  async #connect(server: string): Promise<void> {
    await this.#drop();
    let hostname: string, port: number;
    try {
      [hostname, port] = splitHost(server.trim());
    } catch (e) {
      this.#go({ kind: "connect" }, problemText(e), "error");
      return;
    }
    const canonical = `${hostname}:${port}`;
    this.target.server = canonical;
    this.#setBusy(`connecting to ${canonical}`);
    try {
      const client = await connectTrusting(
        { hostname, port, profile: this.target.profile, trust: this.target.trust },
        (fingerprint) =>
          this.#ask({
            screen: "trust",
            server: canonical,
            fingerprint,
            lines: words.trustLines(canonical, this.target.profile.knownHosts),
            question: words.TRUST_QUESTION,
          }),
      );
      this.#client = client;
      this.#status = "online";
      this.#offClient = [
        client.on("connection", (s, detail) => {
          this.#status = s;
          if (s === "offline") this.#say(`offline: ${detail}`, "error");
          this.#refresh();
        }),
        client.on("message", (m) => {
          const p = this.#place;
          if (p.kind === "chat" && p.peer === m.peer && !m.outgoing) {
            void client.markRead(m.peer).catch(() => {});
          }
          this.#refresh();
        }),
        client.on("state", () => this.#refresh()),
        client.on("room", () => this.#refresh()),
        client.on("action", () => this.#refresh()),
        client.on("identityChanged", (peer) => {
          if (this.#place.kind === "list") this.#say(words.identityChangedListNotice(peer));
          this.#refresh();
        }),
        client.on("notice", (peer, text) => {
          const p = this.#place;
          if (p.kind === "list" || (p.kind === "chat" && p.peer === peer)) this.#say(text, "error");
          this.#refresh();
        }),
        client.on("problem", (text) => {
          this.#say(text, "error");
          this.#refresh();
        }),
      ];
      this.#go({ kind: "welcome" });
    } catch (e) {
      if (e instanceof HostKeyUnknownError && this.target.trust === undefined) {
        this.#go({ kind: "connect" }, words.notTrusted(e.host), "error");
      } else if (e instanceof HostKeyChangedError) {
        this.#go({ kind: "connect" }, problemText(e), "error");
      } else {
        this.#go({ kind: "connect" }, `${canonical}: ${problemText(e)}`, "error");
      }
    }
  }

  /** The server drops connections that wait too long at the login forms: connect again. */
  async #ensureConnected(): Promise<ChatClient | null> {
    if (this.#client?.isOnline) return this.#client;
    await this.#connect(this.target.server);
    return this.#client;
  }

  #loggedIn(): ChatClient {
    const c = this.#client;
    if (!c) throw new ChatError("offline", "not connected to the server");
    return c;
  }

  // -- actions -----------------------------------------------------------------------------------

  async #do(a: Action): Promise<void> {
    switch (a.do) {
      case "connect":
        return await this.#connect(a.server);
      case "answer":
        return this.#answer(a.yes);
      case "signup":
        return await this.#signup(a);
      case "login":
        return await this.#login(a.username, a.password);
      case "open":
        return await this.#open(a.peer);
      case "newChat":
        return await this.#newChat(a.username);
      case "send":
        return await this.#send(a.text, a.reply);
      case "newRoom":
        return await this.#roomStep(newRoom(this.#loggedIn(), a));
      case "joinRoom":
        return await this.#roomStep(joinRoom(this.#loggedIn(), a.code));
      case "room":
      case "message": {
        const p = this.#place;
        if (p.kind !== "chat") return;
        const client = this.#loggedIn();
        return await this.#roomStep(
          a.do === "room" ? roomChange(client, p.peer, a) : messageAction(client, p.peer, a),
        );
      }
      case "accept":
        return await this.#accept();
      case "reject":
        return await this.#reject();
      case "verify":
        return this.#verify(a.peer);
      case "back":
        return this.#back();
      case "settings":
        return this.#go({ kind: "settings" });
      case "changePassword":
        return await this.#changePassword(a.current, a.next, a.next2);
      case "backup":
        await this.#loggedIn().backupNow();
        return this.#say("backup uploaded, sealed under your recovery key");
      case "backupOn":
        await this.#showRecoveryKey(await this.#loggedIn().enableBackups());
        return this.#say("backups are on; the first one is uploaded");
      case "backupOff":
        if (
          !(await this.#ask({
            screen: "question",
            title: "Turn backups off",
            lines: [],
            question: "Turn backups off and delete the server's copy?",
          }))
        ) return;
        await this.#loggedIn().disableBackups();
        return this.#say("backups are off; the server's copy is deleted");
      case "recoveryKey":
        return;
      case "logout":
        await this.#loggedIn().logout();
        return this.#go(
          { kind: "welcome" },
          "logged out; your chats stay on this computer, encrypted",
        );
      case "deleteAccount":
        if (!a.password) return this.#say("type your password to confirm", "error");
        await this.#loggedIn().deleteAccount(a.password);
        return this.#go({ kind: "welcome" }, "the account is deleted");
    }
  }

  /** Shows what a room step did; a step that fails leaves its error as the notice. */
  async #roomStep(step: Promise<RoomStepResult>): Promise<void> {
    const r = await step;
    const p = this.#place;
    if (r.open) return this.#go({ kind: "chat", peer: r.open }, r.notice);
    if (r.invite && p.kind === "chat") return this.#go({ ...p, invite: r.invite }, r.notice);
    this.#say(r.notice);
  }

  async #signup(
    a: {
      fullName: string;
      email: string;
      username: string;
      password: string;
      password2: string;
      backup: boolean;
    },
  ): Promise<void> {
    const username = canonicalUsername(a.username);
    if (!username) return this.#say(usernameProblem(a.username) ?? USERNAME_RULE, "error");
    const weak = passwordProblem(a.password, username);
    if (weak) return this.#say(`too weak: ${weak}`, "error");
    if (a.password !== a.password2) return this.#say("the two passwords differ", "error");
    const client = await this.#ensureConnected();
    if (!client) return;
    this.#setBusy("creating the account (deriving keys from the password takes a moment)");
    let recoveryKey: string | null;
    try {
      ({ recoveryKey } = await client.signup({
        fullName: a.fullName,
        ...(a.email.trim() ? { email: a.email.trim() } : {}),
        username,
        password: a.password,
        backup: a.backup,
      }));
    } catch (e) {
      return this.#go({ kind: "welcome" }, problemText(e), "error");
    }
    this.#busy = null;
    if (recoveryKey) await this.#showRecoveryKey(recoveryKey);
    this.#go({ kind: "list" }, `signed up as ${username}; welcome`);
  }

  async #login(name: string, password: string): Promise<void> {
    if (!name.trim()) return this.#say("type your username", "error");
    const client = await this.#ensureConnected();
    if (!client) return;
    this.#setBusy("logging in");
    const username = canonicalUsername(name) ?? name;
    try {
      const r = await client.login({
        username: name,
        password,
        restore: () =>
          this.#ask({
            screen: "restore",
            lines: words.restoreLines(username),
            question: words.RESTORE_QUESTION,
          }),
        recoveryKey: (problem) =>
          this.#askText({
            screen: "askRecoveryKey",
            label: words.RECOVERY_KEY_PROMPT,
            problem: problem ? `${problem}\n${words.RECOVERY_KEY_HINT}` : "",
          }),
      });
      if (r.restored) return this.#go({ kind: "list" }, words.RESTORED_NOTICE);
      if (r.newIdentity) return this.#go({ kind: "list" }, words.NEW_IDENTITY_NOTICE);
    } catch (e) {
      return this.#go({ kind: "welcome" }, problemText(e), "error");
    }
    this.#go({ kind: "list" });
  }

  async #open(peer: string): Promise<void> {
    const client = this.#loggedIn();
    if (!peer.startsWith("#")) await client.checkContact(peer).catch(() => {});
    await client.markRead(peer).catch(() => {});
    this.#go({ kind: "chat", peer });
  }

  async #newChat(name: string): Promise<void> {
    const problem = usernameProblem(name);
    if (problem) return this.#say(problem, "error");
    const peer = canonicalUsername(name)!;
    const client = this.#loggedIn();
    if (peer === client.username) return this.#say("that is you; choose someone else", "error");
    try {
      await client.lookup(peer);
    } catch (e) {
      if (e instanceof ChatError && e.code === "no_such_user") {
        return this.#say(`there is no user ${peer} on this server`, "error");
      }
      throw e;
    }
    await this.#open(peer);
  }

  async #send(text: string, reply?: string): Promise<void> {
    const p = this.#place;
    if (p.kind !== "chat") return;
    const trimmed = text.trim();
    if (trimmed.startsWith("/") && !trimmed.startsWith("//")) return await this.#command(trimmed);
    const body = trimmed.startsWith("//") ? text.replace(/^\s*\//, "") : text;
    if (!body.trim()) return;
    const client = this.#loggedIn();
    const room = p.peer.startsWith("#") ? p.peer.slice(1) : null;
    const contact = room ? null : await client.contact(p.peer);
    if (contact?.pendingIdentity) {
      return this.#go({ ...p, draft: body }, words.notSentIdentityText(p.peer), "error");
    }
    try {
      if (room) await client.rooms.send(room, body, reply ? Uint8Array.fromHex(reply) : undefined);
      else await client.send(p.peer, body, reply ? Uint8Array.fromHex(reply) : undefined);
      this.#go({ kind: "chat", peer: p.peer });
    } catch (e) {
      if (e instanceof ChatError && e.code === "identity_changed") {
        return this.#go({ ...p, draft: body }, words.notSentIdentityText(p.peer), "error");
      }
      this.#go({ ...p, draft: body }, `not sent: ${explain(e).message}`, "error");
    }
  }

  /** The chat's typed commands, as in the terminal client. */
  async #command(line: string): Promise<void> {
    const name = line.split(/\s+/)[0]!;
    switch (name) {
      case "/verify":
        return this.#verify();
      case "/accept":
        return await this.#accept();
      case "/reject":
        return await this.#reject();
      case "/back":
        return this.#back();
      case "/help":
        return this.#say(
          "/verify shows the safety number · /accept accepts a changed one · /reject refuses " +
            "it · /back goes to the chat list · //text sends a message that starts with /",
        );
      default:
        return this.#say(`unknown command ${name}; /help lists the commands`, "error");
    }
  }

  async #accept(): Promise<void> {
    const p = this.#place;
    if (p.kind !== "chat") return;
    const client = this.#loggedIn();
    const contact = await client.contact(p.peer);
    if (!contact?.pendingIdentity) return this.#say(words.nothingToAcceptText(p.peer));
    await client.acceptIdentity(p.peer);
    this.#go(p, words.acceptedText(p.peer));
  }

  async #reject(): Promise<void> {
    const p = this.#place;
    if (p.kind !== "chat") return;
    const client = this.#loggedIn();
    const contact = await client.contact(p.peer);
    if (!contact?.pendingIdentity) return this.#say(words.nothingToRejectText(p.peer));
    await client.rejectIdentity(p.peer);
    this.#go({ kind: "chat", peer: p.peer }, words.rejectedText(p.peer), "error");
  }

  #verify(peer?: string): void {
    const p = this.#place;
    if (peer) return this.#go({ kind: "verify", peer, back: "settings" });
    if (p.kind === "chat") this.#go({ kind: "verify", peer: p.peer, back: "chat" });
  }

  /** The answer to the verify screen's question (no step is waiting for it). */
  #answer(yes: boolean): void {
    const p = this.#place;
    if (p.kind !== "verify") return;
    const back: Place = p.back === "chat" ? { kind: "chat", peer: p.peer } : { kind: "settings" };
    if (!yes) return this.#go(back, words.notVerifiedText(p.peer));
    const client = this.#loggedIn();
    this.#run(async () => {
      const contact = await client.contact(p.peer);
      if (contact?.pendingIdentity) await client.acceptIdentity(p.peer);
      await client.markVerified(p.peer);
      this.#go(back, words.verifiedText(p.peer));
    });
  }

  #back(): void {
    const p = this.#place;
    if (p.kind === "verify") {
      return this.#go(p.back === "chat" ? { kind: "chat", peer: p.peer } : { kind: "settings" });
    }
    if (p.kind === "chat" || p.kind === "settings") return this.#go({ kind: "list" });
  }

  async #changePassword(current: string, next: string, next2: string): Promise<void> {
    const client = this.#loggedIn();
    const weak = passwordProblem(next, client.username);
    if (weak) return this.#say(`too weak: ${weak}`, "error");
    if (next !== next2) return this.#say("the two passwords differ", "error");
    this.#setBusy("changing the password");
    await client.changePassword(current, next);
    this.#say("password changed; use the new one from now on");
  }
}

/** A problem as one or two lines for the page. */
export function problemText(e: unknown): string {
  const p = explain(e);
  return p.hint ? `${p.message}\n${p.hint}` : p.message;
}
