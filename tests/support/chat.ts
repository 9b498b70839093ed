/**
 * Chat clients for end-to-end tests: the real chat core, each with its own profile folder,
 * talking to a real server over TCP.
 *
 * @module
 */

import { ChatClient } from "../../client/chat.ts";
import { Profile } from "../../client/profile.ts";
import type { StoredMessage } from "../../client/local_store.ts";
import type { TestServer } from "./server.ts";

/** A connected chat client that collects what it receives. */
export interface TestChat {
  client: ChatClient;
  profile: Profile;
  received: StoredMessage[];
  problems: string[];
  /** The chat lines about sessions ("notice" events), as "peer: text". */
  notices: string[];
  /** Waits until `n` messages have been received (or throws after `timeoutMs`). */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
}

/** A fresh profile folder. */
export async function tempProfile(): Promise<Profile> {
  return new Profile(await Deno.makeTempDir({ prefix: "pesuchat_profile_" }));
}

/** Connects a chat client to `t` (a test server or a cluster node), trusting its key, on `clock`. */
export async function connectChat(
  t: Pick<TestServer, "port"> & { server: { fingerprint: string } },
  profile?: Profile,
  clock?: () => number,
): Promise<TestChat> {
  const p = profile ?? await tempProfile();
  const client = await ChatClient.connect({
    hostname: "127.0.0.1",
    port: t.port,
    profile: p,
    trust: t.server.fingerprint,
    ...(clock ? { clock } : {}),
  });
  const received: StoredMessage[] = [];
  const problems: string[] = [];
  const notices: string[] = [];
  client.on("notice", (peer, text) => notices.push(`${peer}: ${text}`));
  client.on("message", (m) => {
    if (!m.outgoing) received.push(m);
  });
  client.on("problem", (m) => problems.push(m));
  return {
    client,
    profile: p,
    received,
    problems,
    notices,
    async waitFor(n, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < n) {
        if (Date.now() > deadline) {
          throw new Error(
            `expected ${n} messages, got ${received.length}; problems: ${problems.join("; ")}; ` +
              `notices: ${notices.join("; ")}`,
          );
        }
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}

/** Waits until `cond` holds, polling. */
export async function eventually(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A profile folder with an account on `t` (full name: the username in capitals). */
export async function accountProfile(
  t: TestServer,
  username: string,
  password: string,
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "pesuchat_cli_profile_" });
  const c = await connectChat(t, new Profile(dir));
  await c.client.signup({ fullName: username.toUpperCase(), username, password });
  await c.client.close();
  return dir;
}
