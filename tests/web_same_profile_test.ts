import assert from "node:assert/strict";
import { Profile } from "../client/profile.ts";
import { browserTest, openPage, signUpInPage, startWeb, trustInPage } from "./support/browser.ts";
import { PesuchatProcess } from "./support/process.ts";
import { accountProfile, assertSentOnceEach } from "./support/sessions.ts";

const PW_A = "correct horse 1";
const PW_B = "battery staple 2";
/** Rounds of a message from the page and one from a `send` process at the same moment. */
const ROUNDS = 3;

browserTest(
  "pesuchat web and the terminal client on one profile never reuse a message key",
  async (t, browser) => {
    const server = `127.0.0.1:${t.port}`;
    const profileDir = await Deno.makeTempDir({ prefix: "pesuchat_web_profile_" });
    const web = await startWeb(t, new Profile(profileDir));
    try {
      const bob = await accountProfile(t, "bob", PW_B);
      const page = await openPage(browser, web.url);
      await trustInPage(page, t.server.fingerprint);
      await signUpInPage(page, { fullName: "Alice A", username: "alice", password: PW_A });
      await page.getByLabel("New chat with (username)").fill("bob");
      await page.getByRole("button", { name: "Start chat" }).click();
      const input = page.getByRole("textbox", { name: "Message" });
      const texts: string[] = [];
      const fromPage = async (text: string) => {
        texts.push(text);
        await input.fill(text);
        await input.press("Enter");
        // Encrypted and in the profile's outbox: the page shows it with its mark.
        await page.locator(".msg.out", { hasText: text }).locator(".mark").waitFor();
      };
      const fromTerminal = (text: string) => {
        texts.push(text);
        return new PesuchatProcess(["send", server, "bob", text, "--profile", profileDir], {
          env: { PESUCHAT_PASSWORD: PW_A },
        }).done;
      };

      await fromPage("one from the page");
      await page.locator(".msg.out .mark", { hasText: /^✓/ }).waitFor();
      // The terminal client takes the account over and moves the session on; the page's
      // process still holds the session it used, and its next message must not reuse a key.
      assert.equal((await fromTerminal("two from the terminal")).code, 0);
      await fromPage("three from the page");
      for (let i = 0; i < ROUNDS; i++) {
        const terminal = fromTerminal(`round ${i} from the terminal`);
        await fromPage(`round ${i} from the page`);
        assert.equal((await terminal).code, 0);
      }
      // The page's messages wait in the shared outbox: one more login sends them.
      await assertSentOnceEach(
        t,
        { dir: profileDir, username: "alice", password: PW_A },
        { dir: bob, username: "bob", password: PW_B },
        texts,
      );
    } finally {
      await web.close();
    }
  },
);
