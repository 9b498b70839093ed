/**
 * The room benchmark (not a test): one sender posting to a group of MEMBERS online members over a
 * real server process on SQLite and real TCP, against the same load sent as MEMBERS - 1 pairwise
 * messages. The sender does the real end-to-end work of each: one sender-key encryption and one
 * `send_room` per message, or one Double Ratchet encryption and one `send` per recipient. A
 * delivery counts when its recipient's connection has it; latency is from the start of the
 * message's encryption to each delivery.
 *
 * usage: deno run -A scripts/bench.ts group [--json] [--messages N]
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { ServerConnection } from "../client/connection.ts";
import {
  IdentityKeyPair,
  KyberPrekey,
  randomBytes,
  SenderKeyState,
  Session,
  SignedPrekey,
} from "../crypto/mod.ts";
import { bundleOf } from "../crypto/prekeys.ts";
import { percentile, round, signUpUsers, startServer } from "./bench_relay.ts";

/** Members of the room, the sender included. */
const MEMBERS = 50;
/** Plaintext of one message. */
const TEXT = randomBytes(200);
/** Messages the sender keeps unacknowledged at most. */
const IN_FLIGHT = 20;

interface Figures {
  msgs_per_s: number;
  deliveries_per_s: number;
  p99_ms: number;
}

async function run(messages: number): Promise<Record<string, unknown>> {
  const dir = join(await Deno.makeTempDir({ prefix: "pesuchat_bench_group_" }), "srv");
  const server = await startServer(dir);
  try {
    const users = await signUpUsers(server.port, "member_", MEMBERS);
    const [sender, ...others] = users;
    const startedAt = new Map<string, number>();
    const latencies: number[] = [];
    let delivered = 0;
    let wake = () => {};
    const conns: ServerConnection[] = [];
    for (const u of others) {
      const conn = await ServerConnection.open("127.0.0.1", server.port, {
        staticKey: u.deviceKey,
      });
      await conn.request("resume", {});
      conn.onDeliver = (d) => {
        const t0 = startedAt.get(d.mid.toHex());
        if (t0 !== undefined) latencies.push(performance.now() - t0);
        delivered++;
        conn.ack([d.qid]);
        wake();
      };
      conns.push(conn);
    }
    const s = await ServerConnection.open("127.0.0.1", server.port, {
      staticKey: sender!.deviceKey,
    });
    await s.request("resume", {});
    const names = others.map((u) => u.name);

    // The keys each way starts from: a sender key, and a session with each member.
    let senderKey = await SenderKeyState.create();
    const me = await IdentityKeyPair.generate();
    const sessions = await Promise.all(names.map(async () => {
      const them = await IdentityKeyPair.generate();
      const [spk, kyber] = await Promise.all([
        SignedPrekey.generate(them, 1),
        KyberPrekey.generate(them, 2, true),
      ]);
      return await Session.initiate(me, bundleOf(them, spk, null, kyber));
    }));
    const ad = new TextEncoder().encode("bench room");

    const measure = async (sendOne: () => Promise<void>): Promise<Figures> => {
      delivered = 0;
      latencies.length = 0;
      const expected = messages * names.length;
      const t0 = performance.now();
      const inFlight = new Set<Promise<void>>();
      for (let i = 0; i < messages; i++) {
        const p = sendOne();
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
        if (inFlight.size >= IN_FLIGHT) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      const deadline = Date.now() + 120_000;
      while (delivered < expected && Date.now() < deadline) {
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 50);
        });
      }
      const seconds = (performance.now() - t0) / 1000;
      latencies.sort((a, b) => a - b);
      return {
        msgs_per_s: round(messages / seconds),
        deliveries_per_s: round(delivered / seconds),
        p99_ms: round(percentile(latencies, 99)),
      };
    };

    const group = await measure(async () => {
      const mid = randomBytes(16);
      startedAt.set(mid.toHex(), performance.now());
      const r = await senderKey.encrypt(TEXT, ad);
      senderKey = r.next;
      await s.request("send_room", { to: names, mid, body: r.message });
    });
    const pairwise = await measure(async () => {
      const t = performance.now();
      await Promise.all(names.map(async (to, i) => {
        const mid = randomBytes(16);
        startedAt.set(mid.toHex(), t);
        const { envelope, session } = await sessions[i]!.encrypt(TEXT);
        sessions[i] = session;
        await s.request("send", { to, mid, body: envelope });
      }));
    });
    s.close();
    for (const c of conns) c.close();
    return { bench: "group", members: MEMBERS, messages, ...group, pairwise };
  } finally {
    await server.stop();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { json: { type: "boolean" }, messages: { type: "string" } },
  });
  const messages = Math.min(Math.max(Number(values.messages ?? 200) || 200, 1), 10_000);
  const result = await run(messages);
  if (values.json) console.log(JSON.stringify(result));
  else {
    const p = result.pairwise as Figures;
    console.log(
      `group of ${MEMBERS}, ${messages} messages: sender keys ${result.msgs_per_s} msg/s, ` +
        `${result.deliveries_per_s} deliveries/s, p99 ${result.p99_ms} ms; ` +
        `${MEMBERS - 1} pairwise: ${p.msgs_per_s} msg/s, ${p.deliveries_per_s} deliveries/s, ` +
        `p99 ${p.p99_ms} ms`,
    );
  }
}
