import assert from "node:assert/strict";
import { HandshakeState, type TransportState, X25519KeyPair } from "../crypto/mod.ts";
import { frame, FrameReader, preamble, writeAll } from "../protocol/framing.ts";
import { clientHandshake, prologue } from "../protocol/transport.ts";
import { DATABASE_KINDS } from "./support/databases.ts";
import { mid, rawClient, signUp, startTestServer } from "./support/server.ts";
import { eventually } from "./support/chat.ts";
import { MAX_HANDSHAKES_PER_ADDRESS } from "../protocol/limits.ts";

const te = new TextEncoder();

/** The client side of the handshake by hand, so the test can write any plaintext it likes. */
async function rawHandshake(conn: Deno.Conn): Promise<TransportState> {
  const ours = preamble();
  const hs = await HandshakeState.create({
    initiator: true,
    prologue: prologue(ours),
    staticKey: await X25519KeyPair.generate(),
  });
  const reader = new FrameReader(conn);
  await writeAll(
    conn,
    new Uint8Array([...ours, ...frame(await hs.writeMessage(new Uint8Array(0)))]),
  );
  await reader.readExact(ours.length);
  await hs.readMessage((await reader.next())!);
  await writeAll(conn, frame(await hs.writeMessage(new Uint8Array(0))));
  return hs.split();
}

/** Reads until the server closes; true when it did within the time. */
async function closedByServer(conn: Deno.Conn, timeoutMs = 15_000): Promise<boolean> {
  const buf = new Uint8Array(4096);
  const deadline = setTimeout(() => conn.close(), timeoutMs);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) return true;
    }
  } catch {
    return false;
  } finally {
    clearTimeout(deadline);
  }
}

for (const kind of DATABASE_KINDS) {
  Deno.test(`[${kind}] bad input is refused connection by connection while a good client keeps chatting`, async () => {
    const t = await startTestServer(kind);
    try {
      const a = await rawClient(t.port);
      const b = await rawClient(t.port);
      await signUp(a, "alice");
      await signUp(b, "bob");
      let sent = 0;
      let chatting = true;
      const chat = (async () => {
        while (chatting) {
          await a.conn.request("send", {
            to: "bob",
            mid: mid(),
            body: te.encode(`during ${sent}`),
          });
          sent++;
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      const connect = () => Deno.connect({ hostname: "127.0.0.1", port: t.port });

      // Random bytes instead of a preamble.
      const r1 = await connect();
      await writeAll(r1, crypto.getRandomValues(new Uint8Array(4096)));
      assert.ok(await closedByServer(r1), "random bytes: closed");

      // A truncated frame after a correct preamble, then the peer hangs up.
      const r2 = await connect();
      await writeAll(r2, new Uint8Array([...preamble(), 0x00, 0x20, 1, 2, 3]));
      r2.closeWrite();
      assert.ok(await closedByServer(r2), "truncated frame: closed");

      // An oversized length prefix inside the encrypted stream: a record claiming 4 GiB.
      const c3 = await connect();
      const transport = await rawHandshake(c3);
      const huge = new Uint8Array(4);
      new DataView(huge.buffer).setUint32(0, 0xffffffff);
      await writeAll(c3, frame(await transport.send.encryptWithAd(new Uint8Array(0), huge)));
      assert.ok(await closedByServer(c3), "4 GiB record header: closed");

      // An oversized frame length during the handshake, then the peer hangs up.
      const r3 = await connect();
      await writeAll(r3, new Uint8Array([...preamble(), 0xff, 0xff, 1, 2, 3]));
      r3.closeWrite();
      assert.ok(await closedByServer(r3), "oversized handshake frame then EOF: closed");

      // A valid handshake followed by garbage frames.
      const c4 = await connect();
      const { channel: ch4 } = await clientHandshake(c4, {
        staticKey: await X25519KeyPair.generate(),
      });
      await writeAll(c4, frame(crypto.getRandomValues(new Uint8Array(500))));
      const said = await ch4.receive();
      assert.match(new TextDecoder().decode(said!), /"code":"bad_message"/, "garbage: answered");
      assert.equal(await ch4.receive(), null, "garbage after handshake: then closed");

      // A valid handshake followed by a record that is not a pesuchat message.
      const c5 = await connect();
      const { channel: ch5 } = await clientHandshake(c5, {
        staticKey: await X25519KeyPair.generate(),
      });
      ch5.send(te.encode("{not json"));
      const reply = await ch5.receive();
      assert.match(new TextDecoder().decode(reply!), /"code":"bad_message"/);
      assert.equal(await ch5.receive(), null, "malformed message: answered, then closed");

      // A flood of connections that never finish the handshake, past the per-address limit.
      const flood = await Promise.all(
        Array.from({ length: MAX_HANDSHAKES_PER_ADDRESS + 40 }, async () => {
          const c = await connect();
          await writeAll(c, preamble()).catch(() => {});
          return c;
        }),
      );
      // Meanwhile the good client still gets through.
      const before = b.deliveries.length;
      await a.conn.request("send", { to: "bob", mid: mid(), body: te.encode("still here") });
      await b.waitFor(before + 1);
      assert.ok(
        t.log.some((l) =>
          l.includes("connection refused") && l.includes("reason=max_handshakes_per_address")
        ),
        t.log.join("\n"),
      );
      assert.ok(
        t.log.filter((l) => l.includes("connection refused")).length < 10,
        "refusals are logged quietly",
      );
      for (const c of flood) c.close();
      // Once the flood is gone, new clients are let in again.
      await eventually(async () => {
        try {
          const late = await rawClient(t.port);
          await late.conn.request("ping", {});
          late.conn.close();
          return true;
        } catch {
          return false;
        }
      }, "a new connection after the flood");

      chatting = false;
      await chat;
      await b.waitFor(sent + 1);
      assert.equal(
        b.deliveries.length,
        sent + 1,
        "every message sent during the attack arrived once",
      );
      a.conn.close();
      b.conn.close();
    } finally {
      await t.stop();
    }
  });
}

/** Reads exactly `n` bytes, or null when the server closes first. */
async function readN(conn: Deno.Conn, n: number): Promise<Uint8Array | null> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const k = await conn.read(out.subarray(got));
    if (k === null) return null;
    got += k;
  }
  return out;
}

Deno.test(`server admits MAX_HANDSHAKES_PER_ADDRESS unfinished handshakes from one address and refuses N+1`, async () => {
  const t = await startTestServer("sqlite");
  const conns: Deno.Conn[] = [];
  try {
    for (let i = 0; i < MAX_HANDSHAKES_PER_ADDRESS; i++) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: t.port });
      conns.push(c);
      await writeAll(c, preamble());
      // An admitted connection gets the server's preamble back.
      assert.deepEqual(await readN(c, preamble().length), preamble(), `connection ${i + 1}`);
    }
    const extra = await Deno.connect({ hostname: "127.0.0.1", port: t.port });
    conns.push(extra);
    await writeAll(extra, preamble()).catch(() => {});
    assert.equal(await readN(extra, 1), null, "the next one is closed at once");
  } finally {
    for (const c of conns) c.close();
    await t.stop();
  }
});
