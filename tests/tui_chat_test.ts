import assert from "node:assert/strict";
import { join } from "node:path";
import { AccountKey, derivePasswordKeys, fromBase64, type KdfParams } from "../crypto/mod.ts";
import { LocalStore } from "../client/local_store.ts";
import { Profile } from "../client/profile.ts";
import { serverIdOfFingerprint } from "../client/servers.ts";
import { fingerprint } from "../protocol/fingerprint.ts";
import { startTestServer } from "./support/server.ts";
import { contains, filesUnder } from "./support/files.ts";
import { TmuxClient } from "./support/tmux.ts";

const PW_ALICE = "correct horse 1";
const PW_BOB = "battery staple 2";

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "pesuchat_tui_" });
}

interface NewAccount {
  fullName: string;
  email: string;
  username: string;
  password: string;
  /** Opt in to server backups; the recovery key shown is returned. */
  backup?: boolean;
}

/** Fills in the sign-up form from the welcome menu, and waits for the chat list; returns the
 * recovery key shown when backups were chosen. */
async function signUp(c: TmuxClient, a: NewAccount): Promise<string | null> {
  await c.prompt("pesuchat ·");
  await c.keys("Down", "Enter");
  await c.prompt("Full name");
  await c.line(a.fullName);
  await c.prompt("Email (optional");
  await c.line(a.email);
  await c.prompt("Username (3-32 characters");
  await c.line(a.username);
  await c.prompt("Password (at least");
  await c.line(a.password);
  await c.prompt("Password again");
  await c.line(a.password);
  await c.prompt("Keep an encrypted backup");
  if (!a.backup) {
    await c.keys("Enter");
    await c.waitFor(/Chats/);
    return null;
  }
  await c.keys("y");
  const shown = await c.waitFor(/Your recovery key[^]*?((?:[0-9a-f]{4} {2}){3}[0-9a-f]{4}[^]*){4}/);
  const key = [...shown.matchAll(/\b[0-9a-f]{4}\b/g)].map((m) => m[0]).join(" ");
  await c.prompt("Have you written the recovery key down?");
  await c.keys("y");
  await c.waitFor(/Chats/);
  return key;
}

/** Logs in from the welcome menu. */
async function logIn(c: TmuxClient, username: string, password: string): Promise<void> {
  await c.prompt("pesuchat ·");
  await c.keys("Enter");
  await c.prompt("Username");
  await c.line(username);
  await c.prompt("Password");
  await c.line(password);
}

/** The 60 digits of the safety number the chat screen shows after /verify. */
function safetyDigits(screen: string): string {
  const rows = screen.split("\n").filter((l) => /^·\s+(\d{5}\s+){3}\d{5}$/.test(l.trim()));
  return rows.slice(-3).join("").replace(/\D/g, "");
}

/** The last row of the screen: the chat screen's input line. */
async function inputRow(c: TmuxClient): Promise<string> {
  const rows = await c.rows();
  return rows.filter((r) => r.length > 0).at(-1) ?? "";
}

/** The private keys in an account's local store, opened with the password as the client does. */
async function accountSecrets(path: string, password: string): Promise<Uint8Array[]> {
  const store = LocalStore.open(path);
  try {
    const kdf = JSON.parse(store.getMetaText("kdf")!) as KdfParams;
    const keys = await derivePasswordKeys(password, store.getMeta("salt")!, kdf);
    store.unlock(await AccountKey.unwrap(keys.masterKey, store.getMeta("wrapped_account_key")!));
    const identity = (await store.getSecret("identity"))!;
    const device = (await store.getSecret("device_key"))!;
    // version ‖ Ed25519 seed ‖ X25519 private key, then the device's X25519 private key.
    return [identity.subarray(1, 33), identity.subarray(33, 65), device];
  } finally {
    store.close();
  }
}

