/**
 * Accounts without the password: prelogin hands out the user's salt and KDF parameters (a stable
 * fake for unknown names), sign-up and login carry only the auth key the client derived, and the
 * server keeps a salted hash of it. Failed logins are throttled per address and per account from
 * an address (server/rate_limit.ts), never per account alone.
 *
 * @module
 */

import {
  DEFAULT_KDF_PARAMS,
  equalBytes,
  HmacKey,
  KDF_FLOOR,
  type KdfParams,
  meetsKdfFloor,
  randomBytes,
  utf8,
} from "../crypto/mod.ts";
import { ProtocolError } from "../protocol/errors.ts";
import type { RequestOf } from "../protocol/messages.ts";
import { canonicalUsername, USERNAME_RULE } from "../protocol/username.ts";
import { type Credentials, StoreError, type UserRecord } from "../sql/store.ts";
import type { ClientConnection } from "./connection.ts";
import { openProfile, sealProfile } from "./profile.ts";

const EMAIL_SHAPE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The verifier stored for an auth key: HMAC-SHA256 keyed by a per-user random salt. */
async function verifierFor(salt: Uint8Array, authKey: Uint8Array): Promise<Uint8Array> {
  return (await HmacKey.import(salt)).sign(authKey);
}

async function newCredentials(
  b: { authKey: Uint8Array; salt: Uint8Array; kdf: Credentials["kdf"] },
): Promise<Credentials> {
  const verifierSalt = randomBytes(32);
  return {
    salt: b.salt,
    kdf: b.kdf,
    verifierSalt,
    verifier: await verifierFor(verifierSalt, b.authKey),
  };
}

async function checkAuthKey(user: UserRecord, authKey: Uint8Array): Promise<boolean> {
  return equalBytes(await verifierFor(user.verifierSalt, authKey), user.verifier);
}

/** New passwords are stretched at least at the default cost (older accounts keep theirs). */
function requireKdfFloor(kdf: KdfParams): void {
  if (!meetsKdfFloor(kdf)) {
    throw new ProtocolError(
      "bad_message",
      `kdf: new passwords need at least ${KDF_FLOOR.memoryKiB} KiB and ${KDF_FLOOR.passes} passes`,
    );
  }
}

function requireUsername(name: string): string {
  const c = canonicalUsername(name);
  if (c === null) throw new ProtocolError("invalid_username", `usernames are ${USERNAME_RULE}`);
  return c;
}

/**
 * Logs the connection in and returns the session summary. The summary is read first: once logged
 * in, deliveries start, and one acknowledged before the count would be missing from `pending`.
 */
async function enter(
  c: ClientConnection,
  user: UserRecord,
  username: string,
): Promise<Record<string, unknown>> {
  const info = await sessionInfo(c, user);
  c.loggedIn({ id: user.id, username });
  return info;
}

/** The session summary login, sign-up and resume answer with. */
async function sessionInfo(
  c: ClientConnection,
  user: UserRecord,
): Promise<Record<string, unknown>> {
  const s = c.server;
  const [profile, prekeys, pending] = await Promise.all([
    openProfile(s.dataKey, user.username, user.profile),
    s.store.prekeyCounts(user.id),
    s.store.pendingCount(user.id),
  ]);
  return {
    username: user.username,
    fullName: profile.fullName,
    email: profile.email,
    prekeys,
    pending,
  };
}

/** prelogin: the salt and KDF parameters to derive the auth key with. */
export async function prelogin(
  c: ClientConnection,
  b: RequestOf<"prelogin">,
): Promise<Record<string, unknown>> {
  const name = canonicalUsername(b.username);
  const user = name === null ? null : await c.server.store.userByName(name);
  if (user) return { salt: user.salt, kdf: user.kdf };
  // An unknown name gets a salt that is stable per name and indistinguishable from a real one,
  // so the answer does not tell who has an account.
  const mac = await c.server.pepperKey.sign(utf8(`prelogin salt ${name ?? b.username}`));
  return { salt: mac.subarray(0, 16), kdf: { ...DEFAULT_KDF_PARAMS } };
}

