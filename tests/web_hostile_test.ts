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
/**
 * Reactions that are not one emoji: markup within the size limit, a word, a row of emoji, one too
 * long for the limit. A peer's client that sends them anyway has them dropped where they arrive.
 */
const HOSTILE_REACTIONS = [`<b onclick=x>`, "lol", "👍👍👍", "👍".repeat(20), `"><img src=x>`];
const HOSTILE_NAME = `<img src=x onerror="window.__pwned='name'"><b style="color:red">Mal</b>`;

browserTest(
  "pesuchat web: hostile messages, full names, usernames, room names, quotes and edit histories " +
    "render as inert text; reactions that are not one emoji are dropped",
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

      // Mallory's own client refuses a reaction that is not one emoji. Sent past it after a
      // good one, each is dropped by Alice's client: the good one stays, and the pin sent after
      // them (actions are applied in order) shows they have all been read.
      await row.click();
      const target = await mallory.client.send("alice", "react to me");
      await assert.rejects(
        mallory.client.rooms.act("alice", {
          t: "react",
          target: target.mid,
          emoji: HOSTILE_REACTIONS[0]!,
        }),
        /a reaction is one emoji/,
      );
      const targetItem = page.locator(`.msg[data-id="${target.mid.toHex()}"]`);
      await mallory.client.rooms.act("alice", { t: "react", target: target.mid, emoji: "🔥" });
      await targetItem.getByText("🔥 1 · mallory", { exact: true }).waitFor();
      for (const emoji of HOSTILE_REACTIONS) {
        await mallory.client.rooms.m.sendControl("alice", {
          t: "react",
          target: target.mid,
          emoji,
        });
      }
      await mallory.client.rooms.act("alice", { t: "pin", target: target.mid, on: true });
      await page.getByRole("list", { name: "Pinned messages" }).getByText("react to me").waitFor();
      assert.deepEqual(
        await targetItem.getByRole("list", { name: "Reactions" }).getByRole("listitem")
          .allTextContents(),
        ["🔥 1 · mallory"],
      );
      assert.deepEqual(
        (await web.app.client!.rooms.actions(target.mid)).reactions,
        { mallory: "🔥" },
      );

      // A reply quoting a hostile message, and a message edited into hostile texts: the quote
      // and every earlier text in the edit history are text.
      const quoted = await mallory.client.send("alice", HOSTILE[1]!);
      await mallory.client.send("alice", "about that", quoted.mid);
      await page.locator(".msg .quote").getByText(`mallory: ${HOSTILE[1]}`, { exact: true })
        .waitFor();
      const changing = await mallory.client.send("alice", HOSTILE[2]!);
      // The last edit claims a time past what a date holds.
      const times = [Date.now(), Date.now(), 1e300];
      for (const [i, text] of [HOSTILE[3]!, HOSTILE[4]!, HOSTILE[5]!].entries()) {
        await mallory.client.rooms.act("alice", {
          t: "edit",
          target: changing.mid,
          text,
          ts: times[i]!,
        });
      }
      const changed = page.locator(`.msg[data-id="${changing.mid.toHex()}"]`);
      await changed.locator(".text").getByText(HOSTILE[5]!, { exact: true }).waitFor();
      await changed.getByRole("button", { name: /\(edited\)/ }).click();
      const versions = page.getByRole("region", { name: "Edit history" }).locator("li .text");
      await versions.nth(3).getByText(HOSTILE[5]!, { exact: true }).waitFor();
      assert.deepEqual(await versions.allTextContents(), HOSTILE.slice(2));
      assert.equal(
        await page.getByRole("region", { name: "Edit history" }).locator("li .status").last()
          .textContent(),
        "now at an unknown time",
      );

      // A room with a hostile name.
      await page.getByRole("textbox", { name: "Message" }).fill("/back");
      await page.getByRole("textbox", { name: "Message" }).press("Enter");
      const roomId = await mallory.client.rooms.create(HOSTILE_NAME, "group", ["alice"]);
      const m = await mallory.client.rooms.send(roomId, HOSTILE[0]!);
      await mallory.client.rooms.act(`#${roomId}`, { t: "react", target: m.mid, emoji: "🎉" });
      const roomRow = page.getByRole("button", { name: /2 members/ });
      await roomRow.getByText(HOSTILE_NAME, { exact: true }).waitFor();
      await roomRow.click();
      await page.getByRole("heading", { name: HOSTILE_NAME, exact: true }).waitFor();
      await page.getByText("🎉 1 · mallory", { exact: true }).waitFor();
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
