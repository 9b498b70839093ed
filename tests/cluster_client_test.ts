import assert from "node:assert/strict";
import { join } from "node:path";
import { ChatClient } from "../client/chat.ts";
import { serverIdOfFingerprint } from "../client/servers.ts";
import { sharedBusUrl, until } from "./support/bus_servers.ts";
import { connectChat, tempProfile } from "./support/chat.ts";
import { TestCluster } from "./support/cluster.ts";
import { freePort, runPesuchat } from "./support/process.ts";
import { startTestServer } from "./support/server.ts";

const PW_ALICE = "correct horse 1";
const PW_BOB = "battery staple 2";

Deno.test({
  name:
    "send and receive reach an account through any node's address, and an older profile moves to the server's key",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const c = await TestCluster.start(sharedBusUrl("redis"), 2);
    const [p0, p1] = c.ports as [number, number];
    const node0 = { port: p0, server: { fingerprint: c.fingerprint } };
    const alice = await connectChat(node0);
    const bob = await connectChat(node0);
    try {
      await alice.client.signup({ fullName: "Alice A", username: "alice", password: PW_ALICE });
      await bob.client.signup({ fullName: "Bob B", username: "bob", password: PW_BOB });
      await alice.client.close();
      // A profile as older versions kept it: the store named after the address of node 0.
      const accounts = join(alice.profile.dir, "accounts");
      const byKey = join(accounts, `${serverIdOfFingerprint(c.fingerprint)}--alice.db`);
      const byAddress = join(accounts, `127.0.0.1_${p0}--alice.db`);
      for (const side of ["", "-wal", "-shm"]) {
        await Deno.rename(byKey + side, byAddress + side).catch(() => {});
      }
      await bob.client.send("alice", "hello from node 0");

      // receive on node 1's address, never used by this profile before: the account is found.
      const env = { PESUCHAT_PASSWORD: PW_ALICE };
      const got = await runPesuchat(
        [
          "receive",
          `127.0.0.1:${p1}`,
          "--profile",
          alice.profile.dir,
          "--trust",
          c.fingerprint,
          "--json",
          "--wait",
          "1",
        ],
        { env },
      );
      assert.equal(got.code, 0, got.output);
      assert.match(got.output, /"from":"bob","text":"hello from node 0"/);
      await Deno.stat(byKey);
      await assert.rejects(Deno.stat(byAddress), Deno.errors.NotFound);
      const known = await Deno.readTextFile(join(alice.profile.dir, "known_hosts"));
      assert.match(known, new RegExp(`^127\\.0\\.0\\.1:${p1} x25519 `, "m"));

      // send with a dead address first: the next one takes the message.
      const sent = await runPesuchat(
        [
          "send",
          `127.0.0.1:${freePort()},127.0.0.1:${p1}`,
          "bob",
          "through the second address",
          "--profile",
          alice.profile.dir,
        ],
        { env },
      );
      assert.equal(sent.code, 0, sent.output);
      await bob.waitFor(1);
      assert.equal(bob.received[0]!.text, "through the second address");
    } finally {
      await bob.client.close();
      await c.stop();
    }
  },
});

Deno.test({
  name: "a client given several addresses never talks to one whose server key differs",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const a = await startTestServer("sqlite");
    const impostor = await startTestServer("sqlite");
    const profile = await tempProfile();
    const client = await ChatClient.connect({
      hostname: "127.0.0.1",
      port: a.port,
      alternates: [{ hostname: "127.0.0.1", port: impostor.port }],
      profile,
      trust: a.server.fingerprint,
    });
    try {
      await client.signup({ fullName: "Alice A", username: "alice", password: PW_ALICE });
      // The real server goes away; the client tries the other address, which has another key.
      await a.stop();
      await until(
        () => impostor.log.some((l) => /handshake failed|left during the handshake/.test(l)),
        "the client to try the other address",
      );
      assert.equal(client.isOnline, false);
      const known = await Deno.readTextFile(join(profile.dir, "known_hosts"));
      assert.doesNotMatch(known, new RegExp(`:${impostor.port} `), "the other key is not trusted");
      assert.doesNotMatch(impostor.log.join("\n"), /resume|login/);
    } finally {
      await client.close();
      await impostor.stop();
    }
  },
});
