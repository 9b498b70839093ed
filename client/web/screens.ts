/**
 * Each screen of the web interface as a {@linkcode View}: read from the chat core at the moment
 * it is shown, in the terminal client's words. Pure reading; the steps are in app.ts.
 *
 * @module
 */

import { USERNAME_RULE } from "../../protocol/username.ts";
import { MIN_PASSWORD_CHARS } from "../chat.ts";
import { clockTime, displayName, preview, stateMark } from "../format.ts";
import * as words from "../words.ts";
import type { Place, WebApp } from "./app.ts";
import { qrRows } from "./qr.ts";
import { byIdOf, messageView, roomView, withRooms } from "./room_screens.ts";
import type { Notice, View } from "./view.ts";

/** Messages a chat screen shows (the latest). */
export const CHAT_HISTORY = 200;

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** The view of `place` now. */
export async function screenView(
  app: WebApp,
  place: Place,
  notice: Notice | undefined,
): Promise<View> {
  const n = notice ? { notice } : {};
  const client = app.client;
  const server = app.target.server;
  if (place.kind === "connect" || !client) return { screen: "connect", server, ...n };
  if (place.kind === "welcome") {
    return {
      screen: "welcome",
      server: client.server,
      usernameRule: USERNAME_RULE,
      minPassword: MIN_PASSWORD_CHARS,
      backupText: words.BACKUP_TRADE_OFF.replaceAll("\n", " "),
      backupQuestion: words.BACKUP_QUESTION,
      ...n,
    };
  }
  const now = Date.now();
  switch (place.kind) {
    case "list": {
      const conversations = await client.conversations();
      const rows = await Promise.all(conversations.map(async (c) => ({
        peer: c.peer,
        name: displayName(c.peer, (await client.contact(c.peer))?.fullName),
        time: clockTime(c.lastTs, now),
        unread: c.unread,
        preview: (c.lastOutgoing ? "you: " : "") + preview(c.lastText),
      })));
      return {
        screen: "list",
        header: `pesuchat · ${displayName(client.username, client.fullName)} on ${client.server}`,
        status: app.status,
        rows: await withRooms(client, rows),
        ...n,
      };
    }
    case "chat": {
      const room = place.peer.startsWith("#")
        ? await roomView(client, place.peer, place.invite)
        : null;
      const [contact, history] = await Promise.all([
        room ? null : client.contact(place.peer),
        client.history(place.peer, CHAT_HISTORY),
      ]);
      const byId = byIdOf(history);
      const messages = await Promise.all(history.map((m) =>
        messageView(
          client,
          m,
          {
            id: hex(m.mid),
            outgoing: m.outgoing,
            who: m.outgoing ? "you" : room ? client.rooms.author(m) : m.peer,
            text: m.text,
            time: clockTime(m.ts, now),
            mark: m.outgoing ? stateMark(m.state) : "",
          },
          byId,
          now,
          room?.room.admin ?? false,
        )
      ));
      const draft = place.draft !== undefined ? { draft: place.draft } : {};
      if (room) {
        return {
          screen: "chat",
          peer: place.peer,
          title: room.title,
          status: app.status,
          verified: room.room.members.every((m) => m.verified),
          identityChanged: false,
          identityText: "",
          messages,
          room: room.room,
          ...draft,
          ...n,
        };
      }
      const changed = Boolean(contact?.pendingIdentity);
      return {
        screen: "chat",
        peer: place.peer,
        title: displayName(place.peer, contact?.fullName),
        status: app.status,
        verified: Boolean(contact?.verified) && !changed,
        identityChanged: changed,
        identityText: changed ? words.identityChangedText(place.peer) : "",
        messages,
        ...draft,
        ...n,
      };
    }
    case "verify": {
      const [number, contact] = await Promise.all([
        client.safetyNumber(place.peer),
        client.contact(place.peer),
      ]);
      const digits = number.replace(/\D/g, "");
      return {
        screen: "verify",
        peer: place.peer,
        rows: words.safetyNumberRows(number),
        digits,
        qr: qrRows(digits),
        lines: words.compareText(place.peer).split("\n"),
        question: words.verifyQuestion(place.peer, Boolean(contact?.pendingIdentity)),
      };
    }
    case "settings": {
      const conversations = await client.conversations();
      const contacts = await Promise.all(conversations.map(async (c) => ({
        peer: c.peer,
        name: displayName(c.peer, (await client.contact(c.peer))?.fullName),
      })));
      return {
        screen: "settings",
        username: client.username,
        backupsOn: await client.backupsOn(),
        backupText: words.BACKUP_TRADE_OFF.replaceAll("\n", " "),
        contacts,
        ...n,
      };
    }
  }
}
