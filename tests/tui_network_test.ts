import assert from "node:assert/strict";
import { ChatClient } from "../client/chat.ts";
import type { StoredMessage } from "../client/local_store.ts";
import { newSecrets } from "../server/keystore.ts";
import { Logger } from "../server/log.ts";
import { PesuchatServer } from "../server/server.ts";
import { openStore } from "../sql/mod.ts";
import { eventually, tempProfile } from "./support/chat.ts";
import { freshDatabase } from "./support/databases.ts";
import { TmuxClient } from "./support/tmux.ts";

const PW_ALICE = "correct horse 1";
const PW_BOB = "battery staple 2";

Deno.test("connect: the chat screen shows a cut connection, queues what is typed, and sends it when back", async () => {
  // A server that can be stopped and started again on the same port with the same keys and data.
  const db = await freshDatabase("sqlite");
  const secrets = await newSecrets();
  const start = async (port: number) => {
    const store = await openStore(db.location);
    await store.migrate();
    return await PesuchatServer.start({
      store,
      secrets,
      hostname: "127.0.0.1",
      port,
      logger: new Logger(() => {}),
      version: "test",
    });
  };
  let server = await start(0);
  const port = server.port;
  const profile = await Deno.makeTempDir({ prefix: "pesuchat_tui_" });
  const alice = await TmuxClient.start({
    args: ["connect", `127.0.0.1:${port}`, "--profile", profile, "--trust", server.fingerprint],
  });
  const bob = await ChatClient.connect({
    hostname: "127.0.0.1",
    port,
    profile: await tempProfile(),
    trust: server.fingerprint,
  });
  const bobGot: StoredMessage[] = [];
  bob.on("message", (m) => {
    if (!m.outgoing) bobGot.push(m);
  });
  try {
    await bob.signup({ fullName: "Bob B", username: "bob", password: PW_BOB });
    await alice.waitFor("Sign up");
    await alice.keys("Down", "Enter");
    for (
      const [prompt, answer] of [
        ["Full name", "Alice A"],
        ["Email (optional", ""],
        ["Username (3-32", "alice"],
        ["Password (at least", PW_ALICE],
        ["Password again", PW_ALICE],
      ]
    ) {
      await alice.prompt(prompt!);
      await alice.line(answer!);
    }
    await alice.prompt("Keep an encrypted backup");
    await alice.keys("Enter"); // no backup
    await alice.waitFor("Chats");
    await alice.keys("Enter");
    await alice.prompt("Chat with (username)");
    await alice.line("bob");
    await alice.waitFor("start of your chat with bob");
    await alice.line("before the cut");
    await eventually(() => bobGot.length === 1, "the first message");

    // The server goes away: the screen says so and keeps going.
    await server.shutdown();
    await alice.waitFor(/connection lost \(.*\); reconnecting…/);
    await alice.waitFor(/Bob B \(bob\) · reconnecting/);
    await alice.line("during the cut");
    await alice.waitFor(/you: during the cut {2}…/);

    // It comes back: the client reconnects by itself and the queued message goes out.
    server = await start(port);
    await alice.waitFor("connected again");
    await alice.waitFor(/Bob B \(bob\) · connected to the server/);
    await eventually(() => bobGot.length === 2, "the queued message");
    assert.equal(bobGot[1]!.text, "during the cut");
    await alice.waitFor(/you: during the cut {2}✓/);
    await alice.line("/quit");
    assert.equal(await alice.exitCode(), 0);
  } finally {
    await alice.stop();
    await bob.close();
    await server.shutdown();
    await db.drop();
  }
});
