/**
 * The chat core: everything a front end needs (connect and trust the server, sign up, log in,
 * send, receive, receipts, safety numbers, backups) and no terminal I/O. The terminal UI, the
 * `send`/`receive` commands and the tests all drive this one class.
 *
 * Messages are exactly-once on screen: an incoming envelope is decrypted, stored with the new
 * session state in one local transaction, and only then acknowledged to the server; a
 * redelivered one is recognised by its id and acknowledged again without a second copy.
 * Outgoing envelopes wait in the outbox until the server has committed them.
 *
 * @module
 */

import {
  AccountKey,
  checkKdfParams,
  DEFAULT_KDF_PARAMS,
  derivePasswordKeys,
  formatSafetyNumber,
  IdentityKeyPair,
  IdentityPublic,
  type KdfParams,
  newSalt,
  randomBytes,
  safetyNumber,
  Session,
  X25519KeyPair,
} from "../crypto/mod.ts";
import type { Deliver, ResultOf } from "../protocol/messages.ts";
import { canonicalUsername, USERNAME_RULE } from "../protocol/username.ts";
import { makeBackup, restoreBackup } from "./backup.ts";
import { type CloseReason, ServerConnection, ServerError } from "./connection.ts";
import {
  type Content,
  decodeContent,
  encodeContent,
  MAX_RECEIPT_IDS,
  MAX_TEXT_CHARS,
} from "./content.ts";
import { HostKeyUnknownError, KnownHosts } from "./known_hosts.ts";
import {
  type Contact,
  type ConversationSummary,
  LocalStore,
  MessageState,
  type MessageStateValue,
  type StoredMessage,
} from "./local_store.ts";
import { ClientPrekeys } from "./prekeys.ts";
import type { Profile } from "./profile.ts";

/** Shortest password accepted at sign-up and password change. */
export const MIN_PASSWORD_CHARS = 10;
/** Delay after the last change before a backup is uploaded. */
export const BACKUP_DELAY_MS = 2000;
/** Reconnect delays: doubling from the first to the last. */
export const RECONNECT_FIRST_MS = 500;
export const RECONNECT_MAX_MS = 15_000;

/** A problem a person can act on; `code` says which. */
export class ChatError extends Error {
  override name = "ChatError";
  constructor(
    readonly code:
      | "weak_password"
      | "bad_input"
      | "no_such_user"
      | "identity_changed"
      | "wrong_password"
      | "offline"
      | "not_logged_in"
      | "server",
    message: string,
  ) {
    super(message);
  }
}

/** Why a password is refused, or null when it is acceptable. */
export function passwordProblem(password: string, username?: string): string | null {
  if (password.length < MIN_PASSWORD_CHARS) return `use at least ${MIN_PASSWORD_CHARS} characters`;
  if (new Set(password).size < 5) return "use more different characters";
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
  /** A contact's identity changed; it must be acknowledged before the next send. */
  identityChanged(peer: string): void;
  /** The connection went down, is retrying, or came back. */
  connection(status: "online" | "reconnecting" | "offline", detail: string): void;
  /** Something went wrong that the user should hear about (never a stack trace). */
  problem(message: string): void;
}

/** Options of {@linkcode ChatClient.connect}. */
export interface ConnectOptions {
  hostname: string;
  port: number;
  profile: Profile;
  /** A fingerprint to trust on first contact without asking (`--trust`). */
  trust?: string;
  /** Asked on first contact with the fingerprint; true trusts and remembers the key. */
  confirmNewServer?: (fingerprint: string) => Promise<boolean>;
}

type Listeners = { [K in keyof ChatEvents]: Set<ChatEvents[K]> };

