import assert from "node:assert/strict";
import { MAX_EDITS_KEPT } from "../client/room_actions.ts";
import { connectChat, eventually } from "./support/chat.ts";
import { startTestServer } from "./support/server.ts";
import { timeLimited } from "./support/sessions.ts";

const PASSWORD = "edit history pass 4";

Deno.test({
  name: "a message keeps its last MAX_EDITS_KEPT earlier texts, on both sides, however often a " +
    "peer edits it",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    timeLimited(180_000, async () => {
      const t = await startTestServer("sqlite");
      const ann = await connectChat(t);
      const bob = await connectChat(t);
      try {
        await ann.client.signup({ fullName: "Ann", username: "ann", password: PASSWORD });
        await bob.client.signup({ fullName: "Bob", username: "bob", password: PASSWORD });
        const m = await ann.client.send("bob", "edit 0");
        await bob.waitFor(1, 60_000);
        const edit = (n: number) =>
          ann.client.rooms.act("bob", { t: "edit", target: m.mid, text: `edit ${n}`, ts: n });
        const texts = async (c: typeof ann) =>
          (await c.client.rooms.actions(m.mid)).edits.map((e) => e.text);
        const expected = (from: number, to: number) =>
          Array.from({ length: to - from }, (_, i) => `edit ${from + i}`);
        // At the limit every earlier text is kept, the first included...
        for (let n = 1; n <= MAX_EDITS_KEPT; n++) await edit(n);
        assert.deepEqual(await texts(ann), expected(0, MAX_EDITS_KEPT));
        await eventually(
          async () => (await texts(bob)).length === MAX_EDITS_KEPT,
          "bob holds every edit",
          60_000,
        );
        assert.deepEqual(await texts(bob), expected(0, MAX_EDITS_KEPT));
        // ...and one past it, the oldest gives way.
        await edit(MAX_EDITS_KEPT + 1);
        assert.deepEqual(await texts(ann), expected(1, MAX_EDITS_KEPT + 1));
        await eventually(
          async () => (await texts(bob))[0] === "edit 1",
          "bob drops the oldest text",
          60_000,
        );
        assert.deepEqual(await texts(bob), expected(1, MAX_EDITS_KEPT + 1));
        const h = await bob.client.history("ann", 5);
        assert.equal(
          h.find((x) => x.mid.toHex() === m.mid.toHex())?.text,
          `edit ${MAX_EDITS_KEPT + 1}`,
        );
      } finally {
        await ann.client.close();
        await bob.client.close();
        await t.stop();
      }
    }),
});
