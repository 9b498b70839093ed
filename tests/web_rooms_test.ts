import assert from "node:assert/strict";
import { connectChat, eventually } from "./support/chat.ts";
import {
  assertUsable,
  browserTest,
  openPage,
  signUpInPage,
  startWeb,
  trustInPage,
} from "./support/browser.ts";

const PASSWORD = "room web password 9";
/** How long one step may take on a loaded machine. */
const STEP_MS = 60_000;

browserTest(
  "pesuchat web: a group made in the browser with two chat-core members: messages, reply, " +
    "edit, reaction, pin, delete, a member removed",
  async (t, browser) => {
    const web = await startWeb(t);
    const bob = await connectChat(t);
    const cat = await connectChat(t);
    try {
      await bob.client.signup({ fullName: "Bob B", username: "bob", password: PASSWORD });
      await cat.client.signup({ fullName: "Cat C", username: "cat", password: PASSWORD });
      const page = await openPage(browser, web.url);
      await trustInPage(page, t.server.fingerprint);
      await signUpInPage(page, { fullName: "Alice A", username: "alice", password: PASSWORD });

      // Alice creates the group with Bob and Cat, by keyboard-reachable labelled fields.
      const create = page.getByRole("form", { name: "New group or channel" });
      await create.getByLabel("Room name").fill("team");
      await create.getByLabel("Members (usernames, separated by commas)").fill("bob, cat");
      await create.getByRole("button", { name: "Create room" }).click();
      await page.getByRole("heading", { name: "team" }).waitFor();
      const [room] = await web.app.client!.rooms.list();
      const id = room!.id;
      const peer = `#${id}`;
      await eventually(
        async () => (await bob.client.rooms.info(id).catch(() => null))?.member === true,
        "bob is in the room",
        STEP_MS,
      );

      // Alice writes; both members read it. Bob answers; Alice sees it with his name.
      const composer = page.getByRole("textbox", { name: "Message" });
      await composer.fill("hello team");
      await composer.press("Enter");
      for (const c of [bob, cat]) {
        await eventually(
          () => c.received.some((m) => m.peer === peer && m.text === "hello team"),
          "a member reads hello team",
          STEP_MS,
        );
      }
      const bobMsg = await bob.client.rooms.send(id, "hi alice");
      const bobItem = page.locator(`.msg[data-id="${bobMsg.mid.toHex()}"]`);
      await bobItem.locator(".who", { hasText: "bob:" }).waitFor();

      // Bob reacts to Alice's message; Alice sees the reaction as text.
      const aliceMid = bob.received.find((m) => m.text === "hello team")!.mid;
      await bob.client.rooms.act(peer, { t: "react", target: aliceMid, emoji: "🎉" });
      const aliceItem = page.locator(".msg.out", { hasText: "hello team" });
      await aliceItem.getByText("🎉 1 · bob", { exact: true }).waitFor();

      // Alice replies to Bob (quoted), edits her message, reacts, pins Bob's.
      await bobItem.getByRole("button", { name: "Reply" }).click();
      await page.getByText("Replying to: hi alice").waitFor();
      await composer.fill("welcome bob");
      await composer.press("Enter");
      await page.locator(".msg.out", { hasText: "welcome bob" }).locator(".quote", {
        hasText: "bob: hi alice",
      }).waitFor();
      await eventually(
        async () => {
          const r = bob.received.find((m) => m.text === "welcome bob");
          return r !== undefined &&
            (await bob.client.rooms.actions(r.mid)).replyTo === bobMsg.mid.toHex();
        },
        "bob gets the reply to his message",
        STEP_MS,
      );

      await aliceItem.getByRole("button", { name: "Edit" }).click();
      await composer.fill("hello, team");
      await composer.press("Enter");
      const edited = page.locator(".msg.out", { hasText: "hello, team" });
      await edited.getByText("(edited)").waitFor();
      // Its earlier text, kept on this computer, opens from the "(edited)" mark.
      await edited.getByRole("button", { name: "(edited): show the earlier versions" }).click();
      const versions = page.getByRole("region", { name: "Edit history" }).getByRole("listitem");
      await versions.nth(1).getByText("hello, team", { exact: true }).waitFor();
      assert.equal(await versions.count(), 2);
      assert.equal(await versions.nth(0).locator(".text").textContent(), "hello team");
      assert.match((await versions.nth(0).locator(".status").textContent())!, /^sent \d\d:\d\d$/);
      assert.match((await versions.nth(1).locator(".status").textContent())!, /^now \d\d:\d\d$/);
      await page.getByRole("region", { name: "Edit history" }).getByRole("button", {
        name: "Close",
      })
        .click();
      await eventually(
        async () => (await bob.client.history(peer, 50)).some((m) => m.text === "hello, team"),
        "bob sees the edit",
        STEP_MS,
      );

      await bobItem.getByRole("button", { name: "React", exact: true }).click();
      await page.getByRole("group", { name: "Choose a reaction" }).getByRole("button", {
        name: "React 👍",
      }).click();
      await bobItem.getByText("👍 1 · you", { exact: true }).waitFor();
      await eventually(
        async () => (await bob.client.rooms.actions(bobMsg.mid)).reactions.alice === "👍",
        "bob sees alice's reaction",
        STEP_MS,
      );
      await bobItem.getByRole("button", { name: "Pin", exact: true }).click();
      await page.getByRole("list", { name: "Pinned messages" }).getByText("📌 bob: hi alice")
        .waitFor();
      await eventually(
        async () => (await bob.client.rooms.actions(bobMsg.mid)).pinned,
        "bob sees the pin",
        STEP_MS,
      );
      await assertUsable(page);

      // Alice deletes her own message for everyone.
      await edited.getByRole("button", { name: "Delete for everyone" }).click();
      await page.locator(".msg.out .text", { hasText: "(deleted)" }).waitFor();
      await eventually(
        async () => (await bob.client.rooms.actions(aliceMid)).deleted,
        "bob sees the deletion",
        STEP_MS,
      );

      // The room's information, then Cat is removed by Alice (an admin).
      await page.getByText(/Room info: group, 3 members/).click();
      const members = page.getByRole("list", { name: "Members" });
      await members.getByText("alice · admin · verified").waitFor();
      await members.getByText("cat · not verified").waitFor();
      await page.getByText(/You joined \d{4}-\d\d-\d\d \d\d:\d\d UTC/).waitFor();
      await page.getByRole("button", { name: "Make invite code" }).click();
      const code = await page.locator(".invite code").textContent();
      assert.ok(code && code.length > 10);
      await page.getByRole("button", { name: "Revoke invite code" }).click();
      await page.getByText("the invite code is revoked").waitFor();
      await page.getByLabel("Username or new name").fill("cat");
      await page.getByRole("button", { name: "Remove member" }).click();
      await page.getByText("Room info: group, 2 members").waitFor();
      await eventually(
        async () => (await cat.client.rooms.info(id)).member === false,
        "cat learns he was removed",
        STEP_MS,
      );
      await eventually(
        async () => (await bob.client.rooms.info(id)).members.length === 2,
        "bob sees cat removed",
        STEP_MS,
      );

      // Bob is made an admin, and the room renamed (the panel stays open); Bob's client agrees.
      await page.getByLabel("Username or new name").fill("bob");
      await page.getByRole("button", { name: "Make admin" }).click();
      await page.getByRole("list", { name: "Members" }).getByText(/^bob · admin/).waitFor();
      await page.getByLabel("Username or new name").fill("crew");
      await page.getByRole("button", { name: "Rename" }).click();
      await page.getByRole("heading", { name: "crew" }).waitFor();
      await eventually(
        async () => {
          const i = await bob.client.rooms.info(id);
          return i.name === "crew" && i.admin;
        },
        "bob sees the new name and that he is an admin",
        STEP_MS,
      );

      // The chat list shows the room's name and member count.
      await page.getByRole("button", { name: "Back" }).first().click();
      await page.getByRole("button", { name: /^crew, 2 members/ }).waitFor();
    } finally {
      await bob.client.close();
      await cat.client.close();
      await web.close();
    }
  },
);

