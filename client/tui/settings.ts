/**
 * Settings: verify a contact, change the password, back up now, log out, delete the account.
 * Each says what it did, or one line about why it could not.
 *
 * @module
 */

import type { ChatClient } from "../chat.ts";
import { newPassword } from "./account_forms.ts";
import { safetyNumberRows } from "./chat_screen.ts";
import { displayName } from "./format.ts";
import { explain } from "./problems.ts";
import { askSecret, choose, confirm, say } from "./prompts.ts";

/** Where settings lead: back to the list, or out of the account. */
export type SettingsExit = "list" | "loggedOut";

type Item = "verify" | "password" | "backup" | "logout" | "delete" | "back";

/** The settings menu, once. */
export async function settingsMenu(client: ChatClient): Promise<SettingsExit> {
  const item = await choose<Item>("Settings", [
    { value: "verify", label: "Verify a contact (compare safety numbers)" },
    { value: "password", label: "Change password" },
    { value: "backup", label: "Back up now", hint: "encrypted; the server cannot read it" },
    { value: "logout", label: "Log out" },
    { value: "delete", label: "Delete account" },
    { value: "back", label: "Back" },
  ]);
  try {
    switch (item) {
      case "verify":
        await verifyContact(client);
        return "list";
      case "password":
        await changePassword(client);
        return "list";
      case "backup":
        await client.backupNow();
        say.success("backup uploaded, encrypted under your password");
        return "list";
      case "logout":
        await client.logout();
        say.success("logged out; your chats stay on this computer, encrypted");
        return "loggedOut";
      case "delete":
        return await deleteAccount(client) ? "loggedOut" : "list";
      default:
        return "list";
    }
  } catch (e) {
    const p = explain(e);
    say.problem(p.message, p.hint);
    return "list";
  }
}

/** Shows the safety number with a contact and marks them verified if the user says so. */
export async function verifyContact(client: ChatClient, peer?: string): Promise<void> {
  if (!peer) {
    const conversations = await client.conversations();
    if (conversations.length === 0) {
      say.info("no contacts yet");
      return;
    }
    const picked = await choose(
      "Verify whom?",
      await Promise.all(conversations.map(async (c) => ({
        value: c.peer,
        label: displayName(c.peer, (await client.contact(c.peer))?.fullName),
      }))),
    );
    if (picked === null) return;
    peer = picked;
  }
  const contact = await client.contact(peer);
  const number = await client.safetyNumber(peer);
  say.note(safetyNumberRows(number).join("\n"), `Safety number with ${peer}`);
  say.info(`compare it with the number on ${peer}'s screen, side by side or over a call you trust`);
  const changed = Boolean(contact?.pendingIdentity);
  const ok = await confirm(
    changed
      ? `The numbers match: accept ${peer}'s new key and mark them verified?`
      : `The numbers match: mark ${peer} verified?`,
  );
  if (!ok) {
    say.info(`${peer} was not marked verified`);
    return;
  }
  if (changed) await client.acceptIdentity(peer);
  await client.markVerified(peer);
  say.success(`${peer} is marked verified`);
}

async function changePassword(client: ChatClient): Promise<void> {
  const current = await askSecret("Current password");
  if (current === null) return;
  const next = await newPassword(client.username, "New password");
  if (next === null) return;
  await client.changePassword(current, next);
  say.success("password changed; use the new one from now on");
}

async function deleteAccount(client: ChatClient): Promise<boolean> {
  const sure = await confirm(
    `Delete the account ${client.username} with every message, on the server and here? ` +
      "This cannot be undone",
  );
  if (!sure) return false;
  const password = await askSecret("Password, to confirm");
  if (password === null) return false;
  await client.deleteAccount(password);
  say.success("the account is deleted");
  return true;
}
