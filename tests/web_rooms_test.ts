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
      await aliceItem.getByText("🎉 bob", { exact: true }).waitFor();

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
      await eventually(
        async () => (await bob.client.history(peer, 50)).some((m) => m.text === "hello, team"),
        "bob sees the edit",
        STEP_MS,
      );

      await bobItem.getByRole("button", { name: "React 👍" }).click();
      await bobItem.getByText("👍 alice", { exact: true }).waitFor();
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
      await page.locator(".msg.out .text", { hasText: "message deleted" }).waitFor();
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

      // The chat list shows the room's name and member count.
      await page.getByRole("button", { name: "Back" }).first().click();
      await page.getByRole("button", { name: /^team, 2 members/ }).waitFor();
    } finally {
      await bob.client.close();
      await cat.client.close();
      await web.close();
    }
  },
);
