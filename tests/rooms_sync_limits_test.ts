/**
 * The limits of room gap repair, each at its bound and one past it, over real clients and a real
 * server: SYNC_DELAY_MS before a gap is acted on, SYNC_REPEAT_MS between two requests (or two
 * answers) for one gap however often a hostile peer shows it, and the remembered set's bound.
 * Then what a removed member or a stranger gets by asking (nothing), and what a member's replay
 * of old changes does (nothing). The clock of gap repair is stepped by hand: no test waits on it.
 */

import assert from "node:assert/strict";
import {
  MAX_REMEMBERED_SYNCS,
  SYNC_DELAY_MS,
  SYNC_REPEAT_MS,
  type SyncClock,
} from "../client/rooms_core.ts";
import type { QueuedMessage } from "../sql/store.ts";
import { eventually, type TestChat } from "./support/chat.ts";
import { loginChat, queuedFor, timeLimited } from "./support/sessions.ts";
import { startTestServer, type TestServer } from "./support/server.ts";
import { signedUp, textsIn } from "./support/rooms.ts";

const PASSWORD = "room sync limits 7";
const TIME_LIMIT_MS = 300_000;
/** How long one step may take on a loaded machine. */
const STEP_MS = 90_000;

/** A clock moved only by `advance`; what is due runs then, in order. */
class HandClock implements SyncClock {
  t = 1_000_000;
  #timers: { at: number; fn: () => void; live: boolean }[] = [];
  now(): number {
    return this.t;
  }
  after(ms: number, fn: () => void): () => void {
    const e = { at: this.t + ms, fn, live: true };
    this.#timers.push(e);
    return () => {
      e.live = false;
    };
  }
  advance(ms: number): void {
    this.t += ms;
    for (const e of this.#timers.filter((e) => e.live && e.at <= this.t)) {
      e.live = false;
      e.fn();
    }
  }
}

const people = (t: TestServer, names: string[]) => signedUp(t, names, PASSWORD);
const texts = (c: TestChat, id: string) => textsIn(c, `#${id}`);

/** Ann's room with `others`, each holding Ann's sender key. */
async function room(t: TestServer, others: string[], extra: string[] = []) {
  const c = await people(t, ["ann", ...others, ...extra]);
  const id = await c.ann!.client.rooms.create("Quokka club", "group", others);
  await c.ann!.client.rooms.send(id, "hello");
  for (const o of others) {
    await eventually(() => texts(c[o]!, id).includes("hello"), `${o} reads ann`, STEP_MS);
  }
  return { c, id };
}

/** Messages `from` sent `to` that wait on the server (`to` takes no more deliveries). */
async function waiting(t: TestServer, to: string, from: string): Promise<QueuedMessage[]> {
  return (await queuedFor(t, to)).filter((m) => m.senderName === from);
}

/** Waits until `who` took everything `from` sent it and handled it. */
async function handled(t: TestServer, who: TestChat, name: string, from: string) {
  await eventually(
    async () => (await waiting(t, name, from)).length === 0,
    `${name} takes what ${from} sent`,
    STEP_MS,
  );
  await who.client.settle();
}

Deno.test({
  name: "Rooms: a member asking again and again, for anything, is answered once per SYNC_REPEAT_MS",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    timeLimited(TIME_LIMIT_MS, async () => {
      const t = await startTestServer("sqlite");
      try {
        const { c, id } = await room(t, ["bob", "dan"]);
        await c.ann!.client.rooms.rename(id, "Renamed");
        await c.ann!.client.settle();
        await eventually(
          async () => (await c.bob!.client.rooms.info(id)).name === "Renamed",
          "bob holds the rename",
          STEP_MS,
        );
        // Whatever else Ann's client sends Bob by itself (receipts, an offer) is taken first.
        await c.ann!.client.settle();
        await eventually(
          async () => (await waiting(t, "bob", "ann")).length === 0,
          "bob takes all Ann sent",
          STEP_MS,
        );
        const clock = new HandClock();
        c.ann!.client.rooms.clock = clock;
        // Bob runs a modified client: it asks, and keeps what comes back on the server to count.
        await c.bob!.client.stopDeliveries();
        const answers = () => waiting(t, "bob", "ann").then((q) => q.length);
        assert.equal(await answers(), 0, "nothing from Ann waits for Bob before he asks");
        const ask = async (v: number, key: boolean) => {
          await c.bob!.client.rooms.m.sendControl("ann", { t: "room_sync", room: id, v, key });
          await c.bob!.client.settle();
          await handled(t, c.ann!, "ann", "bob");
        };

        await ask(0, true);
        // Every change and the sender key go back. Ann acknowledges the request before her
        // answers reach her outbox, so the count is waited for, not read once.
        const once = (await c.ann!.client.rooms.info(id)).version + 1;
        await eventually(
          async () => (await answers()) >= once,
          "every change and the key",
          STEP_MS,
        );
        assert.equal(await answers(), once, "every change and the sender key, once");
        // Again, and with every other version and key flag: nothing more in the period.
        for (
          const [v, key] of [[0, true], [0, false], [1, true], [2, false], [99, true]] as const
        ) {
          await ask(v, key);
        }
        assert.equal(await answers(), once);
        // A version below zero asks for nothing more than zero.
        await ask(-5, true);
        assert.equal(await answers(), once);
        clock.advance(SYNC_REPEAT_MS - 1);
        await ask(0, true);
        assert.equal(await answers(), once, "not answered again one millisecond early");
        clock.advance(1);
        await ask(0, true);
        await eventually(async () => (await answers()) >= 2 * once, "answered again", STEP_MS);
        await c.ann!.client.settle();
        assert.equal(await answers(), 2 * once, "answered again at SYNC_REPEAT_MS, once");
        assert.deepEqual(c.ann!.problems, []);
      } finally {
        await t.stop();
      }
    }),
});

