/**
 * Clients that misbehave on purpose against a real server on a real TCP port: one that never
 * reads its replies, one that sends a record over the limit or a forged frame, one that asks for
 * a request type the server does not know, one that never finishes its handshake.
 */
import assert from "node:assert/strict";
import net from "node:net";
import { randomBytes, X25519KeyPair } from "../crypto/mod.ts";
import { decodeServerMessage, encodeRequest } from "../protocol/codec.ts";
import type { ProtocolError } from "../protocol/errors.ts";
import { type ByteStream, frame, preamble, writeAll } from "../protocol/framing.ts";
import {
  HANDSHAKE_TIMEOUT_MS,
  MAX_BACKUP_BYTES,
  MAX_CONCURRENT_HANDSHAKES,
  MAX_HANDSHAKES_PER_ADDRESS,
  MAX_RECORD_BYTES_PRELOGIN,
  MAX_UNSENT_BYTES,
} from "../protocol/limits.ts";
import type { RequestOf, RequestType } from "../protocol/messages.ts";
import { clientHandshake, type SecureChannel } from "../protocol/transport.ts";
import { eventually } from "./support/chat.ts";
import { fakePrekeys, rawClient, signUp, startTestServer } from "./support/server.ts";

const TEST_LIMIT_MS = 90_000;

/** A TCP connection whose reading can be switched off: the peer then never reads again. */
class Deaf implements ByteStream {
  deaf = false;
  #stop = Promise.withResolvers<null>();
  constructor(readonly conn: Deno.TcpConn) {}
  read(p: Uint8Array): Promise<number | null> {
    return this.deaf ? this.#stop.promise : this.conn.read(p);
  }
  write(p: Uint8Array): Promise<number> {
    return this.conn.write(p);
  }
  close(): void {
    this.#stop.resolve(null);
    try {
      this.conn.close();
    } catch {
      // closed already
    }
  }
}

async function channelTo(port: number): Promise<{ channel: SecureChannel; stream: Deaf }> {
  const stream = new Deaf(await Deno.connect({ hostname: "127.0.0.1", port }));
  const { channel } = await clientHandshake(stream, { staticKey: await X25519KeyPair.generate() });
  return { channel, stream };
}

function request<T extends RequestType>(
  ch: SecureChannel,
  type: T,
  id: number,
  body: RequestOf<T>,
) {
  ch.send(encodeRequest(type, id, body));
}

async function next(ch: SecureChannel) {
  const r = await ch.receive();
  return r === null ? null : decodeServerMessage(r);
}

Deno.test({
  name: "a client that never reads its replies is not read either, and is closed once it stalls",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const stallMs = 3_000;
    const t = await startTestServer("sqlite", { writeStallMs: stallMs });
    const timer = setTimeout(() => {
      throw new Error("test time limit");
    }, TEST_LIMIT_MS);
    try {
      const { channel, stream } = await channelTo(t.port);
      request(channel, "signup", 1, {
        username: "hog",
        fullName: "Hog",
        authKey: randomBytes(32),
        salt: randomBytes(16),
        kdf: { memoryKiB: 65536, passes: 3, parallelism: 4 },
        identity: randomBytes(129),
        prekeys: fakePrekeys(),
      });
      assert.equal((await next(channel))?.kind, "ok");
      request(channel, "backup_put", 2, {
        blob: randomBytes(MAX_BACKUP_BYTES),
      });
      assert.equal((await next(channel))?.kind, "ok");
      // From here on the client never reads, and keeps asking for its 8 MiB backup: unbounded,
      // the server would hold 24 replies of about 11 MiB each.
      stream.deaf = true;
      const asked = 24;
      for (let id = 3; id < 3 + asked; id++) request(channel, "backup_get", id, {});
      await channel.flush().catch(() => {});
      let most = 0;
      await eventually(
        () => {
          most = Math.max(most, t.server.unsentBytes);
          return t.log.some((l) => /connection closed .*reason=not_reading/.test(l));
        },
        "the server closing the client that does not read",
        60_000,
      );
      assert.ok(most > 0, "replies were waiting for the client");
      assert.ok(
        most <= MAX_UNSENT_BYTES,
        `the server held ${most} bytes for one client, more than ${MAX_UNSENT_BYTES}`,
      );
      assert.equal(t.server.unsentBytes, 0, "nothing is held once it is closed");
      // Everyone else is served as before.
      const other = await rawClient(t.port);
      await signUp(other, "other");
      assert.deepEqual(await other.conn.request("ping", {}), {});
      other.conn.close();
      stream.close();
    } finally {
      clearTimeout(timer);
      await t.stop();
    }
  },
});

Deno.test("SecureChannel.send() closes a channel whose peer leaves more than maxUnsentBytes unread", async () => {
  const t = await startTestServer("sqlite");
  try {
    // Both records are queued in the same task, before the writer takes any: 4 + 996 = N bytes.
    const a = await channelTo(t.port);
    a.channel.maxUnsentBytes = 1000;
    a.channel.send(new Uint8Array(996));
    assert.equal(a.channel.closed, false, "N unsent bytes are accepted");
    const b = await channelTo(t.port);
    b.channel.maxUnsentBytes = 1000;
    b.channel.send(new Uint8Array(997));
    assert.equal(b.channel.closed, true, "N+1 unsent bytes close the channel");
    await assert.rejects(() => b.channel.receive(), (e: ProtocolError) => e.code === "not_reading");
    a.stream.close();
    const stream = b.stream;
    stream.close();
  } finally {
    await t.stop();
  }
});

