/**
 * The sentences every face of the client says the same way (the terminal client and the web
 * interface): the first-contact question, the restore question, a contact's identity change,
 * verification, and the delivery marks. One place, so the two faces never drift apart.
 *
 * @module
 */

/** The lines before the first-contact question: what to compare, and where the key is kept. */
export function trustLines(server: string, knownHosts: string): string[] {
  return [
    `first contact with ${server}: compare its key fingerprint with the one the server's`,
    "operator gave you ('pesuchat server run' prints it). If they are the same, trust it:",
    `it will be remembered in ${knownHosts}`,
  ];
}

/** The first-contact question itself (the answer defaults to no); the fingerprint goes with it. */
export const TRUST_QUESTION = "Trust this server and remember its key?";

/** What refusing a new server key leads to. */
export function notTrusted(host: string): string {
  return `not connecting: the key of ${host} was not trusted`;
}

/** Why a restore is offered at login. */
export function restoreLines(username: string): string[] {
  return [
    `there is no copy of ${username}'s chats on this computer, and the server`,
    "keeps an encrypted backup; without it you start afresh, with a new safety number",
  ];
}

/** The restore question. */
export const RESTORE_QUESTION = "Restore the backup from the server?";

/** What a login that restored or made new keys tells the user. */
export const RESTORED_NOTICE = "restored your chats from the backup";
export const NEW_IDENTITY_NOTICE =
  "new keys were made: your contacts will see your safety number change";

/** Shown in a chat when the contact's identity changed, until it is accepted. */
export function identityChangedText(peer: string): string {
  return `${peer}'s safety number has changed. This happens when ${peer} set pesuchat up ` +
    "again without a backup, or when someone is intercepting the chat. Compare the new " +
    "number with /verify; type /accept to keep chatting, or /reject to refuse it.";
}

/** Shown when a send is refused because the contact's identity changed. */
export function notSentIdentityText(peer: string): string {
  return `not sent: ${peer}'s safety number changed. Compare it with /verify, then type ` +
    "/accept; your message comes back to the input line to send.";
}

/** Shown on the chat list when a contact's identity changed. */
export function identityChangedListNotice(peer: string): string {
  return `${peer}'s safety number changed; open the chat to see and accept it`;
}

/** How to compare a safety number. */
export function compareText(peer: string): string {
  return `compare it with the number on ${peer}'s screen,\nside by side or over a call you trust`;
}

/** The question after a safety number is shown. */
export function verifyQuestion(peer: string, changed: boolean): string {
  return changed
    ? `The numbers match: accept ${peer}'s new key and mark them verified?`
    : `The numbers match: mark ${peer} verified?`;
}

/** The outcomes of verifying and accepting. */
export const verifiedText = (peer: string): string => `${peer} is marked verified`;
export const notVerifiedText = (peer: string): string => `${peer} was not marked verified`;
export const acceptedText = (peer: string): string =>
  `accepted ${peer}'s new safety number; /verify it when you can`;
export const nothingToAcceptText = (peer: string): string =>
  `${peer}'s safety number has not changed; nothing to accept`;

export const nothingToRejectText = (peer: string): string =>
  `${peer}'s safety number has not changed; nothing to reject`;
export const rejectedText = (peer: string): string =>
  `rejected ${peer}'s new safety number: nothing was sent to it. If the server keeps ` +
  "presenting it, sending stays blocked; ask them out of band what happened.";

/** The 60-digit safety number in rows of four groups of five. */
export function safetyNumberRows(formatted: string): string[] {
  const groups = formatted.split(/\s+/).filter(Boolean);
  const rows: string[] = [];
  for (let i = 0; i < groups.length; i += 4) rows.push(groups.slice(i, i + 4).join("  "));
  return rows;
}

/** What choosing a server backup means, said before the user chooses (sign-up and settings). */
export const BACKUP_TRADE_OFF =
  "A backup on the server lets you restore your chats and keys on a new computer. It is sealed\n" +
  "under a recovery key shown to you once: the server cannot open it, and without the key\n" +
  "nobody can, not even you. Without a backup nothing of yours stays on the server, but losing\n" +
  "this computer loses your chats, and your contacts see a new safety number.";

/** The backup question (the answer defaults to no). */
export const BACKUP_QUESTION = "Keep an encrypted backup on the server?";

/** Said under a new recovery key, which is shown only once. */
export const RECOVERY_KEY_WARNING =
  "write it down and keep it apart from this computer; it is shown only now, and restoring\n" +
  "on a new computer asks for it";
export const RECOVERY_KEY_WRITTEN = "Have you written the recovery key down?";
export const RECOVERY_KEY_AGAIN = "it will not be shown again; take a moment to write it down";

/** Asking for the recovery key at a restore. */
export const RECOVERY_KEY_PROMPT = "Recovery key (64 characters a-f and 0-9, spaces optional)";
export const RECOVERY_KEY_HINT = "type the 64 characters of the recovery key; spaces are optional";

/** A recovery key in rows of four groups. */
export function recoveryKeyRows(key: string): string[] {
  const groups = key.split(" ");
  const rows: string[] = [];
  for (let i = 0; i < groups.length; i += 4) rows.push(groups.slice(i, i + 4).join("  "));
  return rows;
}

/** After the text of an edited message, in every face. */
export const EDITED_MARK = "(edited)";
/** What a message deleted for everyone shows instead of its text. */
export const DELETED_MARK = "(deleted)";

/** What someone did to a message, as a line says it: "reacted 👍", "deleted a message". */
export function actionText(
  a:
    | { t: "edit"; text: string }
    | { t: "delete" }
    | { t: "pin"; on: boolean }
    | { t: "react"; emoji: string | null },
): string {
  switch (a.t) {
    case "edit":
      return `edited a message: ${a.text}`;
    case "delete":
      return "deleted a message";
    case "pin":
      return a.on ? "pinned a message" : "unpinned a message";
    case "react":
      return a.emoji === null ? "took back a reaction" : `reacted ${a.emoji}`;
  }
}