/** signup: creates the account and logs this connection in with its device key. */
export async function signup(
  c: ClientConnection,
  b: RequestOf<"signup">,
): Promise<Record<string, unknown>> {
  const s = c.server;
  const username = requireUsername(b.username);
  if (b.email !== undefined && !EMAIL_SHAPE.test(b.email)) {
    throw new ProtocolError("bad_message", "email: expected an address like name@example.org");
  }
  const profile = await sealProfile(
    s.dataKey,
    username,
    b.email ? { fullName: b.fullName, email: b.email } : { fullName: b.fullName },
  );
  requireKdfFloor(b.kdf);
  const credentials = await newCredentials(b);
  const giveInviteBack = await s.registration.admit(c.address.replace(/:\d+$/, ""), b.invite);
  let user: UserRecord;
  try {
    user = await s.store.createUser(
      { username, profile, ...credentials, identityKey: b.identity, createdAt: Date.now() },
      b.prekeys,
      c.deviceKey,
    );
  } catch (e) {
    await giveInviteBack().catch(() => {});
    if (e instanceof StoreError && e.code === "conflict") {
      throw new ProtocolError("username_taken", `the username ${username} is taken`);
    }
    throw e;
  }
  s.logger.info("signup", { user: username, addr: c.address });
  return await enter(c, user, username);
}

/** login: checks the auth key, binds this connection's device key to the account. */
export async function login(
  c: ClientConnection,
  b: RequestOf<"login">,
): Promise<Record<string, unknown>> {
  const s = c.server;
  const username = canonicalUsername(b.username) ?? b.username.slice(0, 64);
  const host = c.address.replace(/:\d+$/, "");
  const wait = await s.throttle.check(username, host);
  if (wait > 0) {
    s.logger.info("login throttled", { user: username, addr: c.address });
    throw new ProtocolError(
      "rate_limited",
      `too many failed logins; try again in ${Math.ceil(wait / 1000)} s`,
    );
  }
  const user = await s.store.userByName(username);
  if (!user || !(await checkAuthKey(user, b.authKey))) {
    await s.throttle.fail(username, host);
    s.logger.info("login failed", { user: username, addr: c.address });
    throw new ProtocolError("bad_credentials", "wrong username or password");
  }
  await s.throttle.succeed(username, host);
  await s.store.bindDevice(user.id, c.deviceKey);
  s.logger.info("login", { user: username, addr: c.address });
  return await enter(c, user, username);
}

/** resume: logs in by the device key alone, for a client reconnecting after login. */
export async function resume(c: ClientConnection): Promise<Record<string, unknown>> {
  const user = await c.server.store.userByDevice(c.deviceKey);
  if (!user) {
    throw new ProtocolError(
      "unknown_device",
      "this device is not logged in; log in with the password",
    );
  }
  return await enter(c, user, user.username);
}

/** logout: unbinds the device; the connection stays open for another login. */
export async function logout(c: ClientConnection): Promise<Record<string, unknown>> {
  await c.server.store.unbindDevice(c.deviceKey);
  c.server.logger.info("logout", { user: c.user!.username });
  c.loggedOut();
  return {};
}

async function requirePassword(c: ClientConnection, authKey: Uint8Array): Promise<UserRecord> {
  const s = c.server;
  const user = await s.store.userById(c.user!.id);
  if (!user) throw new ProtocolError("no_such_user", "the account no longer exists");
  const host = c.address.replace(/:\d+$/, "");
  if ((await s.throttle.check(user.username, host)) > 0) {
    throw new ProtocolError("rate_limited", "too many failed attempts");
  }
  if (!(await checkAuthKey(user, authKey))) {
    await s.throttle.fail(user.username, host);
    throw new ProtocolError("bad_credentials", "wrong password");
  }
  return user;
}

/** change_password: new salt, KDF and verifier (nothing else: no key the password wraps). */
export async function changePassword(
  c: ClientConnection,
  b: RequestOf<"change_password">,
): Promise<Record<string, unknown>> {
  const user = await requirePassword(c, b.authKey);
  requireKdfFloor(b.kdf);
  await c.server.store.updateCredentials(
    user.id,
    await newCredentials({ authKey: b.newAuthKey, salt: b.salt, kdf: b.kdf }),
  );
  c.server.logger.info("password changed", { user: user.username });
  return {};
}

/** delete_account: removes the user and everything of theirs, then closes. */
export async function deleteAccount(
  c: ClientConnection,
  b: RequestOf<"delete_account">,
): Promise<Record<string, unknown>> {
  const user = await requirePassword(c, b.authKey);
  await c.server.store.deleteUser(user.id);
  c.server.forgetUsername(user.username);
  c.server.logger.info("account deleted", { user: user.username });
  c.loggedOut();
  return {};
}

/** new_identity: a user starting over without a backup replaces identity and prekeys. */
export async function newIdentity(
  c: ClientConnection,
  b: RequestOf<"new_identity">,
): Promise<Record<string, unknown>> {
  await c.server.store.replaceIdentity(c.user!.id, b.identity, b.prekeys);
  c.server.logger.info("identity replaced", { user: c.user!.username });
  return {};
}
