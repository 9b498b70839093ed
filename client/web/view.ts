/**
 * What the local process tells the page, and what the page asks of it: plain data, every string
 * meant to be shown as text. The page draws these and nothing else; the words, the rules and the
 * keys stay in the process.
 *
 * @module
 */

/** A line for the user: what the last step did, or why it could not. */
export interface Notice {
  text: string;
  kind: "info" | "error";
}

/** One row of the chat list. */
export interface RowView {
  peer: string;
  name: string;
  time: string;
  unread: number;
  preview: string;
  /** For a room: how many members it has. */
  members?: number;
}

/** One message in a chat. */
export interface MessageView {
  id: string;
  outgoing: boolean;
  who: string;
  text: string;
  time: string;
  /** The delivery mark: "…", "✓", "✓✓", "✓✓ read", or "" for incoming messages. */
  mark: string;
  /** What was done to it since, in 1:1 chats and rooms. */
  edited?: boolean;
  deleted?: boolean;
  pinned?: boolean;
  /** Reactions, one per emoji, most given first. */
  reactions?: ReactionView[];
  /** Our own reaction, if any. */
  mine?: string;
  /** The texts it had before its edits, oldest first, then the text it has now. */
  history?: VersionView[];
  /** The start of the message this one replies to, quoted. */
  quote?: string;
  /** Whether we may delete it for everyone (our own; any, for a room's admins). */
  canDelete?: boolean;
}

/** One emoji given to a message: how many gave it, and who. */
export interface ReactionView {
  emoji: string;
  count: number;
  /** Usernames, with "you" for us. */
  who: string[];
}

/** One text a message had: since when, and whether it is the text it has now. */
export interface VersionView {
  text: string;
  time: string;
  label: string;
}

/** A room as its chat screen shows it. */
export interface RoomView {
  kind: "group" | "channel";
  admin: boolean;
  /** False in a channel for members who are not admins, and after leaving or removal. */
  canPost: boolean;
  member: boolean;
  joined: string;
  members: { username: string; admin: boolean; verified: boolean }[];
  /** An invite code just made, shown once. */
  invite?: string;
}

/** The connection to the server as the headers show it. */
export type StatusView = "online" | "reconnecting" | "offline";

/** A screen of the web interface. */
export type View =
  | { screen: "busy"; text: string }
  | { screen: "connect"; server: string; notice?: Notice }
  | { screen: "trust"; server: string; fingerprint: string; lines: string[]; question: string }
  | {
    screen: "welcome";
    server: string;
    usernameRule: string;
    minPassword: number;
    /** What a server backup means, and the question whether to keep one. */
    backupText: string;
    backupQuestion: string;
    notice?: Notice;
  }
  | { screen: "restore"; lines: string[]; question: string }
  | { screen: "question"; title: string; lines: string[]; question: string }
  | { screen: "recoveryKey"; rows: string[]; warning: string; question: string; again: string }
  | { screen: "askRecoveryKey"; label: string; problem: string }
  | {
    screen: "list";
    header: string;
    status: StatusView;
    rows: RowView[];
    notice?: Notice;
  }
  | {
    screen: "chat";
    peer: string;
    title: string;
    status: StatusView;
    verified: boolean;
    identityChanged: boolean;
    /** The warning shown while the identity change waits to be accepted. */
    identityText: string;
    messages: MessageView[];
    /** Set in a room's chat. */
    room?: RoomView;
    /** A message that was not sent, given back to the input line. */
    draft?: string;
    notice?: Notice;
  }
  | {
    screen: "verify";
    peer: string;
    rows: string[];
    /** The digits alone, as the QR code carries them. */
    digits: string;
    /** The QR code of the digits: rows of "1" (dark) and "0" (light). */
    qr: string[];
    lines: string[];
    question: string;
  }
  | {
    screen: "settings";
    username: string;
    backupsOn: boolean;
    backupText: string;
    contacts: { peer: string; name: string }[];
    notice?: Notice;
  };

/** A message from the process to the page. */
export type ServerMessage = { type: "view"; view: View } | { type: "bye"; text: string };

/** What the page can ask for. */
export type Action =
  | { do: "connect"; server: string }
  | { do: "answer"; yes: boolean }
  | {
    do: "signup";
    fullName: string;
    email: string;
    username: string;
    password: string;
    password2: string;
    backup: boolean;
  }
  | { do: "login"; username: string; password: string }
  | { do: "open"; peer: string }
  | { do: "newChat"; username: string }
  | { do: "send"; text: string; reply?: string }
  | { do: "newRoom"; name: string; kind: string; members: string }
  | { do: "joinRoom"; code: string }
  | { do: "room"; op: string; arg?: string }
  | { do: "message"; op: string; id: string; text?: string }
  | { do: "accept" }
  | { do: "reject" }
  | { do: "verify"; peer?: string }
  | { do: "back" }
  | { do: "settings" }
  | { do: "changePassword"; current: string; next: string; next2: string }
  | { do: "backup" }
  | { do: "backupOn" }
  | { do: "backupOff" }
  | { do: "recoveryKey"; key: string }
  | { do: "logout" }
  | { do: "deleteAccount"; password: string };

/** The action names, for checking what a page sent. */
export const ACTIONS: readonly Action["do"][] = [
  "connect",
  "answer",
  "signup",
  "login",
  "open",
  "newChat",
  "send",
  "newRoom",
  "joinRoom",
  "room",
  "message",
  "accept",
  "reject",
  "verify",
  "back",
  "settings",
  "changePassword",
  "backup",
  "backupOn",
  "backupOff",
  "recoveryKey",
  "logout",
  "deleteAccount",
];

/** What the room action can do. */
export const ROOM_OPS = [
  "add",
  "remove",
  "leave",
  "promote",
  "demote",
  "rename",
  "invite",
  "revoke",
] as const;
/** What the message action can do. */
export const MESSAGE_OPS = ["edit", "delete", "pin", "unpin", "react", "unreact"] as const;
