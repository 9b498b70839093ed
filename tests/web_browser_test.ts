import assert from "node:assert/strict";
import type { Page } from "playwright-core";
import {
  assertUsable,
  browserTest,
  openPage,
  signUpInPage,
  startWeb,
  trustInPage,
} from "./support/browser.ts";
import { notTrusted } from "../client/words.ts";

const PW_ALICE = "correct horse 1";
const PW_BOB = "battery staple 2";
/** Screenshots go to the test results; with PESUCHAT_UPDATE_SCREENSHOTS=1, to the README's. */
const SHOTS = new URL(
  Deno.env.get("PESUCHAT_UPDATE_SCREENSHOTS") === "1"
    ? "../docs/screenshots/"
    : "../.test-results/screenshots/",
  import.meta.url,
);

/** A screenshot of a main screen, after checking it is usable by keyboard, screen reader and phone. */
async function shot(page: Page, name: string): Promise<void> {
  await assertUsable(page);
  await Deno.mkdir(SHOTS, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, SHOTS).pathname });
}

browserTest(
  "pesuchat web: two browsers sign up, chat both ways, catch up after offline, verify",
  async (t, browser) => {
    const aliceWeb = await startWeb(t);
    const bobWeb = await startWeb(t);
    try {
      const alice = await openPage(browser, aliceWeb.url);
      await shot(alice, "trust");
      await trustInPage(alice, t.server.fingerprint);
      await shot(alice, "welcome");
      await signUpInPage(alice, {
        fullName: "Alice A",
        username: "alice",
        password: PW_ALICE,
        backup: true,
      });
      const bob = await openPage(browser, bobWeb.url);
      await trustInPage(bob, t.server.fingerprint);
      await signUpInPage(bob, { fullName: "Bob B", username: "bob", password: PW_BOB });

      // Alice starts a chat with Bob.
      await alice.getByLabel("New chat with (username)").fill("bob");
      await alice.getByRole("button", { name: "Start chat" }).click();
      await alice.getByRole("heading", { name: "Bob B (bob)" }).waitFor();
      await alice.getByRole("textbox", { name: "Message" }).fill("hello bob");
      await alice.getByRole("textbox", { name: "Message" }).press("Enter");
      await alice.locator(".msg.out .mark", { hasText: "✓✓" }).waitFor();

      // Bob sees it in the list with an unread count, opens it, and answers.
      await bob.getByRole("button", { name: /Alice A \(alice\).*1 unread: hello bob/ })
        .waitFor();
      await shot(bob, "chat-list");
      await bob.getByRole("button", { name: /Alice A \(alice\)/ }).click();
      await bob.locator(".msg .text", { hasText: "hello bob" }).waitFor();
      await bob.getByRole("textbox", { name: "Message" }).fill("hi alice");
      await bob.getByRole("button", { name: "Send" }).click();
      await alice.locator(".msg .text", { hasText: "hi alice" }).waitFor();
      // Bob has the chat open, so Alice's message reads as read.
      await alice.locator(".msg.out .mark", { hasText: "✓✓ read" }).waitFor();

      // Browser to browser: Bob reacts from the picker; Alice replies, quoting him, and edits it.
      await bob.locator(".msg", { hasText: "hello bob" }).getByRole("button", { name: "React" })
        .click();
      const picker = bob.getByRole("group", { name: "Choose a reaction" });
      await picker.getByRole("button", { name: "React 👍" }).waitFor();
      await shot(bob, "reactions");
      await picker.getByRole("button", { name: "React 👍" }).click();
      await alice.locator(".msg.out", { hasText: "hello bob" }).getByText("👍 1 · bob").waitFor();
      await alice.locator(".msg", { hasText: "hi alice" }).getByRole("button", { name: "Reply" })
        .click();
      await alice.getByRole("textbox", { name: "Message" }).fill("lunch at noon?");
      await alice.getByRole("textbox", { name: "Message" }).press("Enter");
      const lunch = alice.locator(".msg.out", { hasText: "lunch at noon?" });
      await lunch.locator(".mark", { hasText: "✓✓ read" }).waitFor();
      await lunch.getByRole("button", { name: "Edit" }).click();
      await alice.getByRole("textbox", { name: "Message" }).fill("lunch at one?");
      await alice.getByRole("textbox", { name: "Message" }).press("Enter");
      await alice.locator(".msg.out", { hasText: "lunch at one?" }).getByText("(edited)").waitFor();
      await shot(alice, "chat");
      const bobLunch = bob.locator(".msg", { hasText: "lunch at one?" });
      await bobLunch.locator(".quote", { hasText: "bob: hi alice" }).waitFor();
      await bobLunch.getByRole("button", { name: "(edited): show the earlier versions" }).click();
      await bob.getByRole("region", { name: "Edit history" }).getByText("lunch at noon?").waitFor();
      await shot(bob, "edit-history");

      // Bob goes offline (his web process stops); Alice writes; Bob comes back and catches up.
      await bob.context().close();
      await bobWeb.close();
      await alice.getByRole("textbox", { name: "Message" }).fill("while you were away");
      await alice.getByRole("textbox", { name: "Message" }).press("Enter");
      await alice.locator(".msg.out", { hasText: "while you were away" })
        .locator(".mark", { hasText: /^✓$/ }).waitFor();
      const bobAgain = await startWeb(t, bobWeb.profile);
      const bob2 = await openPage(browser, bobAgain.url);
      const login = bob2.getByRole("form", { name: "Log in" });
      await login.getByLabel("Username").fill("bob");
      await login.getByLabel("Password").fill(PW_BOB);
      await login.getByRole("button", { name: "Log in" }).click();
      await bob2.getByRole("button", { name: /Alice A \(alice\).*while you were away/ })
        .waitFor();
      await bob2.getByRole("button", { name: /Alice A \(alice\)/ }).click();
      await bob2.locator(".msg .text", { hasText: "while you were away" }).waitFor();
      await alice.locator(".msg.out", { hasText: "while you were away" })
        .locator(".mark", { hasText: "✓✓ read" }).waitFor();

      // Both verify: the same 60 digits on both screens, as text and as a QR code.
      await alice.getByRole("button", { name: "Verify" }).first().click();
      await alice.getByRole("heading", { name: "Safety number with bob" }).waitFor();
      await shot(alice, "verify");
      await bob2.getByRole("textbox", { name: "Message" }).fill("/verify");
      await bob2.getByRole("textbox", { name: "Message" }).press("Enter");
      await bob2.getByRole("heading", { name: "Safety number with alice" }).waitFor();
      const digitsA = await alice.locator(".number").textContent();
      const digitsB = await bob2.locator(".number").textContent();
      assert.equal(digitsA!.replace(/\s/g, "").length, 60);
      assert.equal(digitsA, digitsB);
      assert.equal(
        await alice.getByRole("img", { name: "QR code of the safety number" }).count(),
        1,
      );
      await alice.getByRole("button", { name: "They match" }).click();
      await bob2.getByRole("button", { name: "They match" }).click();
      await alice.getByText("bob is marked verified").waitFor();
      await bob2.getByText("alice is marked verified").waitFor();
      assert.equal((await aliceWeb.app.client!.contact("bob"))?.verified, true);
      assert.equal((await bobAgain.app.client!.contact("alice"))?.verified, true);

      // Settings: back up now.
      await alice.getByRole("button", { name: "Back" }).click();
      await alice.getByRole("button", { name: "Settings" }).click();
      await alice.getByRole("button", { name: "Back up now" }).click();
      await alice.getByText("backup uploaded, sealed under your recovery key").waitFor();
      await shot(alice, "settings");
      await bobAgain.close();
    } finally {
      await aliceWeb.close();
      await bobWeb.close().catch(() => {});
    }
  },
);