Deno.test({
  name:
    "Rooms: a gap a room message shows is asked about after SYNC_DELAY_MS, once per SYNC_REPEAT_MS however often it shows",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    timeLimited(TIME_LIMIT_MS, async () => {
      const t = await startTestServer("sqlite");
      try {
        const { c, id } = await room(t, ["bob", "dan"]);
        // Dan misses a change: the server withholds it.
        const danDir = c.dan!.profile.dir;
        await c.dan!.client.close();
        await c.ann!.client.rooms.rename(id, "Renamed");
        await c.ann!.client.settle();
        const dan = (await t.store.userByName("dan"))!;
        const held = await waiting(t, "dan", "ann");
        assert.ok(held.length >= 1);
        await t.store.ack(dan.id, held.map((m) => m.qid));
        c.dan = await loginChat(t, danDir, "dan", PASSWORD);
        const clock = new HandClock();
        c.dan.client.rooms.clock = clock;
        // Ann keeps Dan's requests on the server, to count them.
        await c.ann!.client.stopDeliveries();
        const requests = () => waiting(t, "ann", "dan").then((q) => q.length);
        const post = async (text: string) => {
          await c.ann!.client.rooms.send(id, text);
          await eventually(() => texts(c.dan!, id).includes(text), `dan reads ${text}`, STEP_MS);
          await c.dan!.client.settle();
        };

        await post("one");
        clock.advance(SYNC_DELAY_MS - 1);
        await c.dan.client.settle();
        assert.equal(await requests(), 0, "not asked one millisecond early");
        clock.advance(1);
        await eventually(async () => (await requests()) === 1, "asked at SYNC_DELAY_MS", STEP_MS);
        // The same gap shown again and again (a server could replay the posts' trigger as
        // often as it likes): no second request in the period.
        for (const text of ["two", "three", "four"]) {
          await post(text);
          clock.advance(SYNC_DELAY_MS);
          await c.dan.client.settle();
        }
        assert.equal(await requests(), 1);
        // SYNC_REPEAT_MS after the request, less one: still nothing; at it, asked again.
        clock.advance(SYNC_REPEAT_MS - 1 - 3 * SYNC_DELAY_MS - SYNC_DELAY_MS);
        await post("five");
        clock.advance(SYNC_DELAY_MS);
        await c.dan.client.settle();
        assert.equal(await requests(), 1, "not asked again one millisecond early");
        await post("six");
        clock.advance(SYNC_DELAY_MS + 1);
        await eventually(
          async () => (await requests()) === 2,
          "asked again at SYNC_REPEAT_MS",
          STEP_MS,
        );
        assert.ok(c.dan.client.rooms.rememberedSyncs <= MAX_REMEMBERED_SYNCS);
      } finally {
        await t.stop();
      }
    }),
});

