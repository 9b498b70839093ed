import assert from "node:assert/strict";
import { SenderKeyState, utf8 } from "../crypto/mod.ts";
import { encodeContent } from "../client/content.ts";
import { ROOM_ENVELOPE } from "../client/rooms_core.ts";
import { eventually, type TestChat } from "./support/chat.ts";
import { DATABASE_KINDS } from "./support/databases.ts";
import { loginChat, queuedFor } from "./support/sessions.ts";
import { contains, dump, leaks } from "./support/dump.ts";
import { startTestServer, type TestServer } from "./support/server.ts";
import { agreeOnRoom, type RoomState, signedUp, textsIn } from "./support/rooms.ts";

const NAMES = ["ann", "bob", "cat", "dan", "eve"] as const;
type Name = (typeof NAMES)[number];
const PASSWORD = "room test password 9";
const TIME_LIMIT_MS = 300_000;
/** How long one step may take on a loaded machine. */
const STEP_MS = 90_000;

const five = (t: TestServer) => signedUp(t, NAMES, PASSWORD);

const texts = textsIn;

async function sees(c: Record<Name, TestChat>, who: Name[], peer: string, text: string) {
  for (const n of who) {
    await eventually(
      () => texts(c[n], peer).includes(text),
      `${n} reads "${text}" (problems: ${c[n].problems.join("; ")})`,
      STEP_MS,
    );
  }
}

/** Waits until every one of `who` holds the same state of the room, one where `until` holds. */
const agree = (
  c: Record<Name, TestChat>,
  who: Name[],
  id: string,
  what: string,
  until?: (s: RoomState) => boolean,
) => agreeOnRoom(who.map((n) => [n, c[n]]), id, what, until);

async function timeLimited(fn: () => Promise<void>): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error("time limit")), TIME_LIMIT_MS);
  });
  try {
    await Promise.race([fn(), limit]);
  } finally {
    clearTimeout(timer);
  }
}

