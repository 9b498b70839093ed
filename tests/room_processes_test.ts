import assert from "node:assert/strict";
import { MessageState } from "../client/local_store.ts";
import { ROOM_ENVELOPE } from "../client/rooms_core.ts";
import { eventually } from "./support/chat.ts";
import { PesuchatProcess } from "./support/process.ts";
import { startTestServer } from "./support/server.ts";
import { accountProfile, loginChat, queuedFor, timeLimited } from "./support/sessions.ts";

const PW_A = "correct horse 1";
const PW_B = "battery staple 2";
/** Room messages each of two chat cores on one profile posts at once. */
const EACH = 8;
/** Rounds of two `pesuchat send --group` processes started at the same moment. */
const CONCURRENT_ROUNDS = 3;

/** A room envelope's sender-key header: distribution id, chain id and iteration. */
const headerOf = (body: Uint8Array) =>
  body.subarray(ROOM_ENVELOPE.length + 1, ROOM_ENVELOPE.length + 1 + 16 + 4 + 4).toHex();

Deno.test("two processes on one profile posting to one room never use one sender-key iteration twice", async () => {
  await timeLimited(240_000, async () => {
    const t = await startTestServer("sqlite");
    const server = `127.0.0.1:${t.port}`;
    try {
      const alice = await accountProfile(t, "alice", PW_A);
      const bob = await accountProfile(t, "bob", PW_B);
      const a = await loginChat(t, alice, "alice", PW_A);
      const id = await a.client.rooms.create("two writers", "group", ["bob"]);
      let b = await loginChat(t, bob, "bob", PW_B);
      await eventually(
        async () => (await b.client.rooms.info(id).catch(() => null)) !== null,
        "Bob holds the room",
      );
      await b.client.close();
      const texts: string[] = [];

      // Two chat cores on one profile (each with its own database connection, as two processes
      // have) post at once: their steps interleave between reading the key and committing.
      const a2 = await loginChat(t, alice, "alice", PW_A);
      const posts: Promise<unknown>[] = [];
      for (let i = 0; i < EACH; i++) {
        for (const [n, c] of [["one", a], ["two", a2]] as const) {
          texts.push(`${n} ${i}`);
          posts.push(c.client.rooms.send(id, texts.at(-1)!));
        }
      }
      await Promise.all(posts);
      await a.client.close();
      await a2.client.close();

      // Two `pesuchat send --group` processes at once, round after round.
      const send = async (text: string) => {
        const p = new PesuchatProcess(
          ["send", server, "--group", "two writers", text, "--profile", alice],
          { env: { PESUCHAT_PASSWORD: PW_A } },
        );
        const status = await p.done;
        if (status.code !== 0) assert.match(p.output, /it is queued in the profile/);
      };
      for (let i = 0; i < CONCURRENT_ROUNDS; i++) {
        texts.push(`round ${i} first`, `round ${i} second`);
        await Promise.all([send(texts.at(-2)!), send(texts.at(-1)!)]);
      }

      // One more login sends whatever a process that was taken over left in the outbox.
      const last = await loginChat(t, alice, "alice", PW_A);
      await last.client.rooms.flush();
      await eventually(
        async () =>
          (await last.client.history(`#${id}`, 100)).every((m) => m.state >= MessageState.sent),
        "every room message on the server",
        60_000,
      );
      await last.client.close();

      let queued: Uint8Array[] = [];
      const roomBodies = async () =>
        (await queuedFor(t, "bob")).map((q) => q.body).filter((x) =>
          x[0] === ROOM_ENVELOPE[0] && x[1] === ROOM_ENVELOPE[1]
        );
      await eventually(
        async () => (queued = await roomBodies()).length >= texts.length,
        "every room message queued",
      );
      assert.equal(queued.length, texts.length, "each room message queued once");
      const headers = queued.map(headerOf);
      assert.equal(new Set(headers).size, headers.length, "no sender-key iteration repeats");

      // And Bob reads every one of them, once.
      b = await loginChat(t, bob, "bob", PW_B);
      await eventually(
        () => b.received.filter((m) => m.peer === `#${id}`).length >= texts.length,
        `Bob reads every room message (problems: ${b.problems.join("; ")})`,
        60_000,
      );
      const got = b.received.filter((m) => m.peer === `#${id}`).map((m) => m.text);
      assert.deepEqual([...got].sort(), [...texts].sort());
      assert.deepEqual(b.problems, []);
      await b.client.close();
    } finally {
      await t.stop();
    }
  });
});
