/**
 * Helpers for the session tests: accounts made through the chat core, the envelopes a server
 * queued (read straight from its database), and a time limit so a bug fails a test instead of
 * hanging it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MessageState } from "../../client/local_store.ts";
import { Profile } from "../../client/profile.ts";
import { envelopeHeader } from "../../crypto/mod.ts";
import type { QueuedMessage } from "../../sql/store.ts";
import { connectChat, eventually, type TestChat } from "./chat.ts";
import type { TestServer } from "./server.ts";

/** Runs `fn`, failing with a clear message when it takes longer than `ms`. */
export async function timeLimited<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the test took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([fn(), limit]);
  } finally {
    clearTimeout(timer);
  }
}

/** A profile folder with an account on `t`, made through the chat core and closed again. */
export async function accountProfile(
  t: TestServer,
  username: string,
  password: string,
): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "pesuchat_profile_" });
  const c = await connectChat(t, new Profile(dir));
  await c.client.signup({ fullName: username.toUpperCase(), username, password });
  await c.client.close();
  return dir;
}

/** Logs in to an account that has a profile folder already. */
export async function loginChat(
  t: TestServer,
  dir: string,
  username: string,
  password: string,
): Promise<TestChat> {
  const c: TestChat = await connectChat(t, new Profile(dir));
  await c.client.login({ username, password, restore: () => Promise.resolve(false) });
  return c;
}

/** Everything queued on the server for `username`, oldest first. */
export async function queuedFor(t: TestServer, username: string): Promise<QueuedMessage[]> {
  const user = await t.store.userByName(username);
  if (!user) throw new Error(`no user ${username}`);
  return await t.store.pending(user.id, 0, 1000);
}

/** The ratchet headers (ratchet key, counter) of `bodies` that occur more than once. */
export function repeatedHeaders(bodies: Uint8Array[]): string[] {
  const seen = new Set<string>();
  const repeated: string[] = [];
  for (const body of bodies) {
    const h = envelopeHeader(body);
    const key = `${h.ratchetKey.toHex()}/${h.counter}`;
    if (seen.has(key)) repeated.push(key);
    seen.add(key);
  }
  return repeated;
}

/**
 * Makes the server's store rewrite what it hands out from its queue (a recipient who logs in
 * drains it): `fn` returns the message to deliver, changed or not, or null to hold it back.
 * Returns a function that undoes it.
 */
export function interceptQueue(
  t: TestServer,
  fn: (m: QueuedMessage) => QueuedMessage | null,
): () => void {
  const store = t.store;
  const original = store.pending;
  store.pending = async (recipientId, afterQid, limit) => {
    const rows = await original.call(store, recipientId, afterQid, limit);
    const out: QueuedMessage[] = [];
    for (const m of rows) {
      const r = fn(m);
      if (r === null) break; // held back, and everything after it, so order is kept
      out.push(r);
    }
    return out;
  };
  return () => {
    store.pending = original;
  };
}

/** The server queues `body` for `to` as if `from` sent it again, under a new message id. */
export async function replay(
  t: TestServer,
  from: string,
  to: string,
  body: Uint8Array,
): Promise<void> {
  const [sender, recipient] = await Promise.all([
    t.store.userByName(from),
    t.store.userByName(to),
  ]);
  await t.store.enqueue([{
    recipientId: recipient!.id,
    senderId: sender!.id,
    senderName: from,
    mid: crypto.getRandomValues(new Uint8Array(16)),
    body,
    sentAt: Date.now(),
  }]);
}

/**
 * The end of a two-processes test: one more login as the sender sends what waits in the shared
 * outbox; then every text is queued once, no ratchet header repeats, and the recipient reads each.
 */
export async function assertSentOnceEach(
  t: TestServer,
  from: { dir: string; username: string; password: string },
  to: { dir: string; username: string; password: string },
  texts: string[],
): Promise<void> {
  const last = await loginChat(t, from.dir, from.username, from.password);
  await eventually(
    async () =>
      (await last.client.history(to.username, 100)).every((m) => m.state >= MessageState.sent),
    "every message on the server",
    60_000,
  );
  await last.client.close();
  // The server's committer makes messages visible in order, a moment after it acknowledged.
  let queued = await queuedFor(t, to.username);
  await eventually(
    async () => (queued = await queuedFor(t, to.username)).length >= texts.length,
    "all queued",
    60_000,
  );
  assert.equal(queued.length, texts.length, "each message queued once");
  assert.deepEqual(repeatedHeaders(queued.map((q) => q.body)), [], "no header repeats");
  const b = await loginChat(t, to.dir, to.username, to.password);
  await b.waitFor(texts.length, 60_000);
  assert.deepEqual(b.received.map((m) => m.text).sort(), [...texts].sort());
  assert.deepEqual(b.problems, []);
  await b.client.close();
}
