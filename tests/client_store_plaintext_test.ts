import assert from "node:assert/strict";
import { connectChat, eventually } from "./support/chat.ts";
import { contains, filesUnder } from "./support/files.ts";
import { startTestServer } from "./support/server.ts";

const PW_ALICE = "correct horse 1";
const PW_BOB = "battery staple 2";

Deno.test("ChatClient: the profile's files hold no message text, name, email or password in the clear", async () => {
  const t = await startTestServer("sqlite");
  const alice = await connectChat(t);
  const bob = await connectChat(t);
  const texts = ["zebra crossing at midnight", "quixotic lemon sherbet", "line one\nline two"];
  try {
    await alice.client.signup({
      fullName: "Alice Wonderland",
      email: "alice@example.org",
      username: "alice",
      password: PW_ALICE,
    });
    await bob.client.signup({ fullName: "Bob Builder", username: "bob", password: PW_BOB });
    await alice.client.send("bob", texts[0]!);
    await bob.waitFor(1);
    await bob.client.send("alice", texts[1]!);
    await bob.client.send("alice", texts[2]!);
    await alice.waitFor(2);
    await eventually(async () => (await alice.client.history("bob", 10)).length === 3, "history");
  } finally {
    await alice.client.close();
    await bob.client.close();
    await t.stop();
  }
  const files = new Map([
    ...await filesUnder(alice.profile.dir),
    ...await filesUnder(bob.profile.dir),
  ]);
  const enc = new TextEncoder();
  const all = [...files.values()];
  // The scan reads the right bytes: usernames are stored in the clear, as routing facts.
  assert.ok(all.some((b) => contains(b, enc.encode("alice"))));
  for (
    const secret of [
      ...texts,
      ...texts.map((x) => JSON.stringify(x).slice(1, -1)),
      "Alice Wonderland",
      "Bob Builder",
      "alice@example.org",
      PW_ALICE,
      PW_BOB,
    ]
  ) {
    for (const [path, bytes] of files) {
      assert.ok(
        !contains(bytes, enc.encode(secret)),
        `${JSON.stringify(secret)} is readable in ${path}`,
      );
    }
  }
});
