import assert from "node:assert/strict";
import { MessageState } from "../client/local_store.ts";
import { ROOM_ENVELOPE } from "../client/rooms_core.ts";
import type { QueuedMessage } from "../sql/store.ts";
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

Deno.test("two processes on one profile opening room messages at once never step a member's chain back", async () => {
  await timeLimited(240_000, async () => {
    const t = await startTestServer("sqlite");
    try {
      const alice = await accountProfile(t, "alice", PW_A);
      const bob = await accountProfile(t, "bob", PW_B);
      const a = await loginChat(t, alice, "alice", PW_A);
      const id = await a.client.rooms.create("two readers", "group", ["bob"]);
      const b = await loginChat(t, bob, "bob", PW_B);
      await a.client.rooms.send(id, "m0");
      await eventually(
        () => b.received.some((m) => m.text === "m0"),
        `Bob holds Alice's sender key (problems: ${b.problems.join("; ")})`,
        60_000,
      );
      await b.client.close();

      // Four room messages wait for Bob. They are taken off his queue and handed to two chat
      // cores on his profile (each with its own database connection, as two processes have),
      // two at a time: both read Alice's chain before either commits.
      const texts = ["m1", "m2", "m3", "m4"];
      for (const text of texts) await a.client.rooms.send(id, text);
      await a.client.settle();
      let queued: QueuedMessage[] = [];
      await eventually(
        async () =>
          (queued = (await queuedFor(t, "bob")).filter((q) => isRoomBody(q.body))).length >= 4,
        "Alice's four room messages queued for Bob",
      );
      const bobUser = (await t.store.userByName("bob"))!;
      await t.store.ack(bobUser.id, queued.map((q) => q.qid));
      const one = await loginChat(t, bob, "bob", PW_B);
      const two = await loginChat(t, bob, "bob", PW_B);
      const deliver = (q: QueuedMessage, mid = q.mid) => ({
        qid: q.qid,
        from: q.senderName,
        mid,
        ts: q.sentAt,
        body: q.body,
      });
      for (let i = 0; i < queued.length; i += 2) {
        await Promise.all([
          one.client.rooms.receiveRoom(deliver(queued[i]!)),
          two.client.rooms.receiveRoom(deliver(queued[i + 1]!)),
        ]);
      }
      await one.client.close();
      await two.client.close();

      // A hostile server hands every one of them over again, under new ids: each is a repeat
      // for the chain as stored, which holds every step both processes took.
      await t.store.enqueue(queued.map(({ qid: _, ...q }) => ({
        ...q,
        recipientId: bobUser.id,
        mid: crypto.getRandomValues(new Uint8Array(16)),
      })));
      const again = await loginChat(t, bob, "bob", PW_B);
      // Each is handled once: refused (a repeat), or, were the chain stepped back, shown again.
      const refused = () => again.problems.filter((p) => p.includes("could not be decrypted"));
      await eventually(
        () => refused().length + again.received.length >= queued.length,
        `Bob's client handles the four repeats (problems: ${again.problems.join("; ")})`,
        60_000,
      );
      await again.client.settle();
      const history = (await again.client.history(`#${id}`, 100)).map((m) => m.text);
      assert.deepEqual([...history].sort(), ["m0", ...texts], "each message shown once");
      assert.equal(refused().length, queued.length);
      await again.client.close();
      await a.client.close();
    } finally {
      await t.stop();
    }
  });
});

const isRoomBody = (x: Uint8Array) => x[0] === ROOM_ENVELOPE[0] && x[1] === ROOM_ENVELOPE[1];
