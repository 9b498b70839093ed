import assert from "node:assert/strict";
import { connectChat } from "./support/chat.ts";
import { startTestServer } from "./support/server.ts";
import { TmuxClient } from "./support/tmux.ts";
import { tuiSignUp } from "./support/tui.ts";

const PW_ALICE = "correct horse 1";
const PW_BOB = "battery staple 2";

Deno.test("connect: a contact's changed identity shows in the chat and blocks sending until /accept", async () => {
  const t = await startTestServer("sqlite");
  const server = `127.0.0.1:${t.port}`;
  const profile = await Deno.makeTempDir({ prefix: "pesuchat_tui_" });
  const args = ["connect", server, "--profile", profile, "--trust", t.server.fingerprint];
  let alice = await TmuxClient.start({ args });
  try {
    const bob = await connectChat(t);
    await bob.client.signup({ fullName: "Bob B", username: "bob", password: PW_BOB });
    await tuiSignUp(alice, "alice", PW_ALICE);
    await alice.keys("Enter");
    await alice.prompt("Chat with (username)");
    await alice.line("bob");
    await alice.waitFor("start of your chat with bob");
    await alice.line("before");
    await bob.waitFor(1);

    // Bob starts over: his account is deleted and made again, with new keys.
    await bob.client.deleteAccount(PW_BOB);
    await bob.client.close();
    const bob2 = await connectChat(t);
    await bob2.client.signup({ fullName: "Bob Again", username: "bob", password: PW_BOB });
    await bob2.client.send("alice", "it is me, new keys");

    // The change arrives with his message (the identityChanged event), in the open chat.
    await alice.waitFor("bob: it is me, new keys");
    await alice.waitFor("bob's safety number has changed");
    await alice.waitFor("SAFETY NUMBER CHANGED");

    // Leaving and coming back: the chat opens with the change still pending.
    await alice.line("/quit");
    assert.equal(await alice.exitCode(), 0);
    await alice.stop();
    alice = await TmuxClient.start({ args });
    await alice.prompt("pesuchat ·");
    await alice.keys("Enter");
    await alice.prompt("Username");
    await alice.line("alice");
    await alice.prompt("Password");
    await alice.line(PW_ALICE);
    // It was on screen when she left, so it counts as read (not "1 unread").
    const list = await alice.waitFor(/bob\)?\s+\d\d:\d\d\s+it is me, new keys/);
    assert.doesNotMatch(list, /unread/);
    await alice.keys("Enter");
    await alice.waitFor("bob's safety number has changed");

    // Sending before accepting is refused, and says why; the text is kept for after /accept.
    await alice.line("are you really bob?");
    await alice.waitFor("not sent: bob's safety number changed");
    assert.equal(bob2.received.length, 0);
    await alice.line("/accept");
    await alice.waitFor("accepted bob's new safety number");
    await alice.waitFor("> are you really bob?");
    await alice.keys("Enter");
    await bob2.waitFor(1);
    assert.equal(bob2.received[0]!.text, "are you really bob?");
    await alice.waitFor(/you: are you really bob\? {2}✓/);
    await alice.line("/quit");
    assert.equal(await alice.exitCode(), 0);
    await bob2.client.close();
  } finally {
    await alice.stop();
    await t.stop();
  }
});

Deno.test("connect: a message the server damaged shows as a line in the open chat, and the chat goes on", async () => {
  const t = await startTestServer("sqlite");
  const server = `127.0.0.1:${t.port}`;
  const profile = await Deno.makeTempDir({ prefix: "pesuchat_tui_" });
  const bob = await TmuxClient.start({
    args: ["connect", server, "--profile", profile, "--trust", t.server.fingerprint],
  });
  try {
    const alice = await connectChat(t);
    await alice.client.signup({ fullName: "Alice A", username: "alice", password: PW_ALICE });
    await tuiSignUp(bob, "bob", PW_BOB);
    await bob.keys("Enter");
    await bob.prompt("Chat with (username)");
    await bob.line("alice");
    await bob.waitFor("start of your chat with alice");
    await alice.client.send("bob", "hello bob");
    await bob.waitFor("alice: hello bob");

    // The server flips a bit of the next body it stores for Bob (and so of what it pushes).
    let damage = true;
    const enqueue = t.store.enqueue.bind(t.store);
    t.store.enqueue = (items) => {
      for (const it of items) {
        if (damage && it.senderName === "alice") {
          it.body[it.body.length - 1]! ^= 1;
          damage = false;
        }
      }
      return enqueue(items);
    };
    await alice.client.send("bob", "this one is damaged");
    await bob.waitFor("a message from alice could not be decrypted");
    // Bob's next message starts a new session; Alice reads it and hears of the new session.
    await bob.line("did you write?");
    await alice.waitFor(1);
    assert.equal(alice.received[0]!.text, "did you write?");
    await alice.client.send("bob", "yes, again");
    await bob.waitFor("alice: yes, again");
    assert.ok(alice.notices.some((n) => /bob started a new session/.test(n)), alice.notices.join());
    await bob.line("/quit");
    assert.equal(await bob.exitCode(), 0);
    await alice.client.close();
  } finally {
    await bob.stop();
    await t.stop();
  }
});
