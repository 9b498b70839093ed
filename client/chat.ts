/**
 * The chat core: everything a front end needs (connect and trust the server, sign up, log in,
 * send, receive, receipts, safety numbers, backups) and no terminal I/O. The terminal UI, the
 * `send`/`receive` commands and the tests all drive this one class.
 *
 * This file holds the connection (trust, reconnecting, resuming) and the account (sign-up, login
 * and restore, password, backups); once logged in, conversations are the Messenger's
 * (client/messenger.ts), to which the client hands deliveries and the connection.
 *
 * @module
 */

import {
  AccountKey,
  checkKdfParams,
  DecryptError,
  DEFAULT_KDF_PARAMS,
  derivePasswordKeys,
  IdentityKeyPair,
  type KdfParams,
  meetsKdfFloor,
  newSalt,
  RECOVERY_BACKUP_TAG,
  RecoveryKey,
  RecoveryKeyError,
  X25519KeyPair,
} from "../crypto/mod.ts";
import type { Deliver, RequestOf, RequestType, ResultOf } from "../protocol/messages.ts";
import { canonicalUsername, USERNAME_RULE } from "../protocol/username.ts";
import { makeBackup, restoreBackup } from "./backup.ts";
import { ChatError, type ChatEvents, explainServer, passwordProblem } from "./chat_types.ts";
import { type CloseReason, ServerConnection, ServerError } from "./connection.ts";
import { HostKeyChangedError, HostKeyUnknownError, KnownHosts } from "./known_hosts.ts";
import type { Contact, ConversationSummary, StoredMessage } from "./local_store.ts";
import { LocalStore } from "./local_store.ts";
import { Messenger } from "./messenger.ts";
import { RoomStore } from "./room_store.ts";
import { Rooms } from "./rooms_core.ts";
import { ClientPrekeys } from "./prekeys.ts";
import type { Profile } from "./profile.ts";
import { type Address, serverIdOf, showAddress } from "./servers.ts";

export {
  ChatError,
  type ChatEvents,
  MIN_PASSWORD_CHARS,
  passwordProblem,
  passwordRules,
} from "./chat_types.ts";
export { type Address, parseAddresses, showAddress, splitHost } from "./servers.ts";

/** What the user is told when another login took the account over. */
export const TAKEN_OVER =
  "another login to this account (pesuchat connect, send or receive) took it over; " +
  "one account has one connection at a time. Connect again to take it back";

/** Delay after the last change before a backup is uploaded. */
export const BACKUP_DELAY_MS = 2000;
/** Recovery keys tried at one restore before it gives up. */
export const MAX_RECOVERY_KEY_ATTEMPTS = 5;
/** Reconnect delays: doubling from the first to the last. */
export const RECONNECT_FIRST_MS = 500;
export const RECONNECT_MAX_MS = 15_000;

/** Options of {@linkcode ChatClient.connect}. */
export interface ConnectOptions {
  hostname: string;
  port: number;
  /** More addresses of the same server (other nodes), tried in order when one fails. */
  alternates?: Address[];
  profile: Profile;
  /** A fingerprint to trust on first contact without asking (`--trust`). */
  trust?: string;
  /** Asked on first contact with the fingerprint; true trusts and remembers the key. */
  confirmNewServer?: (fingerprint: string) => Promise<boolean>;
  /** The clock prekey rotation follows (tests move it); the system clock by default. */
  clock?: () => number;
}

type Listeners = { [K in keyof ChatEvents]: Set<ChatEvents[K]> };