browserTest(
  "pesuchat web: in a broadcast channel only admins post; joining a group by its invite code",
  async (t, browser) => {
    const web = await startWeb(t);
    const bob = await connectChat(t);
    try {
      await bob.client.signup({ fullName: "Bob B", username: "bob", password: PASSWORD });
      const page = await openPage(browser, web.url);
      await trustInPage(page, t.server.fingerprint);
      await signUpInPage(page, { fullName: "Alice A", username: "alice", password: PASSWORD });

      // Bob's channel: Alice reads it but gets no composer, and no management form.
      const channel = await bob.client.rooms.create("news", "channel", ["alice"]);
      await bob.client.rooms.send(channel, "first issue");
      await page.getByRole("button", { name: /^news, 2 members/ }).click();
      await page.getByRole("heading", { name: "news (channel)" }).waitFor();
      await page.locator(".msg .text", { hasText: "first issue" }).waitFor();
      await page.getByText("Only admins post in this channel.").waitFor();
      assert.equal(await page.getByRole("textbox", { name: "Message" }).isVisible(), false);
      await page.getByText(/Room info: channel, 2 members/).click();
      assert.equal(await page.getByRole("form", { name: "Manage room" }).count(), 0);
      await page.getByRole("button", { name: "Back" }).first().click();

      // Bob makes an invite code for a group; Alice pastes it in the page and is let in.
      const group = await bob.client.rooms.create("open house", "group", []);
      const code = await bob.client.rooms.invite(group);
      const join = page.getByRole("form", { name: "Join a room" });
      await join.getByLabel("Invite code").fill(code);
      await join.getByRole("button", { name: "Join" }).click();
      await page.getByRole("button", { name: /^open house, 2 members/ }).waitFor({
        timeout: STEP_MS,
      });
      await page.getByRole("button", { name: /^open house/ }).click();
      const composer = page.getByRole("textbox", { name: "Message" });
      await composer.fill("thanks for having me");
      await composer.press("Enter");
      await eventually(
        () => bob.received.some((m) => m.peer === `#${group}` && m.text === "thanks for having me"),
        "bob reads alice in the group she joined",
        STEP_MS,
      );

      // Alice leaves: the room stays readable, without a composer; Bob sees her gone.
      await page.getByText(/Room info: group, 2 members/).click();
      await page.getByRole("button", { name: "Leave room" }).click();
      await page.getByText("You are no longer a member of this room.").first().waitFor();
      await eventually(
        async () => (await bob.client.rooms.info(group)).members.length === 1,
        "bob sees alice leave",
        STEP_MS,
      );
    } finally {
      await bob.client.close();
      await web.close();
    }
  },
);
