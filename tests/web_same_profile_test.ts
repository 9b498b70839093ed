import assert from "node:assert/strict";
import { Profile } from "../client/profile.ts";
import { MessageState } from "../client/local_store.ts";
import { browserTest, openPage, signUpInPage, startWeb, trustInPage } from "./support/browser.ts";
import { eventually } from "./support/chat.ts";
import { PesuchatProcess } from "./support/process.ts";
import { accountProfile, loginChat, queuedFor, repeatedHeaders } from "./support/sessions.ts";

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
      const last = await loginChat(t, profileDir, "alice", PW_A);
      await eventually(
        async () =>
          (await last.client.history("bob", 100)).every((m) => m.state >= MessageState.sent),
        "every message on the server",
        60_000,
      );
      await last.client.close();

      let queued = await queuedFor(t, "bob");
      await eventually(
        async () => (queued = await queuedFor(t, "bob")).length >= texts.length,
        "all queued",
        60_000,
      );
      assert.equal(queued.length, texts.length, "each message queued once");
      assert.deepEqual(repeatedHeaders(queued.map((q) => q.body)), [], "no header repeats");
      const b = await loginChat(t, bob, "bob", PW_B);
      await b.waitFor(texts.length, 60_000);
      assert.deepEqual(b.received.map((m) => m.text).sort(), [...texts].sort());
      assert.deepEqual(b.problems, []);
      await b.client.close();
    } finally {
      await web.close();
    }
  },
);
