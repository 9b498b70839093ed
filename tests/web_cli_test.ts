import assert from "node:assert/strict";
import { join } from "node:path";
import { ChatClient } from "../client/chat.ts";
import { Profile } from "../client/profile.ts";
import { UsageError } from "../client/tui/problems.ts";
import { parseWebArgs } from "../client/web/cli.ts";
import { launchBrowser, openPage, PAGE_TIMEOUT_MS, signUpInPage } from "./support/browser.ts";
import { eventually } from "./support/chat.ts";
import { freePort, PesuchatProcess, setupUnattended } from "./support/process.ts";

Deno.test("parseWebArgs() reads the server, --profile, --port, --no-open and --trust", () => {
  const fp = "SHA256:" + "A".repeat(43);
  assert.deepEqual(
    parseWebArgs([
      "h.example:7400",
      "--profile",
      "/p",
      "--port",
      "8080",
      "--no-open",
      "--trust",
      fp,
    ]),
    { help: false, server: "h.example:7400", profile: "/p", trust: fp, port: 8080, open: false },
  );
  assert.deepEqual(parseWebArgs([]), {
    help: false,
    server: "",
    profile: undefined,
    trust: undefined,
    port: 0,
    open: true,
  });
  assert.equal(parseWebArgs(["--port", "65535"]).port, 65535);
  assert.throws(() => parseWebArgs(["--port", "65536"]), UsageError);
  assert.throws(() => parseWebArgs(["--port", "-1"]), UsageError);
  assert.throws(() => parseWebArgs(["--port", "web"]), UsageError);
  assert.throws(() => parseWebArgs(["--port", ""]), UsageError);
  assert.throws(() => parseWebArgs(["nohost"]), UsageError);
  assert.throws(() => parseWebArgs(["a:1", "b:2"]), UsageError);
  assert.throws(() => parseWebArgs(["--trust", "abc"]), UsageError);
  assert.throws(() => parseWebArgs(["--listen", "0.0.0.0"]), UsageError);
});

Deno.test({
  name: "pesuchat web as a process: sends while the server is down, delivers when it is back",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "pesuchat_web_cli_" });
    const dir = join(tmp, "srv");
    const port = freePort();
    const setup = await setupUnattended(dir, port);
    assert.equal(setup.code, 0, setup.output);
    const fp = setup.output.match(/fingerprint: (SHA256:\S+)/)![1]!;
    const runServer = async () => {
      const s = new PesuchatProcess(["server", "run", "--dir", dir]);
      await s.waitFor(/listening addr=127\.0\.0\.1:\d+/);
      return s;
    };
    let server = await runServer();
    const bob = await ChatClient.connect({
      hostname: "127.0.0.1",
      port,
      profile: new Profile(join(tmp, "bob")),
      trust: fp,
    });
    await bob.signup({ fullName: "Bob B", username: "bob", password: "battery staple 2" });
    const bobGot: string[] = [];
    bob.on("message", (m) => !m.outgoing && bobGot.push(m.text));

    const web = new PesuchatProcess([
      "web",
      `127.0.0.1:${port}`,
      "--profile",
      join(tmp, "alice"),
      "--no-open",
      "--trust",
      fp,
    ]);
    const browser = await launchBrowser();
    const timer = setTimeout(() => browser.close(), 8 * PAGE_TIMEOUT_MS);
    try {
      const line = await web.waitFor(/pesuchat web: open /);
      const url = line.match(/open (http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43})$/)?.[1];
      assert.ok(url, line);
      const page = await openPage(browser, url);
      // --trust pinned the key: no question, straight to the forms.
      await signUpInPage(page, {
        fullName: "Alice A",
        username: "alice",
        password: "correct horse 1",
      });
      await page.getByLabel("New chat with (username)").fill("bob");
      await page.getByRole("button", { name: "Start chat" }).click();
      const input = page.getByRole("textbox", { name: "Message" });
      await input.fill("before the outage");
      await input.press("Enter");
      await page.locator(".msg.out .mark", { hasText: "✓✓" }).waitFor();

      // The server goes away: the page says so, and a message waits with "…".
      server.kill("SIGTERM");
      assert.equal((await server.done).code, 0);
      await page.locator(".status.reconnecting, .status.offline").first().waitFor();
      await input.fill("sent while the server was down");
      await input.press("Enter");
      const waiting = page.locator(".msg.out", { hasText: "sent while the server was down" });
      await waiting.locator(".mark", { hasText: "…" }).waitFor();

      // It comes back: the client reconnects by itself and the message goes out and arrives.
      server = await runServer();
      await page.locator(".status.online").waitFor({ timeout: 60_000 });
      await waiting.locator(".mark", { hasText: /^✓✓$/ }).waitFor({ timeout: 60_000 });
      await eventually(
        () => bobGot.includes("sent while the server was down"),
        "bob receives the message sent while the server was down",
        60_000,
      );
      assert.deepEqual(bobGot, ["before the outage", "sent while the server was down"]);

      web.kill("SIGTERM");
      assert.equal((await web.done).code, 0, web.output);
      assert.match(web.output, /stopping/);
    } finally {
      clearTimeout(timer);
      web.kill("SIGKILL");
      await web.done;
      await bob.close();
      server.kill("SIGTERM");
      await server.done;
      await browser.close().catch(() => {});
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  },
});