Deno.test({
  name:
    "Rooms: the remembered requests stop at their bound, the oldest dropped, and a stranger's or a removed member's request is not remembered",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    timeLimited(TIME_LIMIT_MS, async () => {
      const t = await startTestServer("sqlite");
      try {
        const c = await people(t, ["ann", "bob", "eve"]);
        assert.equal(c.ann!.client.rooms.maxRememberedSyncs, MAX_REMEMBERED_SYNCS);
        const BOUND = 3;
        c.ann!.client.rooms.maxRememberedSyncs = BOUND;
        const clock = new HandClock();
        c.ann!.client.rooms.clock = clock;
        // Bob makes BOUND + 1 rooms with Ann: each a gap of its own to ask about.
        const ids: string[] = [];
        for (let i = 0; i <= BOUND; i++) {
          ids.push(await c.bob!.client.rooms.create(`Room ${i}`, "group", ["ann"]));
        }
        await eventually(
          async () => (await c.ann!.client.rooms.list()).length === BOUND + 1,
          "ann holds every room",
          STEP_MS,
        );
        await c.eve!.client.stopDeliveries();
        await c.bob!.client.stopDeliveries();
        const answers = (to: string) => waiting(t, to, "ann").then((q) => q.length);
        const ask = async (from: TestChat, name: string, room: string) => {
          await from.client.rooms.m.sendControl("ann", { t: "room_sync", room, v: 0, key: false });
          await from.client.settle();
          await handled(t, c.ann!, "ann", name);
        };

        // A stranger asks about each room: nothing is sent, nothing remembered.
        const before = c.ann!.client.rooms.rememberedSyncs;
        for (const id of ids) await ask(c.eve!, "eve", id);
        assert.equal(await answers("eve"), 0);
        assert.equal(c.ann!.client.rooms.rememberedSyncs, before);

        // Each answer is every change of its room; Ann acknowledges a request before her answer
        // reaches her outbox, so counts are waited for, then checked exact.
        const changes = async (from: number, to: number) => {
          let n = 0;
          for (let i = from; i < to; i++) n += (await c.ann!.client.rooms.info(ids[i]!)).version;
          return n;
        };
        const counted = async (n: number, what: string) => {
          await eventually(async () => (await answers("bob")) >= n, what, STEP_MS);
          assert.equal(await answers("bob"), n, what);
          return n;
        };
        for (let i = 0; i < BOUND; i++) await ask(c.bob!, "bob", ids[i]!);
        const atBound = await counted(await changes(0, BOUND), "answered up to the bound");
        assert.ok(atBound >= BOUND);
        assert.equal(c.ann!.client.rooms.rememberedSyncs, BOUND, "at the bound");
        // Asked again at the bound: all remembered, nothing sent.
        for (let i = 0; i < BOUND; i++) await ask(c.bob!, "bob", ids[i]!);
        assert.equal(await answers("bob"), atBound);
        // One past it: answered, the set stays at the bound, and the oldest is forgotten (so
        // asked again, it is answered again: the bound costs a repeat, never memory).
        await ask(c.bob!, "bob", ids[BOUND]!);
        const past = await counted(atBound + await changes(BOUND, BOUND + 1), "one past the bound");
        assert.ok(past > atBound);
        assert.equal(c.ann!.client.rooms.rememberedSyncs, BOUND, "one past the bound");
        await ask(c.bob!, "bob", ids[1]!);
        assert.equal(await answers("bob"), past, "a remembered request is still not answered");
        await ask(c.bob!, "bob", ids[0]!);
        await counted(past + await changes(0, 1), "the dropped one is answered again");
        assert.equal(c.ann!.client.rooms.rememberedSyncs, BOUND);
      } finally {
        await t.stop();
      }
    }),
});

Deno.test({
  name:
    "Rooms: a removed member asking for changes and sender keys gets nothing, and a member replaying old changes rolls nobody back",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    timeLimited(TIME_LIMIT_MS, async () => {
      const t = await startTestServer("sqlite");
      try {
        const { c, id } = await room(t, ["bob", "dan"]);
        // Bob keeps every change Ann sent him, as a hostile member would.
        const old = await c.bob!.client.rooms.store.openRoomLog(
          id,
          c.bob!.client.rooms.store.roomSealed(id)!,
        );
        await c.ann!.client.rooms.remove(id, "dan");
        await c.ann!.client.rooms.rename(id, "After Dan");
        await eventually(
          async () => (await c.bob!.client.rooms.info(id)).name === "After Dan",
          "bob takes the changes",
          STEP_MS,
        );
        await eventually(
          async () => !(await c.dan!.client.rooms.info(id)).member,
          "dan knows he was removed",
          STEP_MS,
        );

        // Dan asks Ann and Bob for everything, with their keys: nothing comes back.
        await c.dan!.client.stopDeliveries();
        for (const n of ["ann", "bob"]) {
          await c.dan!.client.rooms.m.sendControl(n, { t: "room_sync", room: id, v: 0, key: true });
          await c.dan!.client.settle();
          await handled(t, c[n]!, n, "dan");
          assert.equal((await waiting(t, "dan", n)).length, 0, `${n} sends Dan nothing`);
        }

        // Bob sends Ann her own old changes again: she holds the room as it is now.
        const now = await c.ann!.client.rooms.info(id);
        for (const ch of old) {
          await c.bob!.client.rooms.m.sendControl("ann", {
            t: "room_change",
            bytes: Uint8Array.fromBase64(ch.bytes),
            sig: Uint8Array.fromBase64(ch.sig),
          });
        }
        await c.bob!.client.settle();
        await handled(t, c.ann!, "ann", "bob");
        assert.deepEqual(await c.ann!.client.rooms.info(id), now);
        assert.equal(now.name, "After Dan");
        assert.ok(!now.members.some((m) => m.username === "dan"));
      } finally {
        await t.stop();
      }
    }),
});
