/**
 * An in-process pesuchat server on a real TCP port and a real database, for end-to-end tests,
 * and raw protocol clients that talk to it through the real transport.
 *
 * @module
 */

import { randomBytes, X25519KeyPair } from "../../crypto/mod.ts";
import { ServerConnection } from "../../client/connection.ts";
import type { Deliver } from "../../protocol/messages.ts";
import net from "node:net";
import type { ByteStream } from "../../protocol/framing.ts";
import { openStore, type StoreOptions } from "../../sql/mod.ts";
import type { PrekeySet, Store } from "../../sql/store.ts";
import { newSecrets } from "../../server/keystore.ts";
import { Logger } from "../../server/log.ts";
import { PesuchatServer, type ServerLimits } from "../../server/server.ts";
import { type DatabaseKind, type FreshDatabase, freshDatabase } from "./databases.ts";

/** A running server, its store and log lines, and a way to stop it and drop its database. */
export interface TestServer {
  server: PesuchatServer;
  store: Store;
  db: FreshDatabase;
  port: number;
  log: string[];
  stop(): Promise<void>;
}

/** Starts a server on 127.0.0.1 with a fresh database of `kind`. */
export async function startTestServer(
  kind: DatabaseKind,
  limits?: Partial<ServerLimits>,
  storeOptions?: StoreOptions,
): Promise<TestServer> {
  return serveDatabase(await freshDatabase(kind), limits, storeOptions);
}

/**
 * Stops `t`'s server (its database stays) and starts a new one on the same database, as a
 * restart or another node would: nothing carries over but what the database holds.
 */
export async function restartTestServer(t: TestServer): Promise<TestServer> {
  await t.server.shutdown();
  return serveDatabase(t.db);
}

async function serveDatabase(
  db: FreshDatabase,
  limits?: Partial<ServerLimits>,
  storeOptions?: StoreOptions,
): Promise<TestServer> {
  const store = await openStore(db.location, storeOptions);
  await store.migrate();
  const log: string[] = [];
  const server = await PesuchatServer.start({
    store,
    secrets: await newSecrets(),
    hostname: "127.0.0.1",
    port: 0,
    logger: new Logger((l) => log.push(l)),
    // Tests sign up many accounts from one address; the per-address limit has its own tests.
    limits: { signupsPerAddress: 1_000_000, ...limits },
    version: "test",
  });
  return {
    server,
    store,
    db,
    port: server.port,
    log,
    async stop() {
      await server.shutdown();
      await db.drop();
    },
  };
}

/** A protocol-level client that records what the server pushes. */
export interface RawClient {
  conn: ServerConnection;
  deviceKey: X25519KeyPair;
  deliveries: Deliver[];
  /** Resolves when at least `n` deliveries have arrived. */
  waitFor(n: number, timeoutMs?: number): Promise<void>;
}

/** Connects with a fresh device key (or the one given) and records deliveries. */
export async function rawClient(
  port: number,
  deviceKey?: X25519KeyPair,
  autoAck = true,
): Promise<RawClient> {
  const key = deviceKey ?? await X25519KeyPair.generate();
  const deliveries: Deliver[] = [];
  let wake: () => void = () => {};
  const conn = await ServerConnection.open("127.0.0.1", port, {
    staticKey: key,
    onDeliver(d) {
      deliveries.push(d);
      if (autoAck) conn.ack([d.qid]);
      wake();
    },
  });
  return {
    conn,
    deviceKey: key,
    deliveries,
    async waitFor(n, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (deliveries.length < n) {
        if (Date.now() > deadline) {
          throw new Error(`expected ${n} deliveries, got ${deliveries.length}`);
        }
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
      }
    },
  };
}

/**
 * A raw client whose TCP connection comes from another loopback address (`127.0.0.2`, …), as
 * a client on another machine would: node:net can bind the local end, Deno.connect cannot.
 */
export async function rawClientFrom(port: number, localAddress: string): Promise<RawClient> {
  const socket = net.connect({ host: "127.0.0.1", port, localAddress });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  const chunks: Uint8Array[] = [];
  let ended = false;
  let wake = () => {};
  socket.on("data", (d: Uint8Array) => {
    chunks.push(new Uint8Array(d));
    wake();
  });
  socket.on("close", () => {
    ended = true;
    wake();
  });
  const stream: ByteStream = {
    async read(p) {
      while (chunks.length === 0 && !ended) await new Promise<void>((r) => (wake = r));
      const head = chunks[0];
      if (!head) return null;
      const n = Math.min(p.length, head.length);
      p.set(head.subarray(0, n));
      if (n === head.length) chunks.shift();
      else chunks[0] = head.subarray(n);
      return n;
    },
    write(p) {
      return new Promise((resolve, reject) =>
        socket.write(p, (e?: Error | null) => (e ? reject(e) : resolve(p.length)))
      );
    },
    close() {
      socket.destroy();
    },
  };
  const key = await X25519KeyPair.generate();
  const deliveries: Deliver[] = [];
  const conn = await ServerConnection.over(stream, { staticKey: key });
  return {
    conn,
    deviceKey: key,
    deliveries,
    waitFor() {
      return Promise.reject(new Error("rawClientFrom() records no deliveries"));
    },
  };
}

/** Public keys shaped like real ones; the server stores them without reading them. */
export function fakePrekeys(oneTime = 5, kyber = 3): PrekeySet {
  let id = 1;
  const signed = () => ({ id: id++, publicKey: randomBytes(32), signature: randomBytes(64) });
  const kyberKey = () => ({ id: id++, publicKey: randomBytes(1568), signature: randomBytes(64) });
  return {
    signedPrekey: signed(),
    kyberLastResort: kyberKey(),
    oneTimePrekeys: Array.from(
      { length: oneTime },
      () => ({ id: id++, publicKey: randomBytes(32) }),
    ),
    kyberPrekeys: Array.from({ length: kyber }, kyberKey),
  };
}

/** Signs up `username` over `c` with a random auth key; returns the auth key. */
export async function signUp(
  c: RawClient,
  username: string,
  fullName = "Test User",
): Promise<Uint8Array> {
  const authKey = randomBytes(32);
  await c.conn.request("signup", {
    username,
    fullName,
    authKey,
    salt: randomBytes(16),
    kdf: { memoryKiB: 65536, passes: 3, parallelism: 4 },
    identity: randomBytes(129),
    prekeys: fakePrekeys(),
  });
  return authKey;
}

/** A 16-byte message id. */
export function mid(): Uint8Array {
  return randomBytes(16);
}

/**
 * Alice connected and signed up, and Bob signed up and then gone offline: the start of every
 * queued-delivery test. Returns Alice's client and Bob's auth key, to log him in later.
 */
export async function aliceAndOfflineBob(
  port: number,
): Promise<{ a: RawClient; bobKey: Uint8Array }> {
  const a = await rawClient(port);
  const b = await rawClient(port);
  await signUp(a, "alice");
  const bobKey = await signUp(b, "bob");
  b.conn.close();
  return { a, bobKey };
}
