import assert from "node:assert/strict";
import { ChatClient } from "../client/chat.ts";
import { MessageState } from "../client/local_store.ts";
import { BUS_KINDS, PrivateBusServer, sharedBusUrl, until } from "./support/bus_servers.ts";
import { tempProfile } from "./support/chat.ts";
import { TestCluster } from "./support/cluster.ts";
import { mid, rawClient, signUp } from "./support/server.ts";
import { TmuxClient } from "./support/tmux.ts";

const PW_ALICE = "correct horse 1";
const PW_BOB = "battery staple 2";
/** Messages in the stream, and after how many the recipient's node is killed. */
const STREAM = 30;
const KILL_AFTER = 10;

function logs(c: TestCluster): string {
  return c.nodes.map((n, i) => `--- node ${i}\n${n?.output ?? "(stopped)"}`).join("\n");
}

for (const kind of BUS_KINDS) {
  Deno.test({
    name:
      `[${kind}] a node killed with SIGKILL mid-stream: every acknowledged message reaches the recipient's screen exactly once`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const c = await TestCluster.start(sharedBusUrl(kind), 3);
      const alice = await ChatClient.connect({
        hostname: "127.0.0.1",
        port: c.ports[0]!,
        profile: await tempProfile(),
        trust: c.fingerprint,
      });
      // Bob's terminal client knows nodes 1 and 2, and starts on node 1.
      const bob = await TmuxClient.start({
        args: [
          "connect",
          c.addresses(1, 2),
          "--profile",
          await Deno.makeTempDir({ prefix: "pesuchat_tui_" }),
          "--trust",
          c.fingerprint,
        ],
        rows: STREAM + 20,
      });
      try {
        await alice.signup({ fullName: "Alice A", username: "alice", password: PW_ALICE });
        await bob.prompt("pesuchat ·");
        await bob.keys("Down", "Enter");
        for (
          const [prompt, answer] of [
            ["Full name", "Bob B"],
            ["Email (optional", ""],
            ["Username (3-32", "bob"],
            ["Password (at least", PW_BOB],
            ["Password again", PW_BOB],
          ]
        ) {
          await bob.prompt(prompt!);
          await bob.line(answer!);
        }
        await bob.prompt("Keep an encrypted backup");
        await bob.keys("Enter"); // no backup
        await bob.waitFor("Chats");
        await bob.keys("Enter");
        await bob.prompt("Chat with (username)");
        await bob.line("alice");
        await bob.waitFor("start of your chat with alice");

        const acked = new Set<string>();
        alice.on("state", (_peer, mids, state) => {
          if (state >= MessageState.sent) { for (const m of mids) acked.add(m.toHex()); }
        });
        const texts: string[] = [];
        for (let i = 1; i <= STREAM; i++) {
          const text = `m${String(i).padStart(3, "0")}`;
          texts.push(text);
          const m = await alice.send("bob", text);
          // One at a time, so the stream is still flowing when the node dies.
          await until(() => acked.has(m.mid.toHex()), `the server to take ${text}`, 60_000);
          if (i === KILL_AFTER) await c.kill(1);
        }
        // Bob's client finds node 2 by itself and every message shows once.
        await bob.waitFor("connected again", 60_000);
        const screen = await bob.waitFor(`alice: ${texts.at(-1)}`, 60_000);
        for (const t of texts) {
          const times = screen.split("\n").filter((l) => l.includes(`alice: ${t}`)).length;
          assert.equal(times, 1, `${t} shows ${times} times:\n${screen}`);
        }
        assert.equal(acked.size, STREAM);
      } catch (e) {
        throw new Error(`${(e as Error).message}\n${logs(c)}`, { cause: e });
      } finally {
        await bob.stop();
        await alice.close();
        await c.stop();
      }
    },
  });

  Deno.test({
    name:
      `[${kind}] the bus stopped and started again mid-stream: nothing is lost, the outage is logged once`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const bus = new PrivateBusServer(kind);
      await bus.start();
      const c = await TestCluster.start(bus.url, 2);
      const te = new TextEncoder();
      const alice = await rawClient(c.ports[0]!);
      const bob = await rawClient(c.ports[1]!);
      const carol = await rawClient(c.ports[0]!);
      let carol2: Awaited<ReturnType<typeof rawClient>> | null = null;
      try {
        await signUp(alice, "alice");
        await signUp(bob, "bob");
        const carolKey = await signUp(carol, "carol");
        const acked: string[] = [];
        const send = async (i: number) => {
          const id = mid();
          await alice.conn.request("send", { to: "bob", mid: id, body: te.encode(`n${i}`) });
          acked.push(id.toHex());
        };
        let i = 0;
        const stream = async (until: number) => {
          for (; i < until; i++) await send(i);
        };
        await stream(100);
        await bus.stop();
        await c.nodes[0]!.waitFor(/bus down/);
        await c.nodes[1]!.waitFor(/bus down/);
        await stream(200);
        // Polling carries delivery while the bus is down, and finds a takeover in the database.
        await bob.waitFor(200, 60_000);
        carol2 = await rawClient(c.ports[1]!);
        await carol2.conn.request("login", { username: "carol", authKey: carolKey });
        assert.equal((await carol.conn.closed).code, "logged_in_elsewhere");
        await bus.start();
        await c.nodes[0]!.waitFor(/bus back/, 60_000);
        await c.nodes[1]!.waitFor(/bus back/, 60_000);
        await stream(300);
        await bob.waitFor(300, 60_000);
        const got = bob.deliveries.map((d) => d.mid.toHex());
        assert.equal(new Set(got).size, got.length, "no message delivered twice");
        assert.deepEqual(got.toSorted(), acked.toSorted());
        for (const n of c.nodes) {
          assert.equal(n!.lines.filter((l) => /bus down/.test(l)).length, 1, n!.output);
        }
      } catch (e) {
        throw new Error(`${(e as Error).message}\n${logs(c)}`, { cause: e });
      } finally {
        for (const cl of [alice, bob, carol, carol2]) cl?.conn.close();
        await c.stop();
        await bus.stop();
      }
    },
  });
}
