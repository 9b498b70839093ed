import assert from "node:assert/strict";
import { connectChat, tempProfile } from "./support/chat.ts";
import {
  browserTest,
  openPage,
  PAGE_TIMEOUT_MS,
  signUpInPage,
  startWeb,
  trustInPage,
  writeDownRecoveryKey,
} from "./support/browser.ts";
import {
  acceptedText,
  identityChangedText,
  notSentIdentityText,
  RESTORED_NOTICE,
} from "../client/words.ts";

const PW_ALICE = "correct horse 1";
const PW_ALICE_2 = "a new password 7";
const PW_BOB = "battery staple 2";

browserTest(
  "pesuchat web: identity change blocks sending until accepted; settings; restore by keyboard",
  async (t, browser) => {
    const web = await startWeb(t);
    const bob = await connectChat(t);
    let web2: Awaited<ReturnType<typeof startWeb>> | null = null;
    try {
      await bob.client.signup({ fullName: "Bob B", username: "bob", password: PW_BOB });
      const page = await openPage(browser, web.url);
      await trustInPage(page, t.server.fingerprint);
      // Without a backup at first: settings turn it on later, with a recovery key to write down.
      assert.equal(
        await signUpInPage(page, { fullName: "Alice A", username: "alice", password: PW_ALICE }),
        null,
      );
      await bob.client.send("alice", "hi alice");
      await page.getByRole("button", { name: /Bob B \(bob\)/ }).click();
      await page.locator(".msg .text", { hasText: "hi alice" }).waitFor();

      // Bob sets pesuchat up again without his backup: a new identity, and he writes.
      await bob.client.close();
      const bob2 = await connectChat(t, await tempProfile());
      const r = await bob2.client.login({
        username: "bob",
        password: PW_BOB,
        restore: () => Promise.resolve(false),
      });
      assert.equal(r.newIdentity, true);
      await bob2.client.send("alice", "it is me, on a new computer");
      await page.getByRole("alert").getByText(identityChangedText("bob")).waitFor();

      // Sending is refused, and the text comes back to the input line.
      const input = page.getByRole("textbox", { name: "Message" });
      await input.fill("are you really bob?");
      await input.press("Enter");
      await page.getByText(notSentIdentityText("bob")).waitFor();
      assert.equal(await input.inputValue(), "are you really bob?");
      await page.getByRole("alert").getByRole("button", { name: "Accept" }).click();
      await page.getByText(acceptedText("bob")).waitFor();
      await input.press("Enter");
      await bob2.waitFor(1);
      assert.equal(bob2.received.at(-1)?.text, "are you really bob?");

      // Settings: a wrong current password, two new ones that differ, then a real change.
      await page.getByRole("button", { name: "Back" }).click();
      await page.getByRole("button", { name: "Settings" }).click();
      const pw = page.getByRole("form", { name: "Change password" });
      await pw.getByLabel("Current password").fill("not my password");
      await pw.getByLabel("New password", { exact: true }).fill(PW_ALICE_2);
      await pw.getByLabel("New password again").fill(PW_ALICE_2);
      await pw.getByRole("button", { name: "Change password" }).click();
      await page.getByText("the current password is wrong").waitFor();
      await pw.getByLabel("Current password").fill(PW_ALICE);
      await pw.getByLabel("New password", { exact: true }).fill(PW_ALICE_2);
      await pw.getByLabel("New password again").fill(PW_ALICE_2 + "x");
      await pw.getByRole("button", { name: "Change password" }).click();
      await page.getByText("the two passwords differ").waitFor();
      await pw.getByLabel("Current password").fill(PW_ALICE);
      await pw.getByLabel("New password", { exact: true }).fill(PW_ALICE_2);
      await pw.getByLabel("New password again").fill(PW_ALICE_2);
      await pw.getByRole("button", { name: "Change password" }).click();
      await page.getByText("password changed; use the new one from now on").waitFor();
      await page.getByRole("button", { name: "Turn backups on" }).click();
      const recoveryKey = await writeDownRecoveryKey(page);
      assert.match(recoveryKey, /^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);
      await page.getByText("backups are on; the first one is uploaded").waitFor();
      await page.getByRole("button", { name: "Back up now" }).click();
      await page.getByText("backup uploaded, sealed under your recovery key").waitFor();
      await page.getByRole("button", { name: "Log out" }).click();
      await page.getByText("logged out; your chats stay on this computer, encrypted").waitFor();

      // Another computer: log in with the keyboard alone, restore the backup, then delete.
      web2 = await startWeb(t);
      const other = await openPage(browser, web2.url);
      await other.getByText(t.server.fingerprint).waitFor();
      await other.keyboard.press("Shift+Tab"); // from "Do not trust" (the default) to "Trust"
      await other.keyboard.press("Enter");
      await other.getByRole("form", { name: "Log in" }).waitFor();
      await other.keyboard.type("alice");
      await other.keyboard.press("Tab");
      await other.keyboard.type(PW_ALICE_2);
      await other.keyboard.press("Enter");
      await other.getByRole("heading", { name: "Restore" }).waitFor();
      await other.keyboard.press("Enter"); // "Restore" has the focus: the answer defaults to yes
      // The recovery key, typed wrong once (the page says why), then right.
      await other.getByRole("form", { name: "Recovery key" }).waitFor();
      await other.keyboard.type("0123 4567");
      await other.keyboard.press("Enter");
      await other.getByRole("alert").filter({ hasText: "spaces are optional" }).waitFor();
      await other.keyboard.type(recoveryKey);
      await other.keyboard.press("Enter");
      await other.getByText(RESTORED_NOTICE).waitFor();
      await other.getByRole("button", { name: /Bob B \(bob\).*are you really bob\?/ }).waitFor();

      await other.getByRole("button", { name: "Settings" }).click();
      const del = other.getByRole("form", { name: "Delete account" });
      await del.getByLabel("Password, to confirm").fill(PW_ALICE_2);
      await del.getByRole("button", { name: /Delete the account alice for good/ }).click();
      await other.getByText("the account is deleted").waitFor();
      const login = other.getByRole("form", { name: "Log in" });
      await login.getByLabel("Username").fill("alice");
      await login.getByLabel("Password").fill(PW_ALICE_2);
      await login.getByRole("button", { name: "Log in" }).click();
      await other.getByText("wrong username or password").waitFor();
    } finally {
      await web.close();
      await web2?.close();
    }
  },
  10 * PAGE_TIMEOUT_MS,
);
