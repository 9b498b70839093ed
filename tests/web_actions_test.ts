import assert from "node:assert/strict";
import type { Locator, Page } from "playwright-core";
import { connectChat, eventually } from "./support/chat.ts";
import { loginChat } from "./support/sessions.ts";
import {
  assertUsable,
  browserTest,
  openPage,
  signUpInPage,
  startWeb,
  trustInPage,
} from "./support/browser.ts";

const PASSWORD = "actions web password 7";
/** How long one step may take on a loaded machine. */
const STEP_MS = 60_000;

/** Opens the picker on `item` and chooses `emoji` from its common emoji. */
async function pick(page: Page, item: Locator, emoji: string): Promise<void> {
  await item.getByRole("button", { name: /^React/ }).click();
  await page.getByRole("group", { name: "Choose a reaction" })
    .getByRole("button", { name: `React ${emoji}`, exact: true }).click();
}

/** Types `emoji` into the picker's free entry on `item`. */
async function typeReaction(page: Page, item: Locator, emoji: string): Promise<void> {
  await item.getByRole("button", { name: /^React/ }).click();
  const picker = page.getByRole("group", { name: "Choose a reaction" });
  await picker.getByLabel("Any other emoji").fill(emoji);
  await picker.getByRole("button", { name: "React with it" }).click();
}

