/**
 * Debian's Chromium, headless, driven by playwright-core, and the web interface of a chat client
 * in this process, for the browser tests. Nothing is downloaded at run time: the browser is
 * /usr/bin/chromium (`.ci/run` installs it), and its background connections to the internet are
 * turned off so the closed network cannot stall it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { type Browser, chromium, type Page } from "playwright-core";
import { WebApp } from "../../client/web/app.ts";
import { WebServer } from "../../client/web/http.ts";
import type { Profile } from "../../client/profile.ts";
import { tempProfile } from "./chat.ts";
import { startTestServer, type TestServer } from "./server.ts";
import { timeLimited } from "./sessions.ts";

/** Where Debian puts Chromium. */
export const CHROMIUM = "/usr/bin/chromium";
/** How long a page may take to show what a test waits for (generous: the machine is shared). */
export const PAGE_TIMEOUT_MS = 30_000;

/** Starts headless Chromium with a fresh profile and no background networking. */
export async function launchBrowser(): Promise<Browser> {
  return await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Playwright gives each launch a fresh, empty user-data-dir of its own.
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}

/** A web interface served from this process for a fresh (or given) profile. */
export interface TestWeb {
  app: WebApp;
  http: WebServer;
  profile: Profile;
  /** The one-time address. */
  url: string;
  close(): Promise<void>;
}

/** Starts `pesuchat web` in-process against `t` (the server address given, as on the command line). */
export async function startWeb(t: TestServer | null, profile?: Profile): Promise<TestWeb> {
  const p = profile ?? await tempProfile();
  await p.ensure();
  const app = new WebApp({ server: t ? `127.0.0.1:${t.port}` : "", profile: p });
  const http = WebServer.start(app, 0);
  app.start();
  return {
    app,
    http,
    profile: p,
    url: http.url,
    async close() {
      await app.close();
      await http.close();
    },
  };
}

/** A page in a fresh browser context (its own cookies), with the web interface opened. */
export async function openPage(browser: Browser, url: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 390, height: 780 } });
  const page = await context.newPage();
  page.setDefaultTimeout(PAGE_TIMEOUT_MS);
  await page.goto(url);
  return page;
}

/**
 * Signs up through the page's form; with `backup`, writes the recovery key "down" (returns it)
 * and says so.
 */
export async function signUpInPage(
  page: Page,
  o: { fullName: string; username: string; password: string; backup?: boolean },
): Promise<string | null> {
  const form = page.getByRole("form", { name: "Sign up" });
  await form.getByLabel("Full name").fill(o.fullName);
  await form.locator("input[name=username]").fill(o.username);
  await form.locator("input[name=password]").fill(o.password);
  await form.getByLabel("Password again").fill(o.password);
  if (o.backup) await form.getByLabel("Keep an encrypted backup on the server?").check();
  await form.getByRole("button", { name: "Sign up" }).click();
  const key = o.backup ? await writeDownRecoveryKey(page) : null;
  await page.getByRole("heading", { name: "Chats", exact: true }).waitFor();
  return key;
}

/** Reads the recovery key the page shows once, and says it is written down. */
export async function writeDownRecoveryKey(page: Page): Promise<string> {
  await page.getByRole("heading", { name: "Your recovery key" }).waitFor();
  const key = (await page.locator(".recovery-key").textContent())!.replace(/\s+/g, " ").trim();
  await page.getByRole("button", { name: "Yes, it is written down" }).click();
  return key;
}

/** Trusts the server at the first-contact question (after checking it shows `fingerprint`). */
export async function trustInPage(page: Page, fingerprint: string): Promise<void> {
  await page.getByText(fingerprint).waitFor();
  await page.getByRole("button", { name: "Trust", exact: true }).click();
  await page.getByRole("form", { name: "Log in" }).waitFor();
}

/**
 * A browser test: a fresh server on SQLite and a fresh Chromium for `fn`, both stopped after it,
 * and a time limit so a bug fails the test instead of hanging it.
 */
export function browserTest(
  name: string,
  fn: (t: TestServer, browser: Browser) => Promise<void>,
  limitMs = 8 * PAGE_TIMEOUT_MS,
): void {
  Deno.test({
    name,
    // Playwright keeps its pipe to the browser and a few timers beyond one test.
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () =>
      timeLimited(limitMs, async () => {
        const t = await startTestServer("sqlite");
        const browser = await launchBrowser();
        try {
          await fn(t, browser);
        } finally {
          await browser.close().catch(() => {});
          await t.stop();
        }
      }),
  });
}

/**
 * Checks what a keyboard or screen-reader user and a phone need on the current screen: every
 * field and button has a name a screen reader reads, every control can take the focus, and
 * nothing is wider than the window. Returns the names, for the caller's own checks.
 */
export async function assertUsable(page: Page): Promise<string[]> {
  // Evaluated in the page (a string, since this file is checked without the DOM's types).
  const r = await page.evaluate(`(() => {
    const controls = [...document.querySelectorAll("#app input, #app textarea, #app button")];
    const nameOf = (el) =>
      el.getAttribute("aria-label") ||
      [...(el.labels ?? [])].map((l) => l.textContent).join(" ").trim() ||
      el.textContent.trim();
    return {
      unnamed: controls.filter((el) => !nameOf(el)).map((el) => el.outerHTML),
      unfocusable: controls.filter((el) => el.tabIndex < 0).map((el) => el.outerHTML),
      names: controls.map(nameOf),
      tooWide: document.documentElement.scrollWidth > document.documentElement.clientWidth,
      sizes: [document.documentElement.scrollWidth, document.documentElement.clientWidth, window.innerWidth],
      // Screen-reader-only text is 1 pixel wide and clipped on purpose.
      wide: [...document.querySelectorAll("#app *:not(.sr-only)")]
        .filter((el) =>
          el.getBoundingClientRect().right > document.documentElement.clientWidth + 1 ||
          el.scrollWidth > el.clientWidth + 1
        )
        .map((el) => el.outerHTML.slice(0, 120)),
    };
  })()`) as {
    unnamed: string[];
    unfocusable: string[];
    names: string[];
    tooWide: boolean;
    wide: string[];
    sizes: number[];
  };
  assert.deepEqual(r.unnamed, [], "controls without a name a screen reader can read");
  assert.deepEqual(r.unfocusable, [], "controls the keyboard cannot reach");
  assert.deepEqual(
    { tooWide: r.tooWide, wide: r.wide, sizes: r.sizes },
    { tooWide: false, wide: [], sizes: r.sizes },
    "the screen is wider than a phone's window",
  );
  return r.names;
}
