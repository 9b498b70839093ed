/**
 * The prekey directory and user lookup: public keys in, bundles out (each one-time key handed out
 * once), and the public face of a user (name, full name, identity key). Also encrypted backups,
 * sealed under a recovery key the server never sees, which it stores and returns unread.
 *
 * @module
 */

import { ProtocolError } from "../protocol/errors.ts";
import { MAX_ONE_TIME_PREKEYS_STORED } from "../protocol/limits.ts";
import type { RequestOf } from "../protocol/messages.ts";
import { canonicalUsername } from "../protocol/username.ts";
import { StoreError } from "../sql/store.ts";
import type { ClientConnection } from "./connection.ts";
import { openProfile } from "./profile.ts";

async function userNamed(c: ClientConnection, name: string) {
  const canonical = canonicalUsername(name);
  const user = canonical === null ? null : await c.server.store.userByName(canonical);
  if (!user) {
    throw new ProtocolError(
      "no_such_user",
      `there is no user ${JSON.stringify(name.slice(0, 64))}`,
    );
  }
  return user;
}

/** bundle: hands out a prekey bundle for starting a session, within the requester's limit. */
export async function bundle(
  c: ClientConnection,
  b: RequestOf<"bundle">,
): Promise<Record<string, unknown>> {
  const user = await userNamed(c, b.username);
  // Past the per-requester limit the bundle carries no one-time keys rather than being refused:
  // a session still starts (signed prekey and last-resort ML-KEM key), and the pool stays for
  // everyone else.
  const withOneTime = c.server.bundleFetches.take(`${c.user!.id}>${user.id}`);
  const rec = await c.server.store.takeBundle(user.id, withOneTime);
  if (!rec) throw new ProtocolError("no_prekeys", `${user.username} has no prekeys on this server`);
  return {
    username: user.username,
    identity: rec.identityKey,
    signedPrekey: rec.signedPrekey,
    oneTimePrekey: rec.oneTimePrekey,
    kyberPrekey: rec.kyberPrekey,
    kyberLastResort: rec.kyberLastResort,
  };
}

/** prekeys_put: replaces signed keys and adds one-time keys, within the stored limit. */
export async function prekeysPut(
  c: ClientConnection,
  b: RequestOf<"prekeys_put">,
): Promise<Record<string, unknown>> {
  const store = c.server.store;
  const id = c.user!.id;
  const counts = await store.prekeyCounts(id);
  const addX = b.oneTimePrekeys?.length ?? 0;
  const addK = b.kyberPrekeys?.length ?? 0;
  if (
    counts.oneTime + addX > MAX_ONE_TIME_PREKEYS_STORED ||
    counts.kyber + addK > MAX_ONE_TIME_PREKEYS_STORED
  ) {
    throw new ProtocolError(
      "not_allowed",
      `at most ${MAX_ONE_TIME_PREKEYS_STORED} one-time prekeys of each kind may be stored`,
    );
  }
  try {
    if (b.signedPrekey) await store.setSignedPrekey(id, b.signedPrekey);
    if (b.kyberLastResort) await store.setKyberLastResort(id, b.kyberLastResort);
    if (addX) await store.addOneTimePrekeys(id, b.oneTimePrekeys!);
    if (addK) await store.addKyberPrekeys(id, b.kyberPrekeys!);
  } catch (e) {
    if (e instanceof StoreError && e.code === "conflict") {
      throw new ProtocolError("bad_message", "a prekey id was uploaded twice");
    }
    throw e;
  }
  return { ...(await store.prekeyCounts(id)) };
}

/** prekey_count: how many one-time keys remain. */
export async function prekeyCount(c: ClientConnection): Promise<Record<string, unknown>> {
  return { ...(await c.server.store.prekeyCounts(c.user!.id)) };
}

/** lookup: a user's public face. */
export async function lookup(
  c: ClientConnection,
  b: RequestOf<"lookup">,
): Promise<Record<string, unknown>> {
  const user = await userNamed(c, b.username);
  const profile = await openProfile(c.server.dataKey, user.username, user.profile);
  return { username: user.username, fullName: profile.fullName, identity: user.identityKey };
}

/** backup_put: stores the client's sealed backup. */
export async function backupPut(
  c: ClientConnection,
  b: RequestOf<"backup_put">,
): Promise<Record<string, unknown>> {
  await c.server.store.putBackup(c.user!.id, {
    blob: b.blob,
    updatedAt: Date.now(),
  });
  return {};
}

/** backup_delete: removes the backup (the user turned backups off). */
export async function backupDelete(c: ClientConnection): Promise<Record<string, unknown>> {
  await c.server.store.deleteBackup(c.user!.id);
  c.server.logger.info("backup deleted", { user: c.user!.username });
  return {};
}

/** backup_get: returns the sealed backup, if any. */
export async function backupGet(c: ClientConnection): Promise<Record<string, unknown>> {
  return { backup: await c.server.store.getBackup(c.user!.id) };
}
