import assert from "node:assert/strict";
import { startTestServer } from "./support/server.ts";
import { TmuxClient } from "./support/tmux.ts";

const OLD_PW = "first password 1";
const NEW_PW = "second password 2";

/** Opens Settings from the chat list (no conversations: New chat, Settings, Quit). */
async function openSettings(c: TmuxClient, item: number): Promise<void> {
  await c.waitFor("+ New chat");
  await c.keys("Down", "Enter");
  await c.waitFor("Delete account");
  for (let i = 0; i < item; i++) await c.keys("Down");
  await c.keys("Enter");
}

async function logIn(c: TmuxClient, password: string): Promise<void> {
  await c.prompt("pesuchat ·");
  await c.keys("Enter");
  await c.prompt("Username");
  await c.line("carol");
  await c.prompt("Password");
  await c.line(password);
}

Deno.test("connect: settings turn backups on and off, change the password and delete the account", async () => {
  const t = await startTestServer("sqlite");
  const profile = await Deno.makeTempDir({ prefix: "pesuchat_tui_" });
  const c = await TmuxClient.start({
    args: ["connect", `127.0.0.1:${t.port}`, "--profile", profile, "--trust", t.server.fingerprint],
  });
  try {
    await c.waitFor("Sign up");
    await c.keys("Down", "Enter");
    for (
      const [prompt, answer] of [
        ["Full name", "Carol C"],
        ["Email (optional", "carol@example.org"],
        ["Username (3-32", "carol"],
        ["Password (at least", OLD_PW],
        ["Password again", OLD_PW],
      ]
    ) {
      await c.prompt(prompt!);
      await c.line(answer!);
    }
    await c.prompt("Keep an encrypted backup");
    await c.keys("Enter"); // no backup at sign-up
    await c.waitFor("signed up as carol");
    const carol = (await t.store.userByName("carol"))!;
    assert.equal(await t.store.getBackup(carol.id), null, "no backup without opting in");

    // Settings items with backups off: 0 verify, 1 change password, 2 turn backups on,
    // 3 log out, 4 delete account. Turning them on says the trade-off and shows the key once.
    await openSettings(c, 2);
    await c.waitFor("under a recovery key shown to you once");
    await c.prompt("Keep an encrypted backup on the server?");
    await c.keys("y");
    await c.waitFor(/Your recovery key[^]*([0-9a-f]{4} {2}){3}[0-9a-f]{4}/);
    await c.prompt("Have you written the recovery key down?");
    await c.keys("y");
    await c.waitFor("backups are on; the first one is uploaded");
    assert.ok((await t.store.getBackup(carol.id))!.blob.length > 0);
    // With backups on, item 3 turns them off again, and the server's copy goes.
    await openSettings(c, 3);
    await c.prompt("Turn backups off and delete the server's copy?");
    await c.keys("y");
    await c.waitFor("backups are off; the server's copy is deleted");
    assert.equal(await t.store.getBackup(carol.id), null);

    // A wrong current password is refused in one line; then the change goes through.
    await openSettings(c, 1);
    await c.prompt("Current password");
    await c.line("not my password");
    await c.prompt("New password (at least");
    await c.line(NEW_PW);
    await c.prompt("New password again");
    await c.line(NEW_PW);
    await c.waitFor("pesuchat: the current password is wrong");
    await openSettings(c, 1);
    await c.prompt("Current password");
    await c.line(OLD_PW);
    await c.prompt("New password (at least");
    await c.line(NEW_PW);
    await c.prompt("New password again");
    await c.line(NEW_PW);
    await c.waitFor("password changed; use the new one from now on");

    // The old password no longer opens the account; the new one does.
    await openSettings(c, 3);
    await c.waitFor("logged out");
    await logIn(c, OLD_PW);
    await c.waitFor("pesuchat: wrong username or password");
    await logIn(c, NEW_PW);
    await c.waitFor("+ New chat");

    // Deleting asks first, then for the password; afterwards the account is gone.
    await openSettings(c, 4);
    await c.waitFor("this cannot be undone");
    await c.waitFor("Delete the account carol for good?");
    await c.keys("y");
    await c.prompt("Password, to confirm");
    await c.line(NEW_PW);
    await c.waitFor("the account is deleted");
    assert.equal(await t.store.userByName("carol"), null);
    await logIn(c, NEW_PW);
    await c.waitFor(/wrong username or password[^]*Log in/);
    await c.keys("Down", "Down", "Enter");
    assert.equal(await c.exitCode(), 0);
  } finally {
    await c.stop();
    await t.stop();
  }
});