for (const kind of DATABASE_KINDS) {
  Deno.test({
    name:
      `[${kind}] five clients in a group: messages, offline catch-up, add/remove/leave/promote, a removed member reads nothing new, concurrent admins converge, invites`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () =>
      timeLimited(async () => {
        const t = await startTestServer(kind);
        try {
          const c = await five(t);
          const id = await c.ann.client.rooms.create("Quokka club", "group", ["bob", "cat", "dan"]);
          const peer = `#${id}`;
          await agree(
            c,
            ["ann", "bob", "cat", "dan"],
            id,
            "everyone holds the new room",
            (s) => s.members.length === 4,
          );
          await c.ann.client.rooms.send(id, "hello room");
          await sees(c, ["bob", "cat", "dan"], peer, "hello room");
          // Dan goes offline; messages wait for him.
          const danDir = c.dan.profile.dir;
          await c.dan.client.close();
          await c.bob.client.rooms.send(id, "bob here");
          await c.cat.client.rooms.send(id, "cat too");
          await sees(c, ["ann", "cat"], peer, "bob here");
          c.dan = await loginChat(t, danDir, "dan", PASSWORD);
          await sees(c, ["dan"], peer, "bob here");
          await sees(c, ["dan"], peer, "cat too");

          // Promote Bob; add Eve, who sees nothing from before she joined.
          await c.ann.client.rooms.setAdmin(id, "bob", true);
          await c.bob.client.rooms.add(id, ["eve"]);
          const s1 = await agree(c, [...NAMES], id, "Eve added by Bob", (s) =>
            s.members.includes("eve"));
          assert.deepEqual(s1!.members, ["ann", "bob", "cat", "dan", "eve"]);
          assert.deepEqual(s1!.admins, ["ann", "bob"]);
          await c.eve.client.rooms.send(id, "eve says hi");
          await sees(c, ["ann", "bob", "cat", "dan"], peer, "eve says hi");
          assert.deepEqual(texts(c.eve, peer), []);
          const eveInfo = await c.eve.client.rooms.info(id);
          assert.ok(eveInfo.joinedAt > 0);
          assert.equal(
            eveInfo.members.find((m) =>
              m.username === "ann"
            )!.verified,
            false,
          );

          // Remove Cat: she hears of it, and reads nothing sent after, even fed the envelope.
          await c.ann.client.rooms.remove(id, "cat");
          await agree(
            c,
            ["ann", "bob", "dan", "eve"],
            id,
            "Cat removed",
            (s) =>
              !s.members.includes("cat"),
          );
          await eventually(async () =>
            !(await c.cat.client.rooms.info(id)).member, "Cat knows");
          // Dan is offline, so the envelope stays queued for him and can be copied.
          await c.dan.client.close();
          await c.bob.client.rooms.send(id, "after cat left");
          await sees(c, ["ann", "eve"], peer, "after cat left");
          await c.bob.client.settle();
          const copied = (await queuedFor(t, "dan")).filter((m) => m.senderName === "bob").at(-1)!;
          assert.ok(copied, "the room message is queued for Dan");
          // The server stopped queueing to Cat; a hostile one hands her the envelope anyway.
          const catUser = (await t.store.userByName("cat"))!;
          await t.store.enqueue([{
            ...copied,
            recipientId: catUser.id,
            mid: crypto.getRandomValues(new Uint8Array(16)),
          }]);
          await c.cat.client.close();
          c.cat = await loginChat(t, c.cat.profile.dir, "cat", PASSWORD);
          await eventually(
            () =>
              c.cat.problems.some((p) =>
                p.includes("could not be decrypted") || p.includes("not a member")
              ),
            "Cat's client says it cannot read it",
          );
          c.dan = await loginChat(t, c.dan.profile.dir, "dan", PASSWORD);
          await sees(c, ["dan"], peer, "after cat left");
          assert.ok(!texts(c.cat, peer).includes("after cat left"));
          assert.ok(
            !(await c.cat.client.history(peer)).some((m) => m.text === "after cat left"),
          );

          // Eve leaves.
          await c.eve.client.rooms.leave(id);
          const s2 = await agree(c, ["ann", "bob", "dan"], id, "Eve left", (s) =>
            !s.members.includes("eve"));
          assert.deepEqual(s2!.members, ["ann", "bob", "dan"]);

          // Two admins change the room at once; every client ends in the same state.
          await Promise.all([
            c.ann.client.rooms.rename(id, "Ann's name"),
            c.bob.client.rooms.rename(id, "Bob's name"),
          ]);
          const s3 = await agree(
            c,
            ["ann", "bob", "dan"],
            id,
            "concurrent renames converge",
            (s) =>
              s.name !== "Quokka club",
          );
          assert.ok(["Ann's name", "Bob's name"].includes(s3!.name));

          // An invite code admits its holder with no person acting, until it is revoked.
          const code = await c.ann.client.rooms.invite(id);
          await c.ann.client.settle();
          await c.eve.client.rooms.join(code);
          await agree(
            c,
            ["ann", "bob", "dan", "eve"],
            id,
            "Eve back in by invite",
            (s) =>
              s.members.includes("eve"),
          );
          assert.ok((await c.eve.client.rooms.info(id)).member);
          await c.ann.client.rooms.revokeInvite(id);
          await c.cat.client.rooms.join(code);
          await c.cat.client.settle();
          await c.ann.client.settle();
          await eventually(
            () =>
              c.ann.problems.some((p) =>
                p.includes("not valid")
              ),
            "Ann's client refuses the revoked code",
          );
          assert.ok(!(await c.ann.client.rooms.info(id)).members.some((m) => m.username === "cat"));
          for (const x of Object.values(c)) await x.client.close();
        } finally {
          await t.stop();
        }
      }),
  });

  Deno.test({
    name:
      `[${kind}] a broadcast channel and every message action, online and offline, in rooms and 1:1`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () =>
      timeLimited(async () => {
        const t = await startTestServer(kind);
        try {
          const c = await five(t);
          const id = await c.ann.client.rooms.create("News", "channel", [
            "bob",
            "cat",
            "dan",
            "eve",
          ]);
          const peer = `#${id}`;
          await agree(
            c,
            [...NAMES],
            id,
            "everyone holds the channel",
            (s) => s.members.length === 5,
          );
          await assert.rejects(c.bob.client.rooms.send(id, "may I?"), /only admins/);
          // Eve is offline for every action below.
          const eveDir = c.eve.profile.dir;
          await c.eve.client.close();
          const post = await c.ann.client.rooms.send(id, "news at nine");
          await sees(c, ["bob", "cat", "dan"], peer, "news at nine");

          // A non-admin's post, sent past its own client, is dropped by every client.
          const forged = await SenderKeyState.create();
          for (const n of ["ann", "cat", "dan", "eve"]) {
            await c.bob.client.rooms.m.sendControl(n, {
              t: "sender_key",
              room: id,
              dist: forged.distribution(),
            });
          }
          await c.bob.client.settle();
          const { message } = await forged.encrypt(
            encodeContent({ t: "text", text: "bob's fake news", ts: Date.now() }),
            utf8(`pesuchat room ${id} from bob`),
          );
          // Bob's own connection sends it, as a modified client would.
          await c.bob.client.rooms.m.link.request("send_room", {
            to: ["ann", "cat", "dan", "eve"],
            mid: crypto.getRandomValues(new Uint8Array(16)),
            body: new Uint8Array([...ROOM_ENVELOPE, ...message]),
          });
          for (const n of ["ann", "cat", "dan"] as const) {
            await eventually(
              () => c[n].problems.some((p) => p.includes("may not post")),
              `${n} drops Bob's post`,
            ).catch((e) => {
              throw new Error(`${e.message}; problems: ${c[n].problems.join("; ")}`);
            });
            assert.ok(!texts(c[n], peer).includes("bob's fake news"));
          }

          // Members react; the admin edits, pins, replies and deletes.
          await c.bob.client.rooms.act(peer, { t: "react", target: post.mid, emoji: "👍" });
          await c.cat.client.rooms.act(peer, { t: "react", target: post.mid, emoji: "🎉" });
          await c.cat.client.rooms.act(peer, { t: "react", target: post.mid, emoji: "😮" });
          // A member's pin is refused before it is applied: it does not show on his device alone.
          await assert.rejects(
            c.bob.client.rooms.act(peer, { t: "pin", target: post.mid, on: true }),
            /only admins post/,
          );
          assert.equal((await c.bob.client.rooms.actions(post.mid)).pinned, false);
          await c.ann.client.rooms.act(peer, {
            t: "edit",
            target: post.mid,
            text: "news at ten",
            ts: Date.now(),
          });
          await c.ann.client.rooms.act(peer, { t: "pin", target: post.mid, on: true });
          const reply = await c.ann.client.rooms.send(id, "see above", post.mid);
          const gone = await c.ann.client.rooms.send(id, "oops");
          await c.ann.client.rooms.act(peer, { t: "delete", target: gone.mid });
          // Bob cannot edit or delete Ann's post: in a channel only admins do.
          await assert.rejects(
            c.bob.client.rooms.act(peer, { t: "delete", target: post.mid }),
            /only admins post/,
          );
          c.eve = await loginChat(t, eveDir, "eve", PASSWORD);
          for (const n of ["ann", "bob", "cat", "dan", "eve"] as const) {
            await eventually(async () => {
              const a = await c[n].client.rooms.actions(post.mid);
              const r = await c[n].client.rooms.actions(reply.mid);
              const d = await c[n].client.rooms.actions(gone.mid);
              const h = await c[n].client.history(peer);
              return a.pinned && a.reactions.bob === "👍" && a.reactions.cat === "😮" &&
                a.edits.length === 1 && a.edits[0]!.text === "news at nine" &&
                h.find((m) => m.mid.toHex() === post.mid.toHex())?.text === "news at ten" &&
                r.replyTo === post.mid.toHex() && d.deleted &&
                h.find((m) => m.mid.toHex() === gone.mid.toHex())?.text === "";
            }, `${n} holds every action`);
          }

          // The same actions in a 1:1 chat, with Dan offline.
          const danDir = c.dan.profile.dir;
          await c.dan.client.close();
          const one = await c.ann.client.send("dan", "just us");
          await c.ann.client.rooms.act("dan", {
            t: "edit",
            target: one.mid,
            text: "just us two",
            ts: 1,
          });
          await c.ann.client.rooms.act("dan", { t: "pin", target: one.mid, on: true });
          await c.ann.client.rooms.act("dan", { t: "react", target: one.mid, emoji: "❤️" });
          const r2 = await c.ann.client.send("dan", "replying", one.mid);
          const del = await c.ann.client.send("dan", "to delete");
          await c.ann.client.rooms.act("dan", { t: "delete", target: del.mid });
          await c.ann.client.settle();
          c.dan = await loginChat(t, danDir, "dan", PASSWORD);
          await eventually(async () => {
            const a = await c.dan.client.rooms.actions(one.mid);
            const h = await c.dan.client.history("ann");
            return a.pinned && a.reactions.ann === "❤️" && a.edits.length === 1 &&
              h.find((m) => m.text === "just us two") !== undefined &&
              (await c.dan.client.rooms.actions(r2.mid)).replyTo === one.mid.toHex() &&
              (await c.dan.client.rooms.actions(del.mid)).deleted;
          }, "Dan holds every 1:1 action");
          // Dan reacts back, online.
          await c.dan.client.rooms.act("ann", { t: "react", target: one.mid, emoji: "😀" });
          await eventually(
            async () => (await c.ann.client.rooms.actions(one.mid)).reactions.dan === "😀",
            "Ann sees Dan's reaction",
          );
          for (const x of Object.values(c)) await x.client.close();
        } finally {
          await t.stop();
        }
      }),
  });
}

