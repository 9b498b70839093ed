import assert from "node:assert/strict";
import { accountProfile, connectChat } from "./support/chat.ts";
import { runPesuchat } from "./support/process.ts";
import { startTestServer } from "./support/server.ts";

const PW_ALICE = "correct horse 1";
const PW_BOB = "battery staple 2";
const asAlice = { env: { PESUCHAT_PASSWORD: PW_ALICE } };
const asBob = { env: { PESUCHAT_PASSWORD: PW_BOB } };

function texts(output: string): string[] {
  return output.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l).text);
}

Deno.test({
  name: "send: to yourself is refused, as the chat refuses it, and nothing is queued",
  fn: async () => {
    const t = await startTestServer("sqlite");
    const server = `127.0.0.1:${t.port}`;
    try {
      const alice = await accountProfile(t, "alice", PW_ALICE);
      const r = await runPesuchat(["send", server, "Alice", "to me", "--profile", alice], asAlice);
      assert.equal(r.code, 1, r.output);
      assert.match(r.output, /^pesuchat: that is you; send to someone else$/m);
      const got = await runPesuchat(
        ["receive", server, "--json", "--wait", "0.5", "--profile", alice],
        asAlice,
      );
      assert.equal(got.code, 0, got.output);
      assert.equal(got.output, "");
    } finally {
      await t.stop();
    }
  },
});

Deno.test("receive: prints a message that a connected send stored and acknowledged, once", async () => {
  const t = await startTestServer("sqlite");
  const server = `127.0.0.1:${t.port}`;
  try {
    const alice = await accountProfile(t, "alice", PW_ALICE);
    const bob = await accountProfile(t, "bob", PW_BOB);
    // Queued for Alice while she is away; her `send` logs in and takes it.
    const first = await runPesuchat(
      ["send", server, "alice", "while you sent", "--profile", bob],
      asBob,
    );
    assert.equal(first.code, 0, first.output);
    const sent = await runPesuchat(["send", server, "bob", "hello", "--profile", alice], asAlice);
    assert.equal(sent.code, 0, sent.output);
    // Once the send has exited, the message is off the server: only the profile has it.
    const got = await runPesuchat(
      ["receive", server, "--json", "--wait", "0.5", "--profile", alice],
      asAlice,
    );
    assert.deepEqual(texts(got.output), ["while you sent"]);
    const again = await runPesuchat(
      ["receive", server, "--json", "--wait", "0", "--profile", alice],
      asAlice,
    );
    assert.deepEqual(texts(again.output), [], "printed once");
  } finally {
    await t.stop();
  }
});

Deno.test("receive: messages that arrive while receive exits are printed now or by the next receive, each once", async () => {
  const t = await startTestServer("sqlite");
  const server = `127.0.0.1:${t.port}`;
  const COUNT = 150;
  try {
    const alice = await accountProfile(t, "alice", PW_ALICE);
    const bob = await connectChat(t);
    await bob.client.signup({ fullName: "Bob", username: "bob", password: PW_BOB });
    // A steady stream from Bob while Alice's receives (--wait 0: log in, take what is there,
    // leave) come and go, so messages keep arriving while a receive is closing.
    let done = false;
    const sender = (async () => {
      for (let i = 0; i < COUNT; i++) {
        await bob.client.send("alice", `m${i}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      await bob.client.settle();
    })().finally(() => done = true);
    const printed: string[] = [];
    // Bounded: passes run while the sends go on, then at most 5 more collect the rest.
    for (let after = 0; after < 5 && printed.length < COUNT;) {
      if (done) after++;
      const r = await runPesuchat(
        ["receive", server, "--json", "--wait", done ? "0.5" : "0", "--profile", alice],
        asAlice,
      );
      assert.equal(r.code, 0, r.output);
      printed.push(...texts(r.output));
    }
    await sender;
    await bob.client.close();
    assert.deepEqual(
      [...printed].sort(),
      Array.from({ length: COUNT }, (_, i) => `m${i}`).sort(),
      "every message printed exactly once",
    );
  } finally {
    await t.stop();
  }
});
