import assert from "node:assert/strict";
import { Profile } from "../client/profile.ts";
import { accountProfile, connectChat, eventually } from "./support/chat.ts";
import { runPesuchat } from "./support/process.ts";
import { startTestServer } from "./support/server.ts";

const PW = "room script password 7";

function jsonLines(output: string): Record<string, unknown>[] {
  return output.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

Deno.test({
  name: "pesuchat send --group posts to a room, and receive --json prints typed room events",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const t = await startTestServer("sqlite");
    const server = `127.0.0.1:${t.port}`;
    try {
      const dirs: Record<string, string> = {};
      for (const n of ["ann", "bob", "cat"]) dirs[n] = await accountProfile(t, n, PW);
      // Ann makes the room in the chat core, from her profile.
      const ann = await connectChat(t, new Profile(dirs.ann!));
      await ann.client.login({
        username: "ann",
        password: PW,
        restore: () => Promise.resolve(false),
      });
      const id = await ann.client.rooms.create("Night shift", "group", ["bob", "cat"]);
      await ann.client.settle();
      await ann.client.close();
      const env = { env: { PESUCHAT_PASSWORD: PW } };

      // Bob's receive takes in the room first; then Cat posts with a script.
      const joined = await runPesuchat([
        "receive",
        server,
        "--json",
        "--wait",
        "0.5",
        "--profile",
        dirs.bob!,
      ], env);
      assert.equal(joined.code, 0, joined.output);
      const room = jsonLines(joined.output).filter((o) => o.type === "room").at(-1)!;
      assert.deepEqual(room.room, { id, name: "Night shift" });
      assert.deepEqual(room.members, ["ann", "bob", "cat"]);
      assert.deepEqual(room.admins, ["ann"]);
      const catJoin = await runPesuchat([
        "receive",
        server,
        "--wait",
        "0.5",
        "--profile",
        dirs.cat!,
      ], env);
      assert.equal(catJoin.code, 0, catJoin.output);
      const sent = await runPesuchat(
        ["send", server, "--group", "night shift", "coffee at three", "--profile", dirs.cat!],
        env,
      );
      assert.equal(sent.code, 0, sent.output);
      const got = await runPesuchat([
        "receive",
        server,
        "--json",
        "--wait",
        "1",
        "--profile",
        dirs.bob!,
      ], env);
      const message = jsonLines(got.output).find((o) => o.type === "message")!;
      assert.equal(message.from, "cat");
      assert.equal(message.text, "coffee at three");
      assert.deepEqual(message.room, { id, name: "Night shift" });

      // Ann reacts and edits in the chat core; Bob's receive prints both as typed events.
      const ann2 = await connectChat(t, new Profile(dirs.ann!));
      await ann2.client.login({
        username: "ann",
        password: PW,
        restore: () => Promise.resolve(false),
      });
      await eventually(
        async () => (await ann2.client.history(`#${id}`)).some((m) => m.text === "coffee at three"),
        "Ann has Cat's message",
      );
      const target = (await ann2.client.history(`#${id}`)).find((m) =>
        m.text === "coffee at three"
      )!;
      await ann2.client.rooms.act(`#${id}`, { t: "react", target: target.mid, emoji: "☕" });
      const own = await ann2.client.rooms.send(id, "see you");
      await ann2.client.rooms.act(`#${id}`, {
        t: "edit",
        target: own.mid,
        text: "see you there",
        ts: 1,
      });
      await ann2.client.settle();
      await ann2.client.close();
      const events = jsonLines(
        (await runPesuchat(
          ["receive", server, "--json", "--wait", "1", "--profile", dirs.bob!],
          env,
        ))
          .output,
      );
      const react = events.find((o) => o.type === "react")!;
      assert.deepEqual(
        { from: react.from, emoji: react.emoji, target: react.target, room: react.room },
        { from: "ann", emoji: "☕", target: target.mid.toHex(), room: { id, name: "Night shift" } },
      );
      const edit = events.find((o) => o.type === "edit")!;
      assert.equal(edit.text, "see you there");
      assert.equal(edit.target, own.mid.toHex());

      // An unknown room is one line and a hint, never a stack trace.
      const bad = await runPesuchat([
        "send",
        server,
        "--group",
        "nowhere",
        "x",
        "--profile",
        dirs.cat!,
      ], env);
      assert.notEqual(bad.code, 0);
      assert.match(bad.output, /no room nowhere/);
      assert.doesNotMatch(bad.output, /\n\s+at /);
    } finally {
      await t.stop();
    }
  },
});
