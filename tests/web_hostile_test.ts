import assert from "node:assert/strict";
import { connectChat } from "./support/chat.ts";
import { browserTest, openPage, signUpInPage, startWeb, trustInPage } from "./support/browser.ts";

/** Text that would run script, load images, follow links or restyle the page if it were HTML. */
const HOSTILE = [
  `<script>window.__pwned = "script"</script>`,
  `<img src=x onerror="window.__pwned = 'img'">`,
  `<a href="javascript:window.__pwned='link'">click me</a> javascript:window.__pwned='bare'`,
  `<style>body { display: none } #app { visibility: hidden }</style>`,
  `</textarea></li></ol><svg onload="window.__pwned='svg'"></svg>`,
  `"><iframe srcdoc="<script>parent.__pwned='frame'</script>"></iframe>`,
];
/** A reaction is at most 16 characters, room for a tag. */
const HOSTILE_REACTION = `<b onclick=x>`;
const HOSTILE_NAME = `<img src=x onerror="window.__pwned='name'"><b style="color:red">Mal</b>`;

browserTest(
  "pesuchat web: hostile messages, full names, usernames, room names and reactions render as inert text",
  async (t, browser) => {
    const web = await startWeb(t);
    const mallory = await connectChat(t);
    try {
      await mallory.client.signup({
        fullName: HOSTILE_NAME,
        username: "mallory",
        password: "hostile pass 9",
      });
      const page = await openPage(browser, web.url);
      const violations: string[] = [];
      page.on("dialog", (d) => {
        violations.push(`dialog: ${d.message()}`);
        void d.dismiss();
      });
      page.on("console", (m) => {
        if (/Content Security Policy/i.test(m.text())) violations.push(m.text());
      });
      await trustInPage(page, t.server.fingerprint);
      await signUpInPage(page, {
        fullName: `<script>window.__pwned="own name"</script>`,
        username: "alice",
        password: "correct horse 1",
      });
      for (const text of HOSTILE) await mallory.client.send("alice", text);

      // The chat list: the hostile full name as text, the last message as its preview.
      const row = page.getByRole("button", { name: /mallory/ });
      await row.getByText(HOSTILE_NAME + " (mallory)", { exact: true }).waitFor();
      await page.getByText(`6 unread`).waitFor();
      await page.getByRole("heading", { name: /<script>window.__pwned="own name"<\/script>/ })
        .waitFor();
      await row.click();
      for (const text of HOSTILE) {
        await page.locator(".msg .text").getByText(text, { exact: true }).waitFor();
      }

      // A username-like string with markup is refused by the rule, and the refusal is text.
      await page.getByRole("textbox", { name: "Message" }).fill("/back");
      await page.getByRole("textbox", { name: "Message" }).press("Enter");
      await page.getByLabel("New chat with (username)").fill(`<img src=x onerror=alert(1)>`);
      await page.getByRole("button", { name: "Start chat" }).click();
      await page.locator(".notice.error").waitFor();

      // A room with a hostile name, and a hostile reaction (within the reaction size limit).
      const roomId = await mallory.client.rooms.create(HOSTILE_NAME, "group", ["alice"]);
      const m = await mallory.client.rooms.send(roomId, HOSTILE[0]!);
      await mallory.client.rooms.act(`#${roomId}`, {
        t: "react",
        target: m.mid,
        emoji: HOSTILE_REACTION,
      });
      const roomRow = page.getByRole("button", { name: /2 members/ });
      await roomRow.getByText(HOSTILE_NAME, { exact: true }).waitFor();
      await roomRow.click();
      await page.getByRole("heading", { name: HOSTILE_NAME, exact: true }).waitFor();
      await page.getByText(`${HOSTILE_REACTION} mallory`, { exact: true }).waitFor();
      await page.getByText(/Room info: group, 2 members/).click();

      // Evaluated in the page (a string, since this file is checked without the DOM's types).
      const found = await page.evaluate(`({
        pwned: globalThis.__pwned ?? null,
        markup: document.querySelectorAll(
          "#app script, #app img, #app a, #app style, #app iframe, #app svg, #app b, [onerror]",
        ).length,
        bodyShown: getComputedStyle(document.body).display !== "none",
      })`);
      assert.deepEqual(found, { pwned: null, markup: 0, bodyShown: true });
      assert.deepEqual(violations, []);
    } finally {
      await mallory.client.close();
      await web.close();
    }
  },
);