/** One user's chat with one server. */
export class ChatClient {
  /** The name the profile knows this server by, from its key: the same on every address. */
  readonly serverId: string;
  readonly #addresses: Address[];
  #current = 0;
  readonly #profile: Profile;
  #conn: ServerConnection;
  readonly #deviceKey: X25519KeyPair;
  readonly #knownHosts: KnownHosts;
  readonly #clock: () => number;
  #listeners: Listeners = {
    message: new Set(),
    state: new Set(),
    identityChanged: new Set(),
    connection: new Set(),
    notice: new Set(),
    problem: new Set(),
    room: new Set(),
    action: new Set(),
    failed: new Set(),
  };
  /** The logged-in account's conversations; null before login and after logout. */
  #messenger: Messenger | null = null;
  /** The account's rooms and message actions; null when the messenger is. */
  #rooms: Rooms | null = null;
  #fullName = "";
  #backupTimer: ReturnType<typeof setTimeout> | null = null;
  #closing = false;
  #online = true;
  /** A reconnect loop is running: the connection comes back by itself. */
  #reconnecting = false;
  /** Deliveries that arrived between the server accepting a login and the store opening. */
  #early: Deliver[] = [];
  /** Set by {@linkcode stopDeliveries}: what arrives now stays on the server, unacknowledged. */
  #refuseDeliveries = false;

  private constructor(
    profile: Profile,
    where: { addresses: Address[]; current: number; serverId: string },
    conn: ServerConnection,
    deviceKey: X25519KeyPair,
    knownHosts: KnownHosts,
    clock: () => number,
  ) {
    this.#profile = profile;
    this.#clock = clock;
    this.#addresses = where.addresses;
    this.#current = where.current;
    this.serverId = where.serverId;
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
    const addresses = [{ hostname: o.hostname, port: o.port }, ...(o.alternates ?? [])];
    const knownHosts = await KnownHosts.load(o.profile.knownHosts);
    const deviceKey = await X25519KeyPair.generate();
    let firstError: unknown = null;
    // Each address in turn: one that does not answer passes to the next, but a key that is
    // unknown or changed stops here, as it would with one address.
    for (let i = 0; i < addresses.length; i++) {
      const server = showAddress(addresses[i]!);
      const open = () =>
        ServerConnection.open(addresses[i]!.hostname, addresses[i]!.port, {
          staticKey: deviceKey,
          verifyServerKey: knownHosts.verifier(server, o.trust),
        });
      let conn: ServerConnection;
      try {
        try {
          conn = await open();
        } catch (e) {
          if (!(e instanceof HostKeyUnknownError) || !o.confirmNewServer) throw e;
          if (!(await o.confirmNewServer(e.presentedFingerprint))) throw e;
          await knownHosts.add(server, e.key);
          conn = await open();
        }
      } catch (e) {
        if (e instanceof HostKeyUnknownError || e instanceof HostKeyChangedError) throw e;
        firstError ??= e;
        continue;
      }
      const serverId = await serverIdOf(conn.serverKey);
      // Stores an older profile kept under any address of this key now go under the key.
      for (const host of knownHosts.hostsWith(conn.serverKey)) {
        await o.profile.adoptLegacy(host, serverId);
      }
      return new ChatClient(
        o.profile,
        { addresses, current: i, serverId },
        conn,
        deviceKey,
        knownHosts,
        o.clock ?? Date.now,
      );
    }
    throw firstError;
  }

  /** The address connected to now ("host:port"). */
  get server(): string {
    return showAddress(this.#addresses[this.#current]!);
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
    return this.#m.username;
  }

  get fullName(): string {
    return this.#fullName;
  }

  get isOnline(): boolean {
    return this.#online && !this.#conn.isClosed;
  }

  get #m(): Messenger {
    if (!this.#messenger) throw new ChatError("not_logged_in", "not logged in");
    return this.#messenger;
  }

  /** A request on the current connection; `ChatError("offline")` when it is closed. */
  async #request<T extends RequestType>(type: T, body: RequestOf<T>): Promise<ResultOf<T>> {
    if (this.#conn.isClosed) throw new ChatError("offline", "not connected to the server");
    return await this.#conn.request(type, body);
  }

  // ---------------------------------------------------------------------------------------------
  // Accounts

  /** Who may sign up on this server, as it said in the handshake: open, token or closed. */
  get registration(): "open" | "token" | "closed" {
    const r = (this.#conn.serverInfo as { registration?: unknown }).registration;
    return r === "token" || r === "closed" ? r : "open";
  }

  /**
   * Creates an account on the server and a local profile for it; logs in. With `backup`, a
   * recovery key is made and returned (shown to the user once) and encrypted backups go to the
   * server; without, the server never holds a backup.
   */
  async signup(
    o: {
      fullName: string;
      email?: string;
      username: string;
      password: string;
      backup?: boolean;
      /** The operator's one-time invite token, on a server whose registration is "token". */
      invite?: string;
      /** @internal Only tests choose: accounts as older versions made them. */
      kdf?: KdfParams;
    },
  ): Promise<{ recoveryKey: string | null }> {
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
    const kdf: KdfParams = { ...(o.kdf ?? DEFAULT_KDF_PARAMS) };
    const recovery = o.backup ? RecoveryKey.generate() : null;
    const [keys, identity, accountKey] = await Promise.all([
      derivePasswordKeys(o.password, salt, kdf),
      IdentityKeyPair.generate(),
      AccountKey.generate(),
    ]);
    const path = this.profilePath(username);
    await Deno.remove(path).catch(() => {});
    const store = LocalStore.open(path);
    store.unlock(accountKey);
    try {
      const set = await new ClientPrekeys(store, identity, this.#clock).initialSet();
      const info = await explainServer(this.#request("signup", {
        username,
        fullName,
        ...(o.email ? { email: o.email } : {}),
        authKey: keys.authKey.bytesUnsafe(),
        salt,
        kdf,
        identity: identity.publicIdentity.encode(),
        prekeys: set,
        ...(o.invite ? { invite: o.invite.trim() } : {}),
      }));
      store.setMeta("username", username);
      store.setMeta("server", this.serverId);
      store.setMeta("salt", salt);
      store.setMeta("kdf", JSON.stringify(kdf));
      store.setMeta("wrapped_account_key", await accountKey.wrap(keys.masterKey));
      await store.setSecret("identity", identity.serialize());
      await store.setSecret("device_key", this.#deviceKey.privateBytesUnsafe());
      if (recovery) await store.setSecret("recovery_key", recovery.bytesUnsafe());
      this.#loggedIn(store, identity, username, info.fullName);
    } catch (e) {
      store.close();
      await Deno.remove(path).catch(() => {});
      throw e;
    }
    if (recovery) this.#scheduleBackup(0);
    return { recoveryKey: recovery?.textUnsafe() ?? null };
  }

  /** The local store path of `username` on this server. */
  profilePath(username: string): string {
    return this.#profile.accountStore(this.serverId, username);
  }

  /**
   * Logs in. With no local profile for the account, `restore` is asked whether to restore the
   * server's backup (when there is one) and `recoveryKey` for the key it is sealed under (again,
   * with the problem, after a wrong one; null gives up); without a backup or when declined, a new
   * identity is made and contacts will see that it changed. When the password was changed on
   * another machine, this machine's profile is still sealed under the previous one, which
   * `previousPassword` is asked for once.
   */
  async login(
    o: {
      username: string;
      password: string;
      restore?: () => Promise<boolean>;
      recoveryKey?: (problem: string | null) => Promise<string | null>;
      previousPassword?: () => Promise<string | null>;
    },
  ): Promise<{ restored: boolean; newIdentity: boolean }> {
    const username = canonicalUsername(o.username);
    if (!username) throw new ChatError("wrong_password", "wrong username or password");
    const path = this.profilePath(username);
    const exists = await this.#profile.hasAccount(this.serverId, username);
    const pre = await explainServer(this.#request("prelogin", { username }));
    this.#checkServerKdf(pre.kdf, exists ? readLocalKdf(path) : null);
    const keys = await derivePasswordKeys(o.password, pre.salt, pre.kdf);
    const info = await explainServer(
      this.#request("login", { username, authKey: keys.authKey.bytesUnsafe() }),
    );
    const store = LocalStore.open(path);
    let restored = false;
    let newIdentity = false;
    try {
      let accountKey: AccountKey | null = null;
      const wrapped = store.getMeta("wrapped_account_key");
      if (exists && wrapped) {
        accountKey = await AccountKey.unwrap(keys.masterKey, wrapped).catch(() => null);
        // The password was changed on another machine: this profile is still sealed under the
        // previous one (the server never holds the account key, so it cannot hand it over).
        accountKey ??= await this.#unlockWithPreviousPassword(store, o.previousPassword);
        store.setMeta("wrapped_account_key", await accountKey.wrap(keys.masterKey));
      }
      if (!accountKey) {
        const got = await this.#request("backup_get", {});
        // A backup from before recovery keys opens for no one: as good as none.
        const backup = got.backup?.blob[0] === RECOVERY_BACKUP_TAG ? got.backup : null;
        if (backup && (!o.restore || (await o.restore()))) {
          accountKey = await AccountKey.generate();
          store.unlock(accountKey);
          const { key, seq } = await restoreWithRecoveryKey(
            store,
            username,
            backup.blob,
            await this.#profile.backupSeen(this.serverId, username),
            o.recoveryKey,
          );
          await store.setSecret("recovery_key", key.bytesUnsafe());
          await this.#profile.noteBackup(this.serverId, username, seq);
          // The server's one-time prekeys may be ones used since the backup was made: replace
          // them all (and the signed and last-resort keys) with a fresh set.
          const identity = await IdentityKeyPair.deserialize((await store.getSecret("identity"))!);
          const set = await new ClientPrekeys(store, identity, this.#clock).initialSet();
          await this.#request("new_identity", {
            identity: identity.publicIdentity.encode(),
            prekeys: set,
          });
          restored = true;
        } else {
          accountKey = await AccountKey.generate();
          store.unlock(accountKey);
          const identity = await IdentityKeyPair.generate();
          await store.setSecret("identity", identity.serialize());
          const set = await new ClientPrekeys(store, identity, this.#clock).initialSet();
          await this.#request("new_identity", {
            identity: identity.publicIdentity.encode(),
            prekeys: set,
          });
          newIdentity = true;
        }
        store.setMeta("username", username);
        store.setMeta("server", this.serverId);
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

  /**
   * Refuses KDF parameters from the server outside the accepted range, or cheaper than the
   * floor unless this machine's profile recorded exactly those for the account (an account made
   * before the floor was raised, not yet upgraded by a password change).
   */
  #checkServerKdf(kdf: KdfParams, local: KdfParams | null): void {
    try {
      checkKdfParams(kdf);
    } catch {
      throw new ChatError(
        "weak_kdf",
        "the server asked for password settings outside the safe range; not logging in",
      );
    }
    const known = local !== null && local.memoryKiB === kdf.memoryKiB &&
      local.passes === kdf.passes && local.parallelism === kdf.parallelism;
    if (!meetsKdfFloor(kdf) && !known) {
      throw new ChatError(
        "weak_kdf",
        `the server asked for a cheaper password setting (${kdf.memoryKiB} KiB, ${kdf.passes} ` +
          "passes) than new accounts use; not logging in. An account made by an older version " +
          "logs in on a computer that already has it, and its next password change upgrades it",
      );
    }
  }

  async #unlockWithPreviousPassword(
    store: LocalStore,
    ask: (() => Promise<string | null>) | undefined,
  ): Promise<AccountKey> {
    const refuse = () =>
      new ChatError(
        "wrong_password",
        "this computer's copy of the account is sealed under the password it had before it " +
          "was changed elsewhere; log in with the previous password when asked",
      );
    const previous = ask ? await ask() : null;
    const salt = store.getMeta("salt");
    const kdfText = store.getMetaText("kdf");
    const wrapped = store.getMeta("wrapped_account_key");
    if (previous === null || !salt || !kdfText || !wrapped) throw refuse();
    const old = await derivePasswordKeys(previous, salt, JSON.parse(kdfText) as KdfParams);
    const key = await AccountKey.unwrap(old.masterKey, wrapped).catch(() => null);
    if (!key) throw refuse();
    return key;
  }

  #loggedIn(
    store: LocalStore,
    identity: IdentityKeyPair,
    username: string,
    fullName: string,
  ): void {
    const m = new Messenger(store, identity, username, {
      request: (type, body) => this.#request(type, body),
      ack: (qids) => this.#conn.ack(qids),
      isOnline: () => this.isOnline,
      emit: (event, ...args) => this.#emit(event, ...args),
      changed: () => this.#scheduleBackup(),
    }, this.#clock);
    this.#messenger = m;
    this.#rooms = new Rooms(m, new RoomStore(store));
    this.#fullName = fullName;
    this.#online = true;
    for (const d of this.#early.splice(0)) m.deliver(d);
    void m.afterConnect().then(() => this.#rooms?.flush()).catch(() => {});
  }

  // ---------------------------------------------------------------------------------------------
  // Connection

  #wire(conn: ServerConnection): void {
    conn.onDeliver = (d) => {
      if (this.#refuseDeliveries) return;
      // The server starts delivering as soon as it accepts the login, before the local store is
      // open; those wait here (unacknowledged, so nothing is lost if the login fails).
      if (this.#messenger) this.#messenger.deliver(d);
      else this.#early.push(d);
    };
    conn.onClose = (reason) => this.#closed(reason);
  }

  #closed(reason: CloseReason): void {
    // A connection that fails while the reconnect loop tries it is that loop's business.
    if (this.#closing || this.#reconnecting) return;
    this.#online = false;
    if (reason.code === "logged_in_elsewhere") {
      this.#emit("connection", "offline", TAKEN_OVER);
      return;
    }
    if (!this.#messenger) {
      this.#emit("connection", "offline", reason.message);
      return;
    }
    this.#emit("connection", "reconnecting", reason.message);
    void this.#reconnect();
  }

  async #reconnect(): Promise<void> {
    this.#reconnecting = true;
    try {
      await this.#reconnectLoop();
    } finally {
      this.#reconnecting = false;
    }
  }

  async #reconnectLoop(): Promise<void> {
    let delay = RECONNECT_FIRST_MS;
    const serverKey = this.#conn.serverKey;
    const n = this.#addresses.length;
    const failed = this.#current;
    while (!this.#closing) {
      await new Promise((r) => setTimeout(r, delay));
      let keyProblem: string | null = null;
      let keyProblems = 0;
      // Every address once, the one that just failed last: another node is likelier to answer.
      for (let k = 1; k <= n && !this.#closing; k++) {
        const i = (failed + k) % n;
        const address = this.#addresses[i]!;
        let conn: ServerConnection | null = null;
        try {
          conn = await ServerConnection.open(address.hostname, address.port, {
            staticKey: this.#deviceKey,
            verifyServerKey: this.#knownHosts.sameServer(showAddress(address), serverKey),
          });
          this.#conn = conn;
          this.#wire(conn);
          await conn.request("resume", {});
          this.#current = i;
          this.#online = true;
          this.#emit("connection", "online", "connected again");
          void this.#messenger?.afterConnect().then(() => this.#rooms?.flush()).catch(() => {});
          return;
        } catch (e) {
          if (conn) {
            conn.onClose = () => {};
            conn.close();
          }
          if (e instanceof HostKeyChangedError || e instanceof HostKeyUnknownError) {
            // Never talk to a key other than this server's; another address may still answer.
            keyProblem = e.message;
            keyProblems++;
            continue;
          }
          if (e instanceof ServerError && e.code === "unknown_device") {
            // The server binds one device per account: another login replaced this one.
            this.#emit("connection", "offline", TAKEN_OVER);
            return;
          }
        }
      }
      if (keyProblems === n) {
        this.#emit("connection", "offline", keyProblem!);
        return;
      }
      delay = Math.min(delay * 2, RECONNECT_MAX_MS);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Conversations (the Messenger's; here for front ends)

  /** A user's public face on the server; throws `ChatError("no_such_user")`. */
  lookup(username: string): Promise<{ username: string; fullName: string }> {
    return this.#m.lookup(username);
  }

  /** Checks a contact's identity with the server once per run (used when a chat is opened). */
  checkContact(username: string): Promise<void> {
    return this.#m.checkContact(username);
  }

  /** A contact as stored. */
  contact(username: string): Promise<Contact | null> {
    return this.#m.contact(username);
  }

  /** Accepts a contact's new identity after the user saw the notice. */
  acceptIdentity(username: string): Promise<void> {
    return this.#m.acceptIdentity(username);
  }

  /** Rejects a contact's new identity: the accepted one stays, and nothing goes to the new one. */
  rejectIdentity(username: string): Promise<void> {
    return this.#m.rejectIdentity(username);
  }

  /** The 60-digit safety number with a contact, grouped in fives. */
  safetyNumber(username: string): Promise<string> {
    return this.#m.safetyNumber(username);
  }

  /** Marks a contact verified (after comparing safety numbers). */
  markVerified(username: string, verified = true): Promise<void> {
    return this.#m.markVerified(username, verified);
  }

  /** The chat list. */
  conversations(): Promise<ConversationSummary[]> {
    return this.#m.conversations();
  }

  /** Recent history with `peer`, oldest first. */
  history(peer: string, limit = 50): Promise<StoredMessage[]> {
    return this.#m.history(peer, limit);
  }

  /** Marks `peer`'s messages read here and tells them (a read receipt). */
  markRead(peer: string): Promise<void> {
    return this.#m.markRead(peer);
  }

  /** Sends a text message (a reply when `reply` names one). Resolves once stored locally. */
  send(peer: string, text: string, reply?: Uint8Array): Promise<StoredMessage> {
    return this.#m.send(peer, text, reply);
  }

  /** Groups, broadcast channels and message actions (edit, delete, pin, react, reply). */
  get rooms(): Rooms {
    if (!this.#rooms) throw new ChatError("not_logged_in", "log in first");
    return this.#rooms;
  }

  /**
   * Sends what waits in the outbox now. Throws `ChatError("offline")` when no connection will come
   * back by itself (another login took the account over): logging in again sends it.
   */
  async retry(): Promise<void> {
    if (!this.isOnline && !this.#reconnecting) {
      throw new ChatError("offline", "not connected; log in again to send what waits");
    }
    await this.#m.retry();
  }

  /** Resolves when everything received so far has been processed (for scripts and tests). */
  async settle(): Promise<void> {
    await this.#messenger?.settle();
    await this.#rooms?.flush();
    await this.#messenger?.settle();
  }

  /**
   * Takes no more deliveries: whatever arrives from now on is left unacknowledged for the next
   * connection, and what was taken already is stored once this resolves. A script calls this
   * before it prints its last messages, so nothing is acknowledged that it will not print.
   */
  async stopDeliveries(): Promise<void> {
    this.#refuseDeliveries = true;
    await this.settle();
  }

  /** Incoming messages `receive` has not printed yet, whichever process stored them. */
  unprinted(): Promise<StoredMessage[]> {
    return this.#m.store.unprinted();
  }

  /** Notes that `receive` printed a message. */
  markPrinted(mid: Uint8Array): void {
    this.#m.store.markPrinted(mid);
  }

  /**
   * The account's private keys as raw bytes: the identity (Ed25519 seed ‖ X25519 private key)
   * and the device key. Unsafe: for tests that prove these bytes appear nowhere else.
   */
  async exportSecretsUnsafe(): Promise<{ identity: Uint8Array; deviceKey: Uint8Array }> {
    const s = this.#m.store;
    return {
      identity: (await s.getSecret("identity"))!,
      deviceKey: (await s.getSecret("device_key"))!,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Backups, password, logout, deletion

  #scheduleBackup(delay = BACKUP_DELAY_MS): void {
    if (!this.#messenger) return;
    if (this.#backupTimer) clearTimeout(this.#backupTimer);
    this.#backupTimer = setTimeout(() => {
      this.#backupTimer = null;
      void this.backupNow().catch(() => {});
    }, delay);
  }

  /** Whether encrypted backups go to the server (a recovery key is set). */
  async backupsOn(): Promise<boolean> {
    return (await this.#m.store.getSecret("recovery_key")) !== null;
  }

  /**
   * Turns backups on with a new recovery key, uploads one now, and returns the key's text to
   * show the user once. A previous key no longer opens the new backup.
   */
  async enableBackups(): Promise<string> {
    const key = RecoveryKey.generate();
    await this.#m.store.setSecret("recovery_key", key.bytesUnsafe());
    await this.backupNow();
    return key.textUnsafe();
  }

  /** Turns backups off: the recovery key is forgotten here and the server's backup deleted. */
  async disableBackups(): Promise<void> {
    if (this.#backupTimer) clearTimeout(this.#backupTimer);
    this.#backupTimer = null;
    // The server's copy goes first: offline, backups stay on rather than half off.
    await explainServer(this.#request("backup_delete", {}));
    this.#m.store.deleteMeta("recovery_key");
  }

  /** Uploads an encrypted backup now; `ChatError("backups_off")` when backups are off. */
  async backupNow(): Promise<void> {
    if (this.#backupTimer) {
      clearTimeout(this.#backupTimer);
      this.#backupTimer = null;
    }
    const m = this.#m;
    const raw = await m.store.getSecret("recovery_key");
    if (!raw) throw new ChatError("backups_off", "backups are off; turn them on in settings");
    const key = RecoveryKey.fromBytes(raw);
    const seq = await this.#profile.backupSeen(this.serverId, m.username) + 1;
    const blob = await m.run(() => makeBackup(m.store, m.username, seq, key));
    await explainServer(this.#request("backup_put", { blob }));
    await this.#profile.noteBackup(this.serverId, m.username, seq);
  }

  /**
   * Changes the password: new auth key on the server, the account key re-wrapped here, nothing
   * else. The new password is stretched at today's default cost, which upgrades older accounts.
   */
  async changePassword(current: string, next: string): Promise<void> {
    const problem = passwordProblem(next, this.username);
    if (problem) throw new ChatError("weak_password", problem);
    const s = this.#m.store;
    const salt = s.getMeta("salt")!;
    const kdf = JSON.parse(s.getMetaText("kdf")!) as KdfParams;
    const old = await derivePasswordKeys(current, salt, kdf);
    const accountKey = await AccountKey.unwrap(old.masterKey, s.getMeta("wrapped_account_key")!)
      .catch(() => null);
    if (!accountKey) throw new ChatError("wrong_password", "the current password is wrong");
    const newSaltBytes = newSalt();
    const newKdf = { ...DEFAULT_KDF_PARAMS };
    const fresh = await derivePasswordKeys(next, newSaltBytes, newKdf);
    // The re-wrapped account key stays here: the server gets only the new auth key.
    const wrappedKey = await accountKey.wrap(fresh.masterKey);
    await explainServer(this.#request("change_password", {
      authKey: old.authKey.bytesUnsafe(),
      newAuthKey: fresh.authKey.bytesUnsafe(),
      salt: newSaltBytes,
      kdf: newKdf,
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
    const s = this.#m.store;
    const keys = await derivePasswordKeys(
      password,
      s.getMeta("salt")!,
      JSON.parse(s.getMetaText("kdf")!),
    );
    await explainServer(
      this.#request("delete_account", { authKey: keys.authKey.bytesUnsafe() }),
    );
    const path = s.path;
    this.#forget();
    for (const suffix of ["", "-wal", "-shm"]) await Deno.remove(path + suffix).catch(() => {});
  }

  #forget(): void {
    if (this.#backupTimer) clearTimeout(this.#backupTimer);
    this.#backupTimer = null;
    this.#messenger?.stop();
    this.#rooms?.stop();
    this.#messenger?.store.close();
    this.#messenger = null;
    this.#rooms = null;
    this.#early = [];
  }

  /** Closes the connection (after a last backup when logged in). */
  async close(): Promise<void> {
    if (this.#messenger) {
      await this.backupNow().catch(() => {});
      await this.settle().catch(() => {});
    }
    this.#closing = true;
    this.#conn.close();
    this.#forget();
  }
}

/** The KDF parameters a local profile recorded for its account, or null. */
function readLocalKdf(path: string): KdfParams | null {
  const store = LocalStore.open(path);
  try {
    const text = store.getMetaText("kdf");
    return text ? JSON.parse(text) as KdfParams : null;
  } finally {
    store.close();
  }
}

/**
 * Asks for the recovery key until one opens the backup (at most MAX_RECOVERY_KEY_ATTEMPTS), then
 * writes the backup into the store. Nothing is written under a wrong key, nor from a backup older
 * than number `seenSeq` (`StaleBackupError`).
 */
async function restoreWithRecoveryKey(
  store: LocalStore,
  username: string,
  blob: Uint8Array,
  seenSeq: number,
  ask: ((problem: string | null) => Promise<string | null>) | undefined,
): Promise<{ key: RecoveryKey; seq: number }> {
  let problem: string | null = null;
  for (let attempt = 0; attempt < MAX_RECOVERY_KEY_ATTEMPTS; attempt++) {
    const text = ask ? await ask(problem) : null;
    if (text === null) {
      throw new ChatError("restore_cancelled", "restoring needs the recovery key; nothing changed");
    }
    try {
      const key = RecoveryKey.parse(text);
      return { key, seq: await restoreBackup(store, username, blob, key, seenSeq) };
    } catch (e) {
      if (e instanceof RecoveryKeyError) problem = e.message;
      else if (e instanceof DecryptError) {
        problem = "that recovery key does not open this backup; check it and type it again";
      } else throw e;
    }
  }
  throw new ChatError(
    "wrong_recovery_key",
    `no recovery key opened the backup in ${MAX_RECOVERY_KEY_ATTEMPTS} tries; nothing changed`,
  );
}