Deno.test("an unknown request type is answered unknown_type and the connection stays open", async () => {
  const t = await startTestServer("sqlite");
  try {
    const { channel, stream } = await channelTo(t.port);
    channel.send(new TextEncoder().encode(JSON.stringify({ t: "frobnicate", id: 7 })));
    const m = await next(channel);
    assert.ok(m?.kind === "error", JSON.stringify(m));
    assert.equal(m.re, 7);
    assert.equal(m.code, "unknown_type");
    request(channel, "ping", 8, {});
    const pong = await next(channel);
    assert.ok(pong?.kind === "ok" && pong.re === 8, JSON.stringify(pong));
    stream.close();
  } finally {
    await t.stop();
  }
});

Deno.test("a record over the limit gets record_too_large after the replies already due, then the close", async () => {
  const t = await startTestServer("sqlite");
  try {
    const { channel, stream } = await channelTo(t.port);
    request(channel, "ping", 1, {});
    channel.send(new Uint8Array(MAX_RECORD_BYTES_PRELOGIN + 1));
    await channel.flush();
    const pong = await next(channel);
    assert.ok(pong?.kind === "ok" && pong.re === 1, JSON.stringify(pong));
    const err = await next(channel);
    assert.ok(err?.kind === "error" && err.code === "record_too_large", JSON.stringify(err));
    assert.equal(await channel.receive(), null, "then the server closes");
    stream.close();
  } finally {
    await t.stop();
  }
});

Deno.test("a frame that fails authentication gets bad_message after the replies already due, then the close", async () => {
  const t = await startTestServer("sqlite");
  try {
    const { channel, stream } = await channelTo(t.port);
    request(channel, "ping", 1, {});
    await channel.flush();
    await writeAll(stream.conn, frame(crypto.getRandomValues(new Uint8Array(64))));
    const pong = await next(channel);
    assert.ok(pong?.kind === "ok" && pong.re === 1, JSON.stringify(pong));
    const err = await next(channel);
    assert.ok(err?.kind === "error" && err.code === "bad_message", JSON.stringify(err));
    assert.equal(await channel.receive(), null, "then the server closes");
    stream.close();
  } finally {
    await t.stop();
  }
});

Deno.test({
  name: "a handshake that times out is logged as a timeout, never as EINTR",
  sanitizeOps: false,
  fn: async () => {
    const t = await startTestServer("sqlite");
    try {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: t.port });
      await writeAll(c, preamble());
      const buf = new Uint8Array(64);
      while ((await c.read(buf)) !== null) { /* until the server closes */ }
      c.close();
      await eventually(
        () => t.log.some((l) => l.includes("handshake timed out")),
        "the timeout logged",
        HANDSHAKE_TIMEOUT_MS * 3,
      );
      assert.ok(!t.log.some((l) => /EINTR|Interrupted/i.test(l)), t.log.join("\n"));
    } finally {
      await t.stop();
    }
  },
});

/** Opens a TCP connection from `localAddress` (any 127.0.0.0/8 address works on loopback). */
function connectFrom(localAddress: string, port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: "127.0.0.1", port, localAddress });
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

Deno.test({
  name: "half-open handshakes from a few addresses filling every slot do not lock out anyone else",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const t = await startTestServer("sqlite");
    const flood: net.Socket[] = [];
    try {
      const hosts = MAX_CONCURRENT_HANDSHAKES / MAX_HANDSHAKES_PER_ADDRESS;
      for (let h = 0; h < hosts; h++) {
        for (let i = 0; i < MAX_HANDSHAKES_PER_ADDRESS; i++) {
          const s = await connectFrom(`127.0.0.${h + 2}`, t.port);
          s.on("error", () => {});
          s.write(preamble());
          flood.push(s);
        }
      }
      // Every slot is taken: the flood's connections all got the server's preamble back.
      await eventually(
        () => flood.every((s) => s.bytesRead > 0),
        "the server answering every flooding connection",
      );
      // A newcomer from another address is let in at once, not after HANDSHAKE_TIMEOUT_MS.
      const newcomer = await rawClient(t.port);
      assert.deepEqual(await newcomer.conn.request("ping", {}), {});
      newcomer.conn.close();
      assert.ok(
        t.log.some((l) => l.includes("handshake evicted")),
        `the oldest half-open handshake of a flooding address made room:\n${t.log.join("\n")}`,
      );
      assert.ok(!t.log.some((l) => l.includes("connection refused")), t.log.join("\n"));
    } finally {
      for (const s of flood) s.destroy();
      await t.stop();
    }
  },
});

Deno.test("'bad message' and 'connection closed' are logged at most once a second, with a total", async () => {
  const t = await startTestServer("sqlite");
  try {
    const started = Date.now();
    const n = 40;
    for (let i = 0; i < n; i++) {
      const { channel, stream } = await channelTo(t.port);
      channel.send(new TextEncoder().encode("{not json"));
      assert.equal((await next(channel))?.kind, "error");
      assert.equal(await channel.receive(), null);
      // And one that sends a forged frame: 'connection closed'.
      const forged = await channelTo(t.port);
      await writeAll(forged.stream.conn, frame(crypto.getRandomValues(new Uint8Array(64))));
      await next(forged.channel).catch(() => {});
      stream.close();
      forged.stream.close();
    }
    const seconds = Math.ceil((Date.now() - started) / 1000);
    for (const event of ["bad message", "connection closed"]) {
      const lines = t.log.filter((l) => l.includes(`pesuchat: ${event} `));
      assert.ok(lines.length >= 1, `${event} is logged`);
      assert.ok(
        lines.length <= seconds + 1,
        `${lines.length} '${event}' lines in ${seconds} s for ${n} connections`,
      );
      assert.match(lines.at(-1)!, /total=\d+/);
    }
  } finally {
    await t.stop();
  }
});