Deno.test("connect: two people trust the server, sign up, chat, verify, log out and in, restore, under tmux", async () => {
  const t = await startTestServer("sqlite");
  const server = `127.0.0.1:${t.port}`;
  const serverId = serverIdOfFingerprint(t.server.fingerprint);
  const alicePath = await tempDir();
  const bobPath = await tempDir();
  const bobElsewherePath = await tempDir();
  let bobElsewhere: TmuxClient | undefined;
  const alice = await TmuxClient.start({
    args: ["connect", server, "--profile", alicePath],
  });
  const bob = await TmuxClient.start({
    args: ["connect", server, "--profile", bobPath, "--trust", t.server.fingerprint],
  });
  const texts = [
    "hello bob",
    "second message",
    "hi alice",
    "interrupting you",
    "this is half and the rest",
  ];
  try {
    // First contact: the fingerprint shown is the server's; yes writes known_hosts.
    const first = await alice.waitFor("Trust this server and remember its key?");
    assert.ok(first.includes(t.server.fingerprint), first);
    assert.ok(first.includes(join(alicePath, "known_hosts")), first);
    await alice.keys("y");
    await alice.waitFor("Log in");
    const known = (await Deno.readTextFile(join(alicePath, "known_hosts"))).trim().split(/\s+/);
    assert.equal(known[0], server);
    assert.equal(await fingerprint(fromBase64(known[2]!)), t.server.fingerprint);
    // --trust pins the key without asking.
    await bob.waitFor("Log in");
    assert.doesNotMatch(await bob.screen(), /Trust this server/);

    // Sign-up refuses a weak password with the reason, then takes a good one.
    await alice.keys("Down", "Enter");
    await alice.prompt("Full name");
    await alice.line("Alice A");
    await alice.prompt("Email (optional");
    await alice.line("not-an-address");
    await alice.waitFor("does not look like an email address");
    await alice.keys("C-u", "Enter");
    await alice.prompt("Username (3-32 characters: letters a-z, digits and _");
    await alice.line("alice");
    // Every rule is said before anything is typed, the username one included.
    await alice.prompt("Password (at least 10 characters, 5 of them different");
    await alice.waitFor(/not containing\s+"alice",\s+not starting\s+"password"/);
    await alice.line("short");
    await alice.waitFor("too weak: use at least 10 characters");
    assert.doesNotMatch(await alice.screen(), /short/, "the password is hidden");
    await alice.keys("C-u");
    await alice.line(PW_ALICE);
    await alice.prompt("Password again");
    await alice.line(PW_ALICE);
    await alice.waitFor("under a recovery key shown to you once");
    await alice.prompt("Keep an encrypted backup on the server?");
    await alice.keys("Enter"); // no backup
    await alice.waitFor("Chats (none yet");
    const bobKey = await signUp(bob, {
      fullName: "Bob B",
      email: "bob@example.org",
      username: "bob",
      password: PW_BOB,
      backup: true,
    });
    assert.match(bobKey!, /^([0-9a-f]{4} ){15}[0-9a-f]{4}$/);

    // New chat: a clear message for a user who does not exist, then a chat with bob.
    await alice.keys("Enter");
    await alice.prompt("Chat with (username)");
    await alice.line("nobody");
    await alice.waitFor("pesuchat: there is no user nobody on this server");
    await alice.keys("Enter");
    await alice.prompt("Chat with (username)");
    await alice.line("bob");
    await alice.waitFor("this is the start of your chat with bob");
    assert.match(await alice.screen(), /Bob B \(bob\) · connected to the server/);
    await alice.line(texts[0]!);
    await alice.waitFor(/you: hello bob {2}(✓|…)/);

    // Bob's list shows the unread count, and it moves while the list is shown.
    await bob.waitFor(/Alice A \(alice\)\s+\d\d:\d\d\s+1 unread\s+hello bob/);
    await alice.line(texts[1]!);
    await bob.waitFor(/Alice A \(alice\)\s+\d\d:\d\d\s+2 unread\s+second message/);

    // Opening the chat shows the history and marks it read; Alice sees the read receipts.
    await bob.keys("Enter");
    await bob.waitFor(/alice: hello bob\n.*alice: second message/);
    await alice.waitFor(/you: hello bob {2}✓✓ read\n.*you: second message {2}✓✓ read/);
    await bob.line(texts[2]!);
    await alice.waitFor("bob: hi alice");
    await bob.waitFor(/you: hi alice {2}✓✓ read/);

    // A message arrives while Bob is half-way through a line: the half line survives.
    await bob.type("this is half");
    await bob.waitFor("> this is half");
    await alice.line(texts[3]!);
    await bob.waitFor("alice: interrupting you");
    assert.equal(await inputRow(bob), "> this is half");
    await bob.type(" and the rest");
    await bob.keys("Enter");
    await alice.waitFor("bob: this is half and the rest");
    await bob.waitFor(/you: this is half and the rest {2}✓✓ read/);

    // /verify shows the same 60 digits on both sides; Alice marks Bob verified.
    await alice.line("/verify");
    await bob.line("/verify");
    const aliceSees = safetyDigits(await alice.waitFor("mark bob verified [y/N]"));
    const bobSees = safetyDigits(await bob.waitFor("mark alice verified [y/N]"));
    assert.equal(aliceSees.length, 60);
    assert.equal(aliceSees, bobSees);
    await alice.line("y");
    await alice.waitFor("bob is marked verified");
    await alice.waitFor(/Bob B \(bob\) · verified · connected to the server/);
    await bob.line("n");
    await bob.waitFor("alice was not marked verified");

    // Log out and back in: a wrong password is one line and back to the menu; history stays.
    await bob.line("/back");
    await bob.waitFor(/Alice A \(alice\)\s+\d\d:\d\d\s+you: this is half and the rest/);
    await bob.keys("Down", "Down", "Enter");
    await bob.waitFor("Log out");
    // Bob backs up: verify, password, back up now, backups off, then log out.
    await bob.keys("Down", "Down", "Down", "Down", "Enter");
    await bob.waitFor("logged out");
    await logIn(bob, "bob", "not the password");
    const refused = await bob.waitFor("pesuchat: wrong username or password");
    assert.doesNotMatch(refused, /\bat .*\.ts:\d+|Error:/, "no stack trace");
    await bob.waitFor(/wrong username or password[^]*Log in/);
    await logIn(bob, "bob", PW_BOB);
    await bob.waitFor(/Alice A \(alice\)\s+\d\d:\d\d\s+you: this is half and the rest/);
    await bob.keys("Enter");
    await bob.waitFor(/alice: hello bob\n.*alice: second message\n.*you: hi alice/);

    await bob.line("/quit");
    await alice.keys("C-c");
    assert.equal(await bob.exitCode(), 0);
    assert.equal(await alice.exitCode(), 0);

    // On another computer (an empty profile) logging in offers the server's backup.
    bobElsewhere = await TmuxClient.start({
      args: ["connect", server, "--profile", bobElsewherePath, "--trust", t.server.fingerprint],
    });
    await logIn(bobElsewhere, "bob", PW_BOB);
    await bobElsewhere.waitFor("Restore the backup from the server?");
    await bobElsewhere.keys("y");
    // A key that is not Bob's is refused and asked again; his own opens the backup.
    await bobElsewhere.prompt("Recovery key");
    await bobElsewhere.line("0123 ".repeat(16).trim());
    await bobElsewhere.waitFor("pesuchat: that recovery key does not open this backup");
    await bobElsewhere.prompt("Recovery key");
    await bobElsewhere.line(bobKey!);
    await bobElsewhere.waitFor("restored your chats from the backup");
    await bobElsewhere.waitFor(/Alice A \(alice\)\s+\d\d:\d\d\s+you: this is half and the rest/);
    await bobElsewhere.keys("Enter");
    await bobElsewhere.waitFor(/alice: hello bob\n.*alice: second message\n.*you: hi alice/);
    await bobElsewhere.line("/quit");
    assert.equal(await bobElsewhere.exitCode(), 0);
  } finally {
    await alice.stop();
    await bob.stop();
    await bobElsewhere?.stop();
    await t.stop();
  }

  // Nothing readable in either profile: no message text, no password, no private key.
  const files = new Map(
    (await Promise.all([alicePath, bobPath, bobElsewherePath].map(filesUnder))).flatMap((m) => [
      ...m,
    ]),
  );
  assert.ok(files.size >= 3, [...files.keys()].join(", "));
  const secrets = [
    ...await accountSecrets(new Profile(alicePath).accountStore(serverId, "alice"), PW_ALICE),
    ...await accountSecrets(new Profile(bobPath).accountStore(serverId, "bob"), PW_BOB),
    ...await accountSecrets(new Profile(bobElsewherePath).accountStore(serverId, "bob"), PW_BOB),
  ];
  assert.deepEqual(secrets.map((s) => s.length), Array(9).fill(32));
  const enc = new TextEncoder();
  // The search reads the right bytes: routing facts such as usernames are stored in the clear.
  assert.ok([...files.values()].some((b) => contains(b, enc.encode("alice"))));
  const needles: [string, Uint8Array][] = [
    ...[...texts, PW_ALICE, PW_BOB, "Alice A", "Bob B"].map((s) =>
      [JSON.stringify(s), enc.encode(s)] as [string, Uint8Array]
    ),
    ...secrets.map((s, i) => [`private key ${i}`, s] as [string, Uint8Array]),
  ];
  for (const [path, bytes] of files) {
    for (const [what, needle] of needles) {
      assert.ok(!contains(bytes, needle), `${what} is readable in ${path}`);
    }
  }
});