/** One user's chat with one server. */
export class ChatClient {
  readonly server: string;
  readonly #profile: Profile;
  #conn: ServerConnection;
  #deviceKey: X25519KeyPair;
  #knownHosts: KnownHosts;
  #listeners: Listeners = {
    message: new Set(),
    state: new Set(),
    identityChanged: new Set(),
    connection: new Set(),
    problem: new Set(),
  };
  #store: LocalStore | null = null;
  #identity: IdentityKeyPair | null = null;
  #prekeys: ClientPrekeys | null = null;
  #username: string | null = null;
  #fullName = "";
  #sessions = new Map<string, Session>();
  /** Everything that touches sessions or the store runs through this lane, in order. */
  #lane: Promise<unknown> = Promise.resolve();
  #pendingReceipts = new Map<string, Uint8Array[]>();
  #receiptTimer: ReturnType<typeof setTimeout> | null = null;
  #backupTimer: ReturnType<typeof setTimeout> | null = null;
  #closing = false;
  #online = true;
  #checkedIdentities = new Set<string>();
  #early: Deliver[] = [];

  private constructor(
    profile: Profile,
    server: string,
    conn: ServerConnection,
    deviceKey: X25519KeyPair,
    knownHosts: KnownHosts,
  ) {
    this.#profile = profile;
    this.server = server;
    this.#conn = conn;
    this.#deviceKey = deviceKey;
    this.#knownHosts = knownHosts;
    this.#wire(conn);
  }

  /**
   * Connects and checks the server's key against known_hosts: a known key passes, a changed one
   * throws `HostKeyChangedError`, an unknown one is trusted only if `trust` matches or the user
   * confirms it, and otherwise throws `HostKeyUnknownError`.
   */
  static async connect(o: ConnectOptions): Promise<ChatClient> {
    await o.profile.ensure();
    const server = `${o.hostname}:${o.port}`;
    const knownHosts = await KnownHosts.load(o.profile.knownHosts);
    const deviceKey = await X25519KeyPair.generate();
    const open = () =>
      ServerConnection.open(o.hostname, o.port, {
        staticKey: deviceKey,
        verifyServerKey: knownHosts.verifier(server, o.trust),
      });
    let conn: ServerConnection;
    try {
      conn = await open();
    } catch (e) {
      if (!(e instanceof HostKeyUnknownError) || !o.confirmNewServer) throw e;
      if (!(await o.confirmNewServer(e.presentedFingerprint))) throw e;
      await knownHosts.add(server, e.key);
      conn = await open();
    }
    return new ChatClient(o.profile, server, conn, deviceKey, knownHosts);
  }

  on<K extends keyof ChatEvents>(event: K, fn: ChatEvents[K]): () => void {
    (this.#listeners[event] as Set<ChatEvents[K]>).add(fn);
    return () => (this.#listeners[event] as Set<ChatEvents[K]>).delete(fn);
  }

  #emit<K extends keyof ChatEvents>(event: K, ...args: Parameters<ChatEvents[K]>): void {
    for (const fn of this.#listeners[event]) (fn as (...a: unknown[]) => void)(...args);
  }

  /** The logged-in user's canonical name. */
  get username(): string {
    if (!this.#username) throw new ChatError("not_logged_in", "not logged in");
    return this.#username;
  }

  get fullName(): string {
    return this.#fullName;
  }

  get isOnline(): boolean {
    return this.#online && !this.#conn.isClosed;
  }

  get #s(): LocalStore {
    if (!this.#store) throw new ChatError("not_logged_in", "not logged in");
    return this.#store;
  }

  #run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#lane.then(fn);
    this.#lane = p.catch(() => {});
    return p;
  }

  async #request<T extends Parameters<ServerConnection["request"]>[0]>(
    type: T,
    body: Parameters<ServerConnection["request"]>[1] & object,
  ): Promise<ResultOf<T>> {
    if (this.#conn.isClosed) throw new ChatError("offline", "not connected to the server");
    // deno-lint-ignore no-explicit-any
    return await this.#conn.request(type, body as any) as ResultOf<T>;
  }

  // ---------------------------------------------------------------------------------------------
  // Accounts

  /** Creates an account on the server and a local profile for it; logs in. */
  async signup(
    o: { fullName: string; email?: string; username: string; password: string },
  ): Promise<void> {
    const username = canonicalUsername(o.username);
    if (!username) throw new ChatError("bad_input", `usernames are ${USERNAME_RULE}`);
    const problem = passwordProblem(o.password, username);
    if (problem) throw new ChatError("weak_password", problem);
    const fullName = o.fullName.trim();
    if (!fullName) throw new ChatError("bad_input", "the full name cannot be empty");
    if (o.email && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(o.email)) {
      throw new ChatError("bad_input", "the email address does not look like name@example.org");
    }
    const salt = newSalt();
    const kdf: KdfParams = { ...DEFAULT_KDF_PARAMS };
    const [keys, identity, accountKey] = await Promise.all([
      derivePasswordKeys(o.password, salt, kdf),
      IdentityKeyPair.generate(),
      AccountKey.generate(),
    ]);
    const path = this.profilePath(username);
    await Deno.remove(path).catch(() => {});
    const store = LocalStore.open(path);
    store.unlock(accountKey);
    const prekeys = new ClientPrekeys(store, identity);
    try {
      const set = await prekeys.initialSet();
      const info = await this.#wrapServer(this.#request("signup", {
        username,
        fullName,
        ...(o.email ? { email: o.email } : {}),
        authKey: keys.authKey.bytesUnsafe(),
        salt,
        kdf,
        identity: identity.publicIdentity.encode(),
        prekeys: set,
      }));
      store.setMeta("username", username);
      store.setMeta("server", this.server);
      store.setMeta("salt", salt);
      store.setMeta("kdf", JSON.stringify(kdf));
      store.setMeta("wrapped_account_key", await accountKey.wrap(keys.masterKey));
      await store.setSecret("identity", identity.serialize());
      await store.setSecret("device_key", this.#deviceKey.privateBytesUnsafe());
      this.#loggedIn(store, identity, username, info.fullName);
    } catch (e) {
      store.close();
      await Deno.remove(path).catch(() => {});
      throw e;
    }
    this.#scheduleBackup(0);
  }

  /** The local store path of `username` on this server. */
  profilePath(username: string): string {
    return this.#profile.accountStore(this.server, username);
  }

  /**
   * Logs in. With no local profile for the account, `restore` is asked whether to restore the
   * server's backup (when there is one); without a backup or when declined, a new identity is made
   * and contacts will see that it changed.
   */
  async login(
    o: { username: string; password: string; restore?: () => Promise<boolean> },
  ): Promise<{ restored: boolean; newIdentity: boolean }> {
    const username = canonicalUsername(o.username);
    if (!username) throw new ChatError("wrong_password", "wrong username or password");
    const pre = await this.#wrapServer(this.#request("prelogin", { username }));
    try {
      checkKdfParams(pre.kdf);
    } catch {
      throw new ChatError(
        "server",
        "the server asked for password settings outside the safe range; not logging in",
      );
    }
    const keys = await derivePasswordKeys(o.password, pre.salt, pre.kdf);
    const info = await this.#wrapServer(
      this.#request("login", { username, authKey: keys.authKey.bytesUnsafe() }),
    );
    const path = this.profilePath(username);
    const exists = await this.#profile.hasAccount(this.server, username);
    const store = LocalStore.open(path);
    let restored = false;
    let newIdentity = false;
    try {
      let accountKey: AccountKey | null = null;
      const wrapped = store.getMeta("wrapped_account_key");
      if (exists && wrapped) {
        accountKey = await AccountKey.unwrap(keys.masterKey, wrapped).catch(() => null);
        if (!accountKey) {
          // The password was changed on another machine: the backup holds the key wrapped anew.
          const b = await this.#request("backup_get", {});
          if (b.backup) {
            accountKey = await AccountKey.unwrap(keys.masterKey, b.backup.wrappedKey).catch(() =>
              null
            );
          }
          if (accountKey) {
            store.setMeta("wrapped_account_key", await accountKey.wrap(keys.masterKey));
          }
        }
      }
      if (!accountKey) {
        const b = await this.#request("backup_get", {});
        if (b.backup && (!o.restore || (await o.restore()))) {
          accountKey = await AccountKey.unwrap(keys.masterKey, b.backup.wrappedKey);
          store.unlock(accountKey);
          await restoreBackup(store, username, b.backup.blob);
          restored = true;
        } else {
          accountKey = await AccountKey.generate();
          store.unlock(accountKey);
          const identity = await IdentityKeyPair.generate();
          await store.setSecret("identity", identity.serialize());
          const set = await new ClientPrekeys(store, identity).initialSet();
          await this.#request("new_identity", {
            identity: identity.publicIdentity.encode(),
            prekeys: set,
          });
          newIdentity = true;
        }
        store.setMeta("username", username);
        store.setMeta("server", this.server);
        store.setMeta("wrapped_account_key", await accountKey.wrap(keys.masterKey));
      }
      store.setMeta("salt", pre.salt);
      store.setMeta("kdf", JSON.stringify(pre.kdf));
      store.unlock(accountKey);
      await store.setSecret("device_key", this.#deviceKey.privateBytesUnsafe());
      const identity = await IdentityKeyPair.deserialize((await store.getSecret("identity"))!);
      this.#loggedIn(store, identity, username, info.fullName);
    } catch (e) {
      store.close();
      if (!exists) await Deno.remove(path).catch(() => {});
      throw e instanceof ChatError
        ? e
        : new ChatError("server", `could not open the account: ${(e as Error).message}`);
    }
    if (restored || newIdentity) this.#scheduleBackup(0);
    return { restored, newIdentity };
  }

  #loggedIn(
    store: LocalStore,
    identity: IdentityKeyPair,
    username: string,
    fullName: string,
  ): void {
    this.#store = store;
    this.#identity = identity;
    this.#prekeys = new ClientPrekeys(store, identity);
    this.#username = username;
    this.#fullName = fullName;
    this.#online = true;
    for (const d of this.#early.splice(0)) this.#deliver(d);
    void this.#afterConnect();
  }

  async #wrapServer<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch (e) {
      if (e instanceof ServerError) {
        if (e.code === "bad_credentials") {
          throw new ChatError("wrong_password", "wrong username or password");
        }
        if (e.code === "username_taken") throw new ChatError("bad_input", e.message);
        if (e.code === "invalid_username") throw new ChatError("bad_input", e.message);
        if (e.code === "no_such_user") throw new ChatError("no_such_user", e.message);
        if (e.code === "rate_limited") throw new ChatError("server", e.message);
        if (e.code === "closed" || e.code === "timeout") throw new ChatError("offline", e.message);
        throw new ChatError("server", e.message);
      }
      throw e;
    }
  }

  /** Work after every (re)connection: deliveries flow, outbox flushes, prekeys are topped up. */
  async #afterConnect(): Promise<void> {
    try {
      await this.#flushOutbox();
      await this.#maintainPrekeys();
    } catch (e) {
      if (!(e instanceof ChatError && e.code === "offline")) {
        this.#emit("problem", `background work failed: ${(e as Error).message}`);
      }
    }
  }

  async #maintainPrekeys(): Promise<void> {
    const counts = await this.#request("prekey_count", {});
    const more = await this.#run(() => this.#prekeys!.replenish(counts));
    const rotated = await this.#run(() => this.#prekeys!.rotateIfDue());
    if (more || rotated) {
      await this.#request("prekeys_put", { ...more, ...rotated });
      this.#scheduleBackup();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Connection

  #wire(conn: ServerConnection): void {
    conn.onDeliver = (d) => {
      // The server starts delivering as soon as it accepts the login, before the local store is
      // open; those wait here (unacknowledged, so nothing is lost if the login fails).
      if (!this.#store) this.#early.push(d);
      else this.#deliver(d);
    };
    conn.onClose = (reason) => this.#closed(reason);
  }

  #deliver(d: Deliver): void {
    void this.#run(() => this.#receive(d)).catch((e) =>
      this.#emit("problem", (e as Error).message)
    );
  }

  #closed(reason: CloseReason): void {
    if (this.#closing) return;
    this.#online = false;
    if (reason.code === "logged_in_elsewhere") {
      this.#emit("connection", "offline", reason.message);
      return;
    }
    if (!this.#username) {
      this.#emit("connection", "offline", reason.message);
      return;
    }
    this.#emit("connection", "reconnecting", reason.message);
    void this.#reconnect();
  }

  async #reconnect(): Promise<void> {
    let delay = RECONNECT_FIRST_MS;
    const [host, port] = splitHost(this.server);
    while (!this.#closing) {
      await new Promise((r) => setTimeout(r, delay));
      if (this.#closing) return;
      try {
        const conn = await ServerConnection.open(host, port, {
          staticKey: this.#deviceKey,
          verifyServerKey: this.#knownHosts.verifier(this.server),
        });
        this.#conn = conn;
        this.#wire(conn);
        await conn.request("resume", {});
        this.#online = true;
        this.#emit("connection", "online", "connected again");
        void this.#afterConnect();
        return;
      } catch (e) {
        const name = (e as Error).name;
        if (name === "HostKeyChangedError") {
          this.#emit("connection", "offline", (e as Error).message);
          return;
        }
        if (e instanceof ServerError && e.code === "unknown_device") {
          this.#emit("connection", "offline", "this device was logged out; log in again");
          return;
        }
        delay = Math.min(delay * 2, RECONNECT_MAX_MS);
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Contacts, identities, safety numbers

  /** A user's public face on the server; throws `ChatError("no_such_user")`. */
  async lookup(username: string): Promise<{ username: string; fullName: string }> {
    const canonical = canonicalUsername(username);
    if (!canonical) {
      throw new ChatError("no_such_user", `there is no user ${JSON.stringify(username)}`);
    }
    const r = await this.#wrapServer(this.#request("lookup", { username: canonical }));
    await this.#run(() => this.#noteIdentity(r.username, r.fullName, r.identity));
    return { username: r.username, fullName: r.fullName };
  }

  /** Checks a contact's identity with the server once per run (used when a chat is opened). */
  async checkContact(username: string): Promise<void> {
    if (this.#checkedIdentities.has(username) || !this.isOnline) return;
    try {
      await this.lookup(username);
      this.#checkedIdentities.add(username);
    } catch (e) {
      if (e instanceof ChatError && e.code === "no_such_user") throw e;
    }
  }

  /** Records the identity a contact presents; a change from the accepted one is held for acknowledgement. */
  async #noteIdentity(
    username: string,
    fullName: string | null,
    identity: Uint8Array,
  ): Promise<Contact> {
    const s = this.#s;
    const c = await s.getContact(username) ??
      {
        username,
        fullName: fullName ?? "",
        identity: null,
        verified: false,
        pendingIdentity: null,
      };
    if (fullName) c.fullName = fullName;
    if (!c.identity) {
      c.identity = identity;
    } else if (
      !equalIdentity(c.identity, identity) &&
      !(c.pendingIdentity && equalIdentity(c.pendingIdentity, identity))
    ) {
      c.pendingIdentity = identity;
      c.verified = false;
      // The old session belongs to the old identity: the next send starts a new one.
      this.#sessions.delete(username);
      s.deleteSession(username);
      await s.putContact(c);
      this.#emit("identityChanged", username);
      this.#scheduleBackup();
      return c;
    }
    await s.putContact(c);
    return c;
  }

  /** A contact as stored. */
  contact(username: string): Promise<Contact | null> {
    return this.#s.getContact(username);
  }

  /** Accepts a contact's new identity after the user saw the notice. */
  acceptIdentity(username: string): Promise<void> {
    return this.#run(async () => {
      const c = await this.#s.getContact(username);
      if (!c?.pendingIdentity) return;
      c.identity = c.pendingIdentity;
      c.pendingIdentity = null;
      c.verified = false;
      await this.#s.putContact(c);
      this.#scheduleBackup();
    });
  }

  /** The 60-digit safety number with a contact, grouped in fives. */
  async safetyNumber(username: string): Promise<string> {
    const c = await this.#s.getContact(username);
    const theirs = c?.pendingIdentity ?? c?.identity;
    if (!theirs) throw new ChatError("no_such_user", `no identity known for ${username} yet`);
    const digits = await safetyNumber(
      { identity: this.#identity!.publicIdentity, username: this.username },
      { identity: IdentityPublic.restore(theirs), username },
    );
    return formatSafetyNumber(digits);
  }

  /** Marks a contact verified (after comparing safety numbers). */
  markVerified(username: string, verified = true): Promise<void> {
    return this.#run(async () => {
      const c = await this.#s.getContact(username);
      if (!c) throw new ChatError("no_such_user", `no contact ${username}`);
      c.verified = verified;
      await this.#s.putContact(c);
      this.#scheduleBackup();
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Conversations

  /** The chat list. */
  conversations(): Promise<ConversationSummary[]> {
    return this.#s.conversations();
  }

  /** Recent history with `peer`, oldest first. */
  history(peer: string, limit = 50): Promise<StoredMessage[]> {
    return this.#s.history(peer, limit);
  }

  /** Marks `peer`'s messages read here and tells them (a read receipt). */
  markRead(peer: string): Promise<void> {
    return this.#run(async () => {
      const mids = this.#s.markSeen(peer);
      if (mids.length > 0) {
        for (let i = 0; i < mids.length; i += MAX_RECEIPT_IDS) {
          await this.#sendContent(peer, {
            t: "receipt",
            kind: "read",
            mids: mids.slice(i, i + MAX_RECEIPT_IDS),
          }, null);
        }
      }
    }).then(() => this.#flushOutbox()).catch((e) => {
      if (!(e instanceof ChatError && e.code === "offline")) throw e;
    });
  }

  /** Sends a text message. Resolves once it is stored locally (state pending or sent). */
  async send(peer: string, text: string): Promise<StoredMessage> {
    const to = canonicalUsername(peer);
    if (!to) throw new ChatError("no_such_user", `there is no user ${JSON.stringify(peer)}`);
    if (text.length === 0 || text.length > MAX_TEXT_CHARS) {
      throw new ChatError("bad_input", `a message has 1 to ${MAX_TEXT_CHARS} characters`);
    }
    const ts = Date.now();
    const message = await this.#run(async () => {
      const c = await this.#s.getContact(to);
      if (c?.pendingIdentity) {
        throw new ChatError(
          "identity_changed",
          `${to}'s identity changed; acknowledge it before sending`,
        );
      }
      return this.#sendContent(to, { t: "text", text, ts }, text);
    });
    this.#emit("message", message!);
    void this.#flushOutbox().catch(() => {});
    return message!;
  }

  /** Encrypts content for `peer`, stores it (and the message, for text) and queues it. In the lane. */
  async #sendContent(
    peer: string,
    content: Content,
    text: string | null,
  ): Promise<StoredMessage | null> {
    const s = this.#s;
    let session = await this.#session(peer);
    if (!session) {
      const b = await this.#wrapServer(this.#request("bundle", { username: peer }));
      session = await Session.initiate(this.#identity!, {
        identityKey: b.identity,
        signedPrekey: b.signedPrekey,
        oneTimePrekey: b.oneTimePrekey,
        kyberPrekey: b.kyberPrekey,
        kyberLastResort: b.kyberLastResort,
      });
      const contact = await this.#noteIdentity(peer, null, session.remoteIdentity.encode());
      if (contact.pendingIdentity) {
        throw new ChatError(
          "identity_changed",
          `${peer}'s identity changed; acknowledge it before sending`,
        );
      }
    }
    const { envelope, session: next } = await session.encrypt(encodeContent(content));
    const mid = randomBytes(16);
    const [sealedSession, sealedEnvelope, sealedText] = await Promise.all([
      s.sealSession(peer, next.serialize()),
      s.sealEnvelope(mid, envelope),
      text === null ? null : s.sealText(mid, text),
    ]);
    const stored: StoredMessage = {
      seq: 0,
      mid,
      peer,
      outgoing: true,
      ts: content.t === "text" ? content.ts : Date.now(),
      state: MessageState.pending,
      text: text ?? "",
    };
    s.transaction(() => {
      s.writeSession(peer, sealedSession);
      s.writeOutbox(mid, peer, sealedEnvelope);
      if (sealedText) s.insertMessage(stored, sealedText);
    });
    this.#sessions.set(peer, next);
    this.#scheduleBackup();
    return text === null ? null : stored;
  }

  async #session(peer: string): Promise<Session | null> {
    const cached = this.#sessions.get(peer);
    if (cached) return cached;
    const bytes = await this.#s.getSession(peer);
    if (!bytes) return null;
    const s = Session.deserialize(bytes);
    this.#sessions.set(peer, s);
    return s;
  }

  #flushing: Promise<void> | null = null;
  #flushAgain = false;

  /** Sends everything in the outbox, oldest first; stops quietly when offline. */
  #flushOutbox(): Promise<void> {
    // A message queued while a flush runs may have missed its read of the outbox: note it, and
    // the running flush reads the outbox once more before it ends.
    this.#flushAgain = true;
    this.#flushing ??= (async () => {
      try {
        for (;;) {
          this.#flushAgain = false;
          const items = await this.#s.outbox();
          if (!this.isOnline) return;
          if (items.length === 0) {
            if (this.#flushAgain) continue;
            return;
          }
          const results = await Promise.allSettled(
            items.map((it) =>
              this.#conn.request("send", { to: it.peer, mid: it.mid, body: it.envelope })
            ),
          );
          const sent: Map<string, Uint8Array[]> = new Map();
          let progress = false;
          for (let i = 0; i < items.length; i++) {
            const r = results[i]!;
            const it = items[i]!;
            if (
              r.status === "fulfilled" ||
              (r.reason instanceof ServerError && r.reason.code === "no_such_user")
            ) {
              this.#s.transaction(() => {
                this.#s.deleteOutbox(it.mid);
                if (r.status === "fulfilled") this.#s.raiseState([it.mid], MessageState.sent);
              });
              if (r.status === "fulfilled") {
                sent.set(it.peer, [...(sent.get(it.peer) ?? []), it.mid]);
              } else {this.#emit(
                  "problem",
                  `${it.peer} no longer exists; a message to them was dropped`,
                );}
              progress = true;
            } else if (r.reason instanceof ServerError && r.reason.code === "queue_full") {
              this.#emit("problem", `${it.peer} has too many undelivered messages; will retry`);
            }
          }
          for (const [peer, mids] of sent) this.#emit("state", peer, mids, MessageState.sent);
          if (!progress && !this.#flushAgain) return;
        }
      } finally {
        this.#flushing = null;
      }
    })();
    return this.#flushing;
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving

  async #receive(d: Deliver): Promise<void> {
    const s = this.#s;
    if (s.hasMessage(d.mid) || s.wasSeen(d.mid)) {
      this.#conn.ack([d.qid]);
      return;
    }
    const peer = d.from;
    let plaintext: Uint8Array;
    let next: Session;
    let fresh = false;
    try {
      const existing = await this.#session(peer);
      let done: { plaintext: Uint8Array; session: Session } | null = null;
      if (existing) {
        try {
          done = await existing.decrypt(d.body);
        } catch (e) {
          if ((e as Error).name !== "HandshakeError") throw e;
        }
      }
      if (!done) {
        const r = await Session.respond(this.#identity!, this.#prekeys!, d.body);
        this.#prekeys!.consume(r.consumed);
        done = r;
        fresh = true;
      }
      plaintext = done.plaintext;
      next = done.session;
    } catch (e) {
      s.markSeenId(d.mid);
      this.#conn.ack([d.qid]);
      this.#emit(
        "problem",
        `a message from ${peer} could not be decrypted (${(e as Error).message})`,
      );
      return;
    }
    let content: Content;
    try {
      content = decodeContent(plaintext);
    } catch {
      s.markSeenId(d.mid);
      this.#conn.ack([d.qid]);
      this.#emit("problem", `a message from ${peer} was not understood`);
      return;
    }
    if (fresh) {
      const c = await this.#noteIdentity(peer, null, next.remoteIdentity.encode());
      if (!c.fullName) void this.lookup(peer).catch(() => {});
    }
    const sealedSession = await s.sealSession(peer, next.serialize());
    let stored: StoredMessage | null = null;
    if (content.t === "text") {
      stored = {
        seq: 0,
        mid: d.mid,
        peer,
        outgoing: false,
        ts: d.ts,
        state: MessageState.received,
        text: content.text,
      };
      const sealedText = await s.sealText(d.mid, content.text);
      s.transaction(() => {
        s.writeSession(peer, sealedSession);
        s.insertMessage(stored!, sealedText);
      });
    } else {
      s.transaction(() => {
        s.writeSession(peer, sealedSession);
        s.raiseState(
          content.mids,
          content.kind === "read" ? MessageState.read : MessageState.delivered,
        );
        s.markSeenId(d.mid);
      });
    }
    this.#sessions.set(peer, next);
    this.#conn.ack([d.qid]);
    this.#scheduleBackup();
    if (stored) {
      this.#emit("message", stored);
      this.#queueReceipt(peer, d.mid);
    } else if (content.t === "receipt") {
      this.#emit(
        "state",
        peer,
        content.mids,
        content.kind === "read" ? MessageState.read : MessageState.delivered,
      );
    }
    if (fresh) void this.#maintainPrekeys().catch(() => {});
  }

  #queueReceipt(peer: string, mid: Uint8Array): void {
    const list = this.#pendingReceipts.get(peer) ?? [];
    list.push(mid);
    this.#pendingReceipts.set(peer, list);
    this.#receiptTimer ??= setTimeout(() => {
      this.#receiptTimer = null;
      const all = this.#pendingReceipts;
      this.#pendingReceipts = new Map();
      void this.#run(async () => {
        for (const [p, mids] of all) {
          for (let i = 0; i < mids.length; i += MAX_RECEIPT_IDS) {
            await this.#sendContent(p, {
              t: "receipt",
              kind: "delivered",
              mids: mids.slice(i, i + MAX_RECEIPT_IDS),
            }, null);
          }
        }
      }).then(() => this.#flushOutbox()).catch(() => {});
    }, 50);
  }

  /** Resolves when everything received so far has been processed (for scripts and tests). */
  async settle(): Promise<void> {
    await this.#lane;
    await this.#flushing;
  }

  /**
   * The account's private keys as raw bytes: the identity (Ed25519 seed ‖ X25519 private key)
   * and the device key. Unsafe: for tests that prove these bytes appear nowhere else.
   */
  async exportSecretsUnsafe(): Promise<{ identity: Uint8Array; deviceKey: Uint8Array }> {
    const s = this.#s;
    return {
      identity: (await s.getSecret("identity"))!,
      deviceKey: (await s.getSecret("device_key"))!,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Backups, password, logout, deletion

  #scheduleBackup(delay = BACKUP_DELAY_MS): void {
    if (!this.#store) return;
    if (this.#backupTimer) clearTimeout(this.#backupTimer);
    this.#backupTimer = setTimeout(() => {
      this.#backupTimer = null;
      void this.backupNow().catch(() => {});
    }, delay);
  }

  /** Uploads an encrypted backup now. */
  async backupNow(): Promise<void> {
    if (this.#backupTimer) {
      clearTimeout(this.#backupTimer);
      this.#backupTimer = null;
    }
    const s = this.#s;
    const blob = await this.#run(() => makeBackup(s, this.username));
    const wrappedKey = s.getMeta("wrapped_account_key")!;
    await this.#wrapServer(this.#request("backup_put", { wrappedKey, blob }));
  }

  /** Changes the password: new auth key on the server, the account key re-wrapped, nothing else. */
  async changePassword(current: string, next: string): Promise<void> {
    const problem = passwordProblem(next, this.username);
    if (problem) throw new ChatError("weak_password", problem);
    const s = this.#s;
    const salt = s.getMeta("salt")!;
    const kdf = JSON.parse(s.getMetaText("kdf")!) as KdfParams;
    const old = await derivePasswordKeys(current, salt, kdf);
    const accountKey = await AccountKey.unwrap(old.masterKey, s.getMeta("wrapped_account_key")!)
      .catch(() => null);
    if (!accountKey) throw new ChatError("wrong_password", "the current password is wrong");
    const newSaltBytes = newSalt();
    const newKdf = { ...DEFAULT_KDF_PARAMS };
    const fresh = await derivePasswordKeys(next, newSaltBytes, newKdf);
    const wrappedKey = await accountKey.wrap(fresh.masterKey);
    await this.#wrapServer(this.#request("change_password", {
      authKey: old.authKey.bytesUnsafe(),
      newAuthKey: fresh.authKey.bytesUnsafe(),
      salt: newSaltBytes,
      kdf: newKdf,
      wrappedKey,
    }));
    s.setMeta("salt", newSaltBytes);
    s.setMeta("kdf", JSON.stringify(newKdf));
    s.setMeta("wrapped_account_key", wrappedKey);
  }

  /** Logs out: a last backup, the device unbound, the local store closed (and kept). */
  async logout(): Promise<void> {
    await this.backupNow().catch(() => {});
    await this.settle();
    await this.#request("logout", {}).catch(() => {});
    this.#forget();
  }

  /** Deletes the account on the server and its local store here. */
  async deleteAccount(password: string): Promise<void> {
    const s = this.#s;
    const keys = await derivePasswordKeys(
      password,
      s.getMeta("salt")!,
      JSON.parse(s.getMetaText("kdf")!),
    );
    await this.#wrapServer(
      this.#request("delete_account", { authKey: keys.authKey.bytesUnsafe() }),
    );
    const path = s.path;
    this.#forget();
    for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(path + suffix).catch(() => {});
  }

  #forget(): void {
    if (this.#backupTimer) clearTimeout(this.#backupTimer);
    if (this.#receiptTimer) clearTimeout(this.#receiptTimer);
    this.#backupTimer = null;
    this.#receiptTimer = null;
    this.#store?.close();
    this.#store = null;
    this.#identity = null;
    this.#prekeys = null;
    this.#username = null;
    this.#sessions.clear();
    this.#checkedIdentities.clear();
    this.#early = [];
  }

  /** Closes the connection (after a last backup when logged in). */
  async close(): Promise<void> {
    if (this.#store) {
      await this.backupNow().catch(() => {});
      await this.settle().catch(() => {});
    }
    this.#closing = true;
    this.#conn.close();
    this.#forget();
  }
}

function equalIdentity(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Splits "host:port" (IPv6 hosts in brackets). */
export function splitHost(text: string): [string, number] {
  const m = text.match(/^\[?([^\]]+?)\]?:(\d+)$/);
  if (!m) throw new ChatError("bad_input", `expected HOST:PORT, got ${JSON.stringify(text)}`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) {
    throw new ChatError("bad_input", `bad port in ${JSON.stringify(text)}`);
  }
  return [m[1]!, port];
}
