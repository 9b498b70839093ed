/**
 * The request table: one handler per request type. A handler returns the result to send, or null
 * when it answers later itself (send, after the commit).
 *
 * @module
 */

import type { RequestOf, RequestType } from "../protocol/messages.ts";
import {
  changePassword,
  deleteAccount,
  login,
  logout,
  newIdentity,
  prelogin,
  resume,
  signup,
} from "./accounts.ts";
import type { ClientConnection } from "./connection.ts";
import {
  backupDelete,
  backupGet,
  backupPut,
  bundle,
  lookup,
  prekeyCount,
  prekeysPut,
} from "./directory.ts";
import { send } from "./relay.ts";

type Handler<T extends RequestType> = (
  c: ClientConnection,
  body: RequestOf<T>,
  id: number,
) => Promise<Record<string, unknown> | null>;

/** Every request type's handler. */
export const handlers: { [T in RequestType]: Handler<T> } = {
  prelogin,
  signup,
  login,
  resume,
  logout,
  change_password: changePassword,
  delete_account: deleteAccount,
  new_identity: newIdentity,
  bundle,
  prekeys_put: prekeysPut,
  prekey_count: prekeyCount,
  send,
  lookup,
  backup_put: backupPut,
  backup_get: backupGet,
  backup_delete: backupDelete,
  ping: () => Promise.resolve({}),
};