for (const kind of DATABASE_KINDS) {
  Deno.test({
    name:
      `[${kind}] a database dump after a group conversation holds no room name, room id or content`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () =>
      timeLimited(async () => {
        const t = await startTestServer(kind);
        try {
          const c = await five(t);
          const name = "Operation Zanzibar Quokka";
          const id = await c.ann.client.rooms.create(name, "group", ["bob", "cat"]);
          await agree(c, ["ann", "bob", "cat"], id, "the room reaches everyone", (s) =>
            s.members.length === 3);
          await c.ann.client.rooms.rename(id, "Zanzibar Quokka Two");
          await c.cat.client.close();
          const said = ["the marmalade is in the piano", "quokka-hexagon-laminate-42"];
          const m = await c.ann.client.rooms.send(id, said[0]!);
          await c.bob.client.rooms.send(id, said[1]!);
          await sees(c, ["bob"], `#${id}`, said[0]!);
          await c.bob.client.rooms.act(`#${id}`, { t: "react", target: m.mid, emoji: "🦘" });
          await sees(c, ["ann"], `#${id}`, said[1]!);
          await c.ann.client.settle();
          await c.bob.client.settle();
          // Cat is offline: her copies are still queued while the dump is taken.
          const d = await dump(t.db);
          const te = new TextEncoder();
          assert.ok(contains(d, te.encode("ann")), "the dump is readable: usernames are in it");
          for (const text of [name, "Zanzibar Quokka Two", ...said, "🦘"]) {
            assert.ok(!leaks(d, te.encode(text)), `the dump holds ${text}`);
          }
          assert.ok(!leaks(d, te.encode(id)), "the room id (hex)");
          assert.ok(!leaks(d, Uint8Array.fromHex(id)), "the room id (bytes)");
          for (const x of [c.ann, c.bob, c.dan, c.eve]) {
            await x.client.close();
          }
        } finally {
          await t.stop();
        }
      }),
  });
}