browserTest(
  "pesuchat web: in a 1:1 chat with a chat core over TCP, reply, edit and its history, delete, " +
    "pin, the reaction picker, both ways, online and with the other side offline",
  async (t, browser) => {
    const web = await startWeb(t);
    let bob = await connectChat(t);
    try {
      await bob.client.signup({ fullName: "Bob B", username: "bob", password: PASSWORD });
      const page = await openPage(browser, web.url);
      await trustInPage(page, t.server.fingerprint);
      await signUpInPage(page, { fullName: "Alice A", username: "alice", password: PASSWORD });
      const hi = await bob.client.send("alice", "hi alice");
      await page.getByRole("button", { name: /Bob B \(bob\)/ }).click();
      const hiItem = page.locator(`.msg[data-id="${hi.mid.toHex()}"]`);
      await hiItem.locator(".text", { hasText: "hi alice" }).waitFor();
      // Not ours: no edit, and no deleting it for everyone in a 1:1 chat.
      assert.equal(await hiItem.getByRole("button", { name: "Edit" }).count(), 0);
      assert.equal(await hiItem.getByRole("button", { name: "Delete for everyone" }).count(), 0);
      const bobActions = (mid: Uint8Array) => bob.client.rooms.actions(mid);
      const composer = page.getByRole("textbox", { name: "Message" });

      // Alice replies, quoting Bob's message; Bob's client holds the reply to it.
      await hiItem.getByRole("button", { name: "Reply" }).click();
      await page.getByText("Replying to: hi alice").waitFor();
      await composer.fill("hello bob");
      await composer.press("Enter");
      const mine = page.locator(".msg.out", { hasText: "hello bob" });
      await mine.locator(".quote", { hasText: "bob: hi alice" }).waitFor();
      await eventually(
        async () => {
          const r = bob.received.find((m) => m.text === "hello bob");
          return r !== undefined && (await bobActions(r.mid)).replyTo === hi.mid.toHex();
        },
        "bob holds alice's reply to his message",
        STEP_MS,
      );
      const hello = bob.received.find((m) => m.text === "hello bob")!;

      // The picker: a common emoji, then another in its place (one per person), then one typed.
      await pick(page, hiItem, "🎉");
      await hiItem.getByText("🎉 1 · you", { exact: true }).waitFor();
      await eventually(
        async () => (await bobActions(hi.mid)).reactions.alice === "🎉",
        "bob sees 🎉",
        STEP_MS,
      );
      await hiItem.getByRole("button", { name: "React (yours: 🎉)" }).click();
      const picker = page.getByRole("group", { name: "Choose a reaction" });
      assert.equal(
        await picker.getByRole("button", { name: "React 🎉" }).getAttribute("aria-pressed"),
        "true",
      );
      await assertUsable(page);
      await picker.getByRole("button", { name: "React 👍", exact: true }).click();
      await hiItem.getByText("👍 1 · you", { exact: true }).waitFor();
      assert.equal(await hiItem.getByText(/🎉/).count(), 0);
      await eventually(
        async () => (await bobActions(hi.mid)).reactions.alice === "👍",
        "bob sees 👍 in place of 🎉",
        STEP_MS,
      );
      // Typed: words, markup and two emoji are refused in the page; a lone ❤ gets its selector.
      for (const bad of ["ok", "<b>", "👍👍"]) {
        await typeReaction(page, hiItem, bad);
        await picker.getByRole("alert").getByText(/a reaction is one emoji/).waitFor();
        // Escape closes the picker, from the keyboard.
        await picker.getByLabel("Any other emoji").press("Escape");
        await picker.waitFor({ state: "hidden" });
      }
      await typeReaction(page, hiItem, "🦘");
      await hiItem.getByText("🦘 1 · you", { exact: true }).waitFor();
      await typeReaction(page, hiItem, "❤");
      await hiItem.getByText("❤️ 1 · you", { exact: true }).waitFor();
      await eventually(
        async () => (await bobActions(hi.mid)).reactions.alice === "❤️",
        "bob sees ❤️",
        STEP_MS,
      );
      // Taken back.
      await hiItem.getByRole("button", { name: "React (yours: ❤️)" }).click();
      await picker.getByRole("button", { name: "Take back my ❤️" }).click();
      await hiItem.getByRole("button", { name: "React", exact: true }).waitFor();
      assert.equal(await hiItem.getByRole("list", { name: "Reactions" }).count(), 0);
      await eventually(
        async () => !("alice" in (await bobActions(hi.mid)).reactions),
        "bob sees the reaction taken back",
        STEP_MS,
      );

      // Pin and unpin Bob's message: shown at the top, and on Bob's side.
      await hiItem.getByRole("button", { name: "Pin", exact: true }).click();
      const pinned = page.getByRole("list", { name: "Pinned messages" });
      await pinned.getByText("📌 bob: hi alice").waitFor();
      await eventually(async () => (await bobActions(hi.mid)).pinned, "bob sees the pin", STEP_MS);
      await hiItem.getByRole("button", { name: "Unpin" }).click();
      await pinned.waitFor({ state: "hidden" });
      await eventually(
        async () => !(await bobActions(hi.mid)).pinned,
        "bob sees the unpin",
        STEP_MS,
      );

      // Edit: shown "(edited)" on both sides, the earlier text kept.
      await mine.getByRole("button", { name: "Edit" }).click();
      await composer.fill("hello, bob");
      await composer.press("Enter");
      const edited = page.locator(".msg.out", { hasText: "hello, bob" });
      await edited.getByRole("button", { name: "(edited): show the earlier versions" }).waitFor();
      await eventually(
        async () => {
          const text = (await bob.client.history("alice", 50)).find((m) =>
            m.mid.toHex() === hello.mid.toHex()
          )?.text;
          const a = await bobActions(hello.mid);
          return text === "hello, bob" && a.edits[0]?.text === "hello bob";
        },
        "bob sees the edit and keeps the earlier text",
        STEP_MS,
      );

      // Delete for everyone.
      await edited.getByRole("button", { name: "Delete for everyone" }).click();
      await page.locator(`.msg.out[data-id="${hello.mid.toHex()}"] .text`, {
        hasText: "(deleted)",
      }).waitFor();
      await eventually(
        async () => {
          const a = await bobActions(hello.mid);
          const h = await bob.client.history("alice", 50);
          return a.deleted && h.find((m) => m.mid.toHex() === hello.mid.toHex())?.text === "";
        },
        "bob sees the deletion",
        STEP_MS,
      );

      // Bob's actions reach the page: a reaction beside Alice's, two edits with their history,
      // a pin, and a deletion.
      await pick(page, hiItem, "👍");
      await hiItem.getByText("👍 1 · you", { exact: true }).waitFor();
      await eventually(
        async () => (await bobActions(hi.mid)).reactions.alice === "👍",
        "bob sees 👍 again",
        STEP_MS,
      );
      await bob.client.rooms.act("alice", { t: "react", target: hi.mid, emoji: "👍" });
      await hiItem.getByText("👍 2 · bob, you", { exact: true }).waitFor();
      await bob.client.rooms.act("alice", {
        t: "edit",
        target: hi.mid,
        text: "hi there alice",
        ts: Date.now(),
      });
      await bob.client.rooms.act("alice", {
        t: "edit",
        target: hi.mid,
        text: "hi there, alice",
        ts: Date.now(),
      });
      await bob.client.rooms.act("alice", { t: "pin", target: hi.mid, on: true });
      await pinned.getByText("📌 bob: hi there, alice").waitFor();
      await hiItem.getByRole("button", { name: "(edited): show the earlier versions" }).click();
      const history = page.getByRole("region", { name: "Edit history" });
      const versions = history.getByRole("listitem");
      await versions.nth(2).getByText("hi there, alice", { exact: true }).waitFor();
      assert.deepEqual(await versions.locator(".text").allTextContents(), [
        "hi alice",
        "hi there alice",
        "hi there, alice",
      ]);
      const labels = await versions.locator(".status").allTextContents();
      assert.deepEqual(labels.map((l) => l.split(" ")[0]), ["sent", "edited", "now"]);
      for (const l of labels) assert.match(l, /^\w+ \d\d:\d\d$/);
      await assertUsable(page);
      await history.getByRole("button", { name: "Close" }).click();
      const gone = await bob.client.send("alice", "a slip");
      const goneItem = page.locator(`.msg[data-id="${gone.mid.toHex()}"]`);
      await goneItem.locator(".text", { hasText: "a slip" }).waitFor();
      await bob.client.rooms.act("alice", { t: "delete", target: gone.mid });
      await goneItem.locator(".text", { hasText: "(deleted)" }).waitFor();
      assert.equal(await goneItem.getByRole("button").count(), 0, "a deleted message has no tools");

      // Bob goes offline; Alice replies, reacts, edits, pins and deletes; Bob catches up.
      const bobDir = bob.profile.dir;
      await bob.client.close();
      await hiItem.getByRole("button", { name: "Reply" }).click();
      await composer.fill("while you were away");
      await composer.press("Enter");
      const away = page.locator(".msg.out", { hasText: "while you were away" });
      await away.locator(".quote", { hasText: "bob: hi there, alice" }).waitFor();
      await composer.fill("to be taken back");
      await composer.press("Enter");
      const slip = page.locator(".msg.out", { hasText: "to be taken back" });
      await slip.waitFor();
      const slipId = (await slip.getAttribute("data-id"))!;
      const awayId = (await away.getAttribute("data-id"))!;
      await pick(page, hiItem, "🔥");
      await hiItem.getByText("🔥 1 · you", { exact: true }).waitFor();
      await away.getByRole("button", { name: "Edit" }).click();
      await composer.fill("while you were out");
      await composer.press("Enter");
      await page.locator(".msg.out", { hasText: "while you were out" })
        .getByRole("button", { name: /\(edited\)/ }).waitFor();
      await hiItem.getByRole("button", { name: "Unpin" }).click();
      await page.locator(".msg.out", { hasText: "while you were out" })
        .getByRole("button", { name: "Pin", exact: true }).click();
      await pinned.getByText("📌 you: while you were out").waitFor();
      await slip.getByRole("button", { name: "Delete for everyone" }).click();
      await page.locator(`.msg.out[data-id="${slipId}"] .text`, { hasText: "(deleted)" })
        .waitFor();
      await web.app.client!.settle();
      bob = await loginChat(t, bobDir, "bob", PASSWORD);
      await eventually(
        async () => {
          const h = await bob.client.history("alice", 50);
          const byId = (id: string) => h.find((m) => m.mid.toHex() === id);
          const awayActions = await bobActions(Uint8Array.fromHex(awayId));
          const hiActions = await bobActions(hi.mid);
          return byId(awayId)?.text === "while you were out" &&
            awayActions.replyTo === hi.mid.toHex() && awayActions.pinned &&
            awayActions.edits[0]?.text === "while you were away" &&
            hiActions.reactions.alice === "🔥" && hiActions.reactions.bob === "👍" &&
            !hiActions.pinned &&
            (await bobActions(Uint8Array.fromHex(slipId))).deleted && byId(slipId)?.text === "";
        },
        "bob, back online, holds every action taken while he was away",
        STEP_MS,
      );
    } finally {
      await bob.client.close().catch(() => {});
      await web.close();
    }
  },
);
