/**
 * Settings: verify a contact, change the password, backups (on with a new recovery key, now,
 * off), log out, delete the account.
 * Each says what it did, or one line about why it could not.
 *
 * @module
 */

import type { ChatClient } from "../chat.ts";
import { askBackup, newPassword, showRecoveryKey } from "./account_forms.ts";
import {
  compareText,
  notVerifiedText,
  safetyNumberRows,
  verifiedText,
  verifyQuestion,
} from "../words.ts";
import { displayName } from "./format.ts";
import { explain } from "./problems.ts";
import { askSecret, choose, confirm, say } from "./prompts.ts";

/** Where settings lead (back to the list, or out of the account) and what to tell the user. */
export interface SettingsExit {
  next: "list" | "loggedOut";
  /** A line for the top of the list: what was done, or why it could not be. */
  notice?: string;
}

type Item =
  | "verify"
  | "password"
  | "backup"
  | "backupOn"
  | "backupOff"
  | "logout"
  | "delete"
  | "back";

/** The settings menu, once. */
export async function settingsMenu(client: ChatClient): Promise<SettingsExit> {
  const backups = await client.backupsOn();
  const item = await choose<Item>("Settings", [
    { value: "verify", label: "Verify a contact (compare safety numbers)" },
    { value: "password", label: "Change password" },
    ...(backups
      ? [
        {
          value: "backup" as const,
          label: "Back up now",
          hint: "sealed under your recovery key; the server cannot read it",
        },
        {
          value: "backupOff" as const,
          label: "Turn backups off",
          hint: "deletes the server's copy",
        },
      ]
      : [{
        value: "backupOn" as const,
        label: "Turn backups on",
        hint: "shows a recovery key to write down",
      }]),
    { value: "logout", label: "Log out" },
    { value: "delete", label: "Delete account" },
    { value: "back", label: "Back" },
  ]);
  const list = (notice?: string | null): SettingsExit => ({
    next: "list",
    ...(notice ? { notice } : {}),
  });
  try {
    switch (item) {
      case "verify":
        return list(await verifyContact(client));
      case "password":
        return list(await changePassword(client));
      case "backup":
        await client.backupNow();
        return list("backup uploaded, sealed under your recovery key");
      case "backupOn": {
        if (!(await askBackup())) return list("backups stay off");
        await showRecoveryKey(await client.enableBackups());
        return list("backups are on; the first one is uploaded");
      }
      case "backupOff":
        if (!(await confirm("Turn backups off and delete the server's copy?"))) return list();
        await client.disableBackups();
        return list("backups are off; the server's copy is deleted");
      case "logout":
        await client.logout();
        say.success("logged out; your chats stay on this computer, encrypted");
        return { next: "loggedOut" };
      case "delete":
        return await deleteAccount(client) ? { next: "loggedOut" } : list();
      default:
        return list();
    }
  } catch (e) {
    const p = explain(e);
    return list(`pesuchat: ${p.message}` + (p.hint ? `\npesuchat: ${p.hint}` : ""));
  }
}

/**
 * Shows the safety number with a contact and marks them verified if the user says so; returns
 * what happened.
 */
export async function verifyContact(client: ChatClient, peer?: string): Promise<string | null> {
  if (!peer) {
    const conversations = await client.conversations();
    if (conversations.length === 0) return "no contacts to verify yet";
    const picked = await choose(
      "Verify whom?",
      await Promise.all(conversations.map(async (c) => ({
        value: c.peer,
        label: displayName(c.peer, (await client.contact(c.peer))?.fullName),
      }))),
    );
    if (picked === null) return null;
    peer = picked;
  }
  const contact = await client.contact(peer);
  const number = await client.safetyNumber(peer);
  say.note(safetyNumberRows(number).join("\n"), `Safety number with ${peer}`);
  say.info(compareText(peer));
  const changed = Boolean(contact?.pendingIdentity);
  const ok = await confirm(verifyQuestion(peer, changed));
  if (!ok) return notVerifiedText(peer);
  if (changed) await client.acceptIdentity(peer);
  await client.markVerified(peer);
  return verifiedText(peer);
}

async function changePassword(client: ChatClient): Promise<string | null> {
  const current = await askSecret("Current password");
  if (current === null) return null;
  const next = await newPassword(client.username, "New password");
  if (next === null) return null;
  await client.changePassword(current, next);
  return "password changed; use the new one from now on";
}

async function deleteAccount(client: ChatClient): Promise<boolean> {
  say.warn(
    `deleting removes ${client.username} and every message, on the server and on this\n` +
      "computer; this cannot be undone",
  );
  const sure = await confirm(`Delete the account ${client.username} for good?`);
  if (!sure) return false;
  const password = await askSecret("Password, to confirm");
  if (password === null) return false;
  await client.deleteAccount(password);
  say.success("the account is deleted");
  return true;
}
