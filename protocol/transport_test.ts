import assert from "node:assert/strict";
import { X25519KeyPair } from "../crypto/mod.ts";
import { ProtocolError } from "./errors.ts";
import { frame, preamble, writeAll } from "./framing.ts";
import { MAX_FRAME_PLAINTEXT, MAX_RECORD_BYTES_PRELOGIN } from "./limits.ts";
import { clientHandshake, type SecureChannel, serverHandshake } from "./transport.ts";

/** A server on a real TCP port that runs the handshake and hands each channel to `onChannel`. */
async function withServer(
  onChannel: (ch: SecureChannel) => Promise<void>,
  body: (port: number, serverKey: X25519KeyPair, errors: unknown[]) => Promise<void>,
): Promise<void> {
  const serverKey = await X25519KeyPair.generate();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const errors: unknown[] = [];
  const tasks: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      tasks.push((async () => {
        try {
          const ch = await serverHandshake(conn, {
            staticKey: serverKey,
            payload: new TextEncoder().encode("hello"),
            maxRecordBytes: MAX_RECORD_BYTES_PRELOGIN,
          });
          await onChannel(ch);
        } catch (e) {
          errors.push(e);
          try {
            conn.close();
          } catch { /* closed */ }
        }
      })());
    }
  })();
  try {
    await body(listener.addr.port, serverKey, errors);
  } finally {
    listener.close();
    await accepting;
    await Promise.all(tasks);
  }
}

async function echo(ch: SecureChannel): Promise<void> {
  for (;;) {
    const r = await ch.receive();
    if (r === null) return;
    ch.send(r);
  }
}

async function connect(port: number, verify?: (k: Uint8Array) => void) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  return clientHandshake(conn, {
    staticKey: await X25519KeyPair.generate(),
    verifyServerKey: verify,
  });
}

Deno.test("clientHandshake() and serverHandshake() agree and records echo over TCP", async () => {
  await withServer(echo, async (port, serverKey) => {
    let seen: Uint8Array | null = null;
    const { channel, serverPayload } = await connect(port, (k) => {
      seen = k;
    });
    assert.deepEqual(seen, serverKey.publicKey);
    assert.equal(new TextDecoder().decode(serverPayload), "hello");
    const sizes = [1, 100, MAX_FRAME_PLAINTEXT - 4, MAX_FRAME_PLAINTEXT, 200_000];
    const sent = sizes.map((n) =>
      crypto.getRandomValues(new Uint8Array(Math.min(n, 65536))).slice(0, n)
    );
    for (const s of sent) channel.send(s.length === 200_000 ? new Uint8Array(200_000).fill(7) : s);
    for (const s of sent) {
      const r = await channel.receive();
      assert.deepEqual(r, s.length === 200_000 ? new Uint8Array(200_000).fill(7) : s);
    }
    channel.close();
  });
});

Deno.test("SecureChannel coalesces many queued records and keeps their order", async () => {
  await withServer(echo, async (port) => {
    const { channel } = await connect(port);
    const n = 5000;
    for (let i = 0; i < n; i++) channel.send(new TextEncoder().encode(`message ${i}`));
    for (let i = 0; i < n; i++) {
      assert.equal(new TextDecoder().decode((await channel.receive())!), `message ${i}`);
    }
    channel.close();
  });
});

Deno.test("SecureChannel splits a record's length header across frames at every offset", async () => {
  await withServer(echo, async (port) => {
    const { channel } = await connect(port);
    // The first frame ends k bytes into the second record's header (k = 0…4), and an empty record
    // follows: the header is rebuilt from the bytes of two frames.
    for (let k = 0; k <= 4; k++) {
      const big = crypto.getRandomValues(new Uint8Array(MAX_FRAME_PLAINTEXT - 4 - k));
      const sent = [big, new Uint8Array([k, 1, 2]), new Uint8Array(0), new Uint8Array([k])];
      for (const r of sent) channel.send(r);
      for (const r of sent) assert.deepEqual(await channel.receive(), r);
    }
    channel.close();
  });
});

Deno.test("verifyServerKey() that throws aborts before the client reveals its key", async () => {
  await withServer(echo, async (port, _key, errors) => {
    await assert.rejects(() =>
      connect(port, () => {
        throw new Error("untrusted");
      }), /untrusted/);
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(errors.length >= 1, "the server saw the handshake fail");
  });
});

Deno.test("SecureChannel.receive() accepts a record of maxRecordBytes and refuses N+1", async () => {
  let serverErr: unknown = null;
  let firstLength = -1;
  await withServer(async (ch) => {
    try {
      firstLength = (await ch.receive())!.length;
      await ch.receive();
    } catch (e) {
      serverErr = e;
      // Reading stopped; writing still works until the caller closes.
      assert.equal(ch.closed, false);
      await ch.end();
    }
  }, async (port) => {
    const { channel } = await connect(port);
    channel.send(new Uint8Array(MAX_RECORD_BYTES_PRELOGIN));
    channel.send(new Uint8Array(MAX_RECORD_BYTES_PRELOGIN + 1));
    // The server may close as soon as it reads the record's length, before the rest is written.
    await channel.flush().catch(() => {});
    assert.equal(await channel.receive(), null);
  });
  assert.equal(firstLength, MAX_RECORD_BYTES_PRELOGIN);
  assert.ok(serverErr instanceof ProtocolError && serverErr.code === "record_too_large");
});

Deno.test("serverHandshake() refuses foreign bytes, a wrong version and garbage after the handshake", async () => {
  await withServer(echo, async (port, _key, errors) => {
    // Not pesuchat at all.
    const a = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(a, new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"));
    assert.equal(await a.read(new Uint8Array(16)), null);
    a.close();
    // A future version: the server answers its own preamble, then closes.
    const b = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(b, preamble(99));
    const got = new Uint8Array(10);
    let n = 0;
    while (n < 10) {
      const k = await b.read(got.subarray(n));
      if (k === null) break;
      n += k;
    }
    assert.deepEqual(got, preamble());
    b.close();
    // A finished handshake followed by a frame that fails authentication.
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    const { channel } = await clientHandshake(c, { staticKey: await X25519KeyPair.generate() });
    await writeAll(c, frame(crypto.getRandomValues(new Uint8Array(64))));
    assert.equal(await channel.receive(), null, "the server closed the connection");
    await new Promise((r) => setTimeout(r, 50));
    const codes = errors.map((e) => (e as ProtocolError).code);
    assert.ok(codes.includes("bad_preamble"), `codes: ${codes}`);
    assert.ok(codes.includes("version_mismatch"), `codes: ${codes}`);
    assert.ok(codes.includes("bad_message"), `codes: ${codes}`);
  });
});