browserTest(
  "pesuchat web without HOST:PORT asks for the server, and a key not trusted is not used",
  async (t, browser) => {
    const web = await startWeb(null);
    try {
      const page = await openPage(browser, web.url);
      const server = page.getByRole("form", { name: "Connect" }).getByLabel("Server");
      await server.fill("no port here");
      await page.getByRole("button", { name: "Connect" }).click();
      await page.getByText('expected HOST:PORT, got "no port here"').waitFor();
      await server.fill(`127.0.0.1:${t.port}`);
      await page.getByRole("button", { name: "Connect" }).click();
      await page.getByText(t.server.fingerprint).waitFor();
      await page.getByRole("button", { name: "Do not trust" }).click();
      await page.getByText(notTrusted(`127.0.0.1:${t.port}`)).waitFor();
      assert.equal(web.app.client, null);
      const before = await Deno.readTextFile(web.profile.knownHosts).catch(() => "");
      assert.doesNotMatch(before, /127\.0\.0\.1/, "a key not trusted is not remembered");
      await page.getByRole("button", { name: "Connect" }).click();
      await trustInPage(page, t.server.fingerprint);
      const knownHosts = await Deno.readTextFile(web.profile.knownHosts);
      assert.match(knownHosts, new RegExp(`^127\\.0\\.0\\.1:${t.port} `, "m"));
    } finally {
      await web.close();
    }
  },
);
