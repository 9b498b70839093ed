/**
 * Five real chat clients in one room while the server process is killed with SIGKILL in the
 * middle of a stream of room messages and started again on the same database: every room
 * message acknowledged to its sender reaches every other member exactly once, and the room goes
 * on working.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { connectChat, eventually, type TestChat } from "./support/chat.ts";
import { DATABASE_KINDS, freshDatabase } from "./support/databases.ts";
import { freePort, PesuchatProcess, setupUnattended } from "./support/process.ts";
import { timeLimited } from "./support/sessions.ts";
import { MessageState } from "../client/local_store.ts";

const NAMES = ["ann", "bob", "cat", "dan", "eve"] as const;
const PASSWORD = "room crash password 9";
const TIME_LIMIT_MS = 400_000;
/** How long one step may take on a loaded machine. */
const STEP_MS = 120_000;
/** Room messages in the stream, and how many must be acknowledged before the kill. */
const STREAM = 60;
const ACKED_BEFORE_KILL = 15;

for (const kind of DATABASE_KINDS) {
  Deno.test({
    name:
      `[${kind}] five clients in a room: SIGKILL of the server mid-stream of room messages loses and doubles none, and the room goes on`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () =>
      timeLimited(TIME_LIMIT_MS, async () => {
        const db = await freshDatabase(kind);
        const dir = join(await Deno.makeTempDir({ prefix: "pesuchat_room_kill_" }), "srv");
        const port = freePort();
        const setup = await setupUnattended(
          dir,
          port,
          ...(kind === "sqlite" ? [] : ["--db", db.location]),
        );
        assert.equal(setup.code, 0, setup.output);
        const fingerprint = setup.output.match(/fingerprint: (SHA256:\S+)/)![1]!;
        const target = { port, server: { fingerprint } };
        let server = new PesuchatProcess(["server", "run", "--dir", dir]);
        const c: TestChat[] = [];
        try {
          await server.waitFor(/listening/);
          for (const n of NAMES) {
            const chat = await connectChat(target);
            await chat.client.signup({
              fullName: n.toUpperCase(),
              username: n,
              password: PASSWORD,
            });
            c.push(chat);
          }
          const [ann, ...others] = c as [TestChat, ...TestChat[]];
          const id = await ann.client.rooms.create("Crash club", "group", [
            "bob",
            "cat",
            "dan",
            "eve",
          ]);
          const peer = `#${id}`;
          await eventually(
            async () =>
              (await Promise.all(c.map((x) => x.client.rooms.info(id).catch(() => null))))
                .every((i) => i?.members.length === 5),
            "every member holds the room",
            STEP_MS,
          );

          // Ann's stream: each message is stored locally at once and sent in the background;
          // "sent" is the server's acknowledgement after it committed.
          const acked = new Set<string>();
          ann.client.on("state", (p, mids, state) => {
            if (p === peer && state === MessageState.sent) {
              for (const m of mids) acked.add(m.toHex());
            }
          });
          const posted = new Map<string, string>();
          let killed = false;
          for (let i = 0; i < STREAM; i++) {
            const m = await ann.client.rooms.send(id, `stream ${i}`);
            posted.set(m.mid.toHex(), m.text);
            if (!killed && acked.size >= ACKED_BEFORE_KILL) {
              server.kill("SIGKILL");
              await server.done;
              killed = true;
            }
            // Leave the background sends room to run, so the kill falls among them.
            if (!killed) await new Promise((r) => setTimeout(r, 0));
          }
          if (!killed) {
            await eventually(() => acked.size >= ACKED_BEFORE_KILL, "acknowledgements", STEP_MS);
            server.kill("SIGKILL");
            await server.done;
          }
          const ackedAtKill = new Set(acked);
          assert.ok(ackedAtKill.size >= ACKED_BEFORE_KILL);
          assert.ok(ackedAtKill.size < STREAM, "the kill fell in the middle of the stream");

          server = new PesuchatProcess(["server", "run", "--dir", dir]);
          await server.waitFor(/listening/);
          // Every client reconnects by itself; Ann's outbox sends what was not acknowledged.
          await eventually(() => c.every((x) => x.client.isOnline), "everyone online", STEP_MS);
          await eventually(() => acked.size === STREAM, "Ann's whole stream sent", STEP_MS);
          for (const [k, x] of others.entries()) {
            const name = NAMES[k + 1];
            await eventually(
              () => x.received.filter((m) => m.peer === peer).length >= STREAM,
              `${name} reads the whole stream (problems: ${x.problems.join("; ")})`,
              STEP_MS,
            );
          }
          // Bob's message after the restart reaches everyone: the room goes on working.
          await others[0]!.client.rooms.send(id, "after the crash");
          for (const x of [ann, ...others.slice(1)]) {
            await eventually(
              () => x.received.some((m) => m.peer === peer && m.text === "after the crash"),
              "the room works after the restart",
              STEP_MS,
            );
          }
          for (const [k, x] of others.entries()) {
            const name = NAMES[k + 1];
            const got = x.received.filter((m) => m.peer === peer && m.text.startsWith("stream "));
            const mids = got.map((m) => m.mid.toHex());
            assert.equal(new Set(mids).size, mids.length, `${name}: a room message shown twice`);
            const texts = got.map((m) => m.text);
            assert.equal(new Set(texts).size, texts.length, `${name}: a room text shown twice`);
            for (const k2 of ackedAtKill) {
              assert.ok(mids.includes(k2), `${name}: an acknowledged room message was lost`);
            }
            assert.deepEqual(new Set(texts), new Set(posted.values()), `${name}: the stream`);
            // What is stored matches what was shown: once each.
            const history = (await x.client.history(peer, 10 * STREAM)).filter((m) =>
              m.text.startsWith("stream ")
            );
            assert.equal(history.length, STREAM, `${name}: history holds each message once`);
            assert.deepEqual(x.problems, [], `${name}: problems`);
          }
        } finally {
          for (const x of c) await x.client.close().catch(() => {});
          server.kill("SIGKILL");
          await server.done;
          await db.drop();
        }
      }),
  });
}
