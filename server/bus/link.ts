/**
 * One TCP connection to the bus server that comes back by itself: connect, greet (the wire
 * protocol's hello and subscription), read until the connection drops or stops answering pings,
 * wait, connect again. The wire protocol is a small object; this file knows none of it.
 *
 * @module
 */

/** First wait before reconnecting; doubles up to {@linkcode LINK_RETRY_MAX_MS}. */
export const LINK_RETRY_FIRST_MS = 100;
/** Longest wait between reconnection attempts. */
export const LINK_RETRY_MAX_MS = 2000;
/** A ping goes out when nothing was read for this long. */
export const LINK_PING_MS = 2000;
/** The link counts as down when nothing at all was read for this long (a ping went unanswered). */
export const LINK_DEAD_MS = 6000;
/** Time allowed for the TCP connection to open. */
export const LINK_CONNECT_TIMEOUT_MS = 3000;
/** Bytes buffered from the bus server without a complete frame before the link is dropped. */
export const LINK_MAX_BUFFER_BYTES = 1024 * 1024;

/** A bus wire protocol, as the link drives it. */
export interface WireProtocol {
  /** Bytes to send first on every new connection (hello, subscriptions). */
  greeting(): Uint8Array;
  /** Bytes that make the server answer (a ping). */
  ping(): Uint8Array;
  /**
   * Takes what was read so far; returns how many bytes it consumed (complete frames only) and
   * bytes to write back, if any (a pong). Throws on bytes it cannot parse.
   */
  feed(buffer: Uint8Array): { used: number; reply?: Uint8Array };
}

/** Connects to `hostname:port` and keeps the connection up until closed. */
export class Link {
  #conn: Deno.TcpConn | null = null;
  #closed = false;
  #writing: Promise<void> = Promise.resolve();
  #lastRead = 0;
  /** Why the last connection failed or ended, for the log. */
  lastError: string | null = null;
  #loop: Promise<void>;

  constructor(
    readonly hostname: string,
    readonly port: number,
    readonly protocol: WireProtocol,
    readonly onState: (up: boolean) => void,
  ) {
    this.#loop = this.#run();
  }

  /** True while connected and greeted. */
  get up(): boolean {
    return this.#conn !== null;
  }

  /** Writes `bytes` if connected; false (nothing written) when down. */
  write(bytes: Uint8Array): boolean {
    const conn = this.#conn;
    if (!conn) return false;
    this.#writing = this.#writing.then(async () => {
      try {
        let off = 0;
        while (off < bytes.length) off += await conn.write(bytes.subarray(off));
      } catch {
        this.#drop(conn);
      }
    });
    return true;
  }

  #drop(conn: Deno.TcpConn): void {
    try {
      conn.close();
    } catch {
      // closed already
    }
  }

  async #run(): Promise<void> {
    let delay = LINK_RETRY_FIRST_MS;
    while (!this.#closed) {
      let conn: Deno.TcpConn | null = null;
      try {
        conn = await this.#connect();
        if (this.#closed) {
          this.#drop(conn);
          return;
        }
        await this.#session(conn, () => (delay = LINK_RETRY_FIRST_MS));
        this.lastError = "the bus server closed the connection";
      } catch (e) {
        // refused, reset, timed out or unparsable: all mean "try again later"
        this.lastError = (e as Error)?.message ?? String(e);
      } finally {
        if (conn) this.#drop(conn);
        if (this.#conn) {
          this.#conn = null;
          this.onState(false);
        }
      }
      if (this.#closed) return;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, LINK_RETRY_MAX_MS);
    }
  }

  async #connect(): Promise<Deno.TcpConn> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const connecting = Deno.connect({ hostname: this.hostname, port: this.port });
    try {
      return await Promise.race([
        connecting,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error("bus connect timeout")),
            LINK_CONNECT_TIMEOUT_MS,
          );
        }),
      ]);
    } catch (e) {
      connecting.then((c) => c.close(), () => {});
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  async #session(conn: Deno.TcpConn, reset: () => void): Promise<void> {
    conn.setNoDelay(true);
    this.#lastRead = Date.now();
    const keepalive = setInterval(() => {
      const idle = Date.now() - this.#lastRead;
      if (idle >= LINK_DEAD_MS) this.#drop(conn);
      else if (idle >= LINK_PING_MS && this.#conn === conn) this.write(this.protocol.ping());
    }, LINK_PING_MS / 2);
    try {
      let off = 0;
      const greeting = this.protocol.greeting();
      while (off < greeting.length) off += await conn.write(greeting.subarray(off));
      // Up only once the server has answered something: a listening socket alone is not a bus.
      conn.write(this.protocol.ping()).catch(() => {});
      let buffer: Uint8Array = new Uint8Array(0);
      const chunk = new Uint8Array(64 * 1024);
      for (;;) {
        const n = await conn.read(chunk);
        if (n === null) return;
        this.#lastRead = Date.now();
        buffer = concat(buffer, chunk.subarray(0, n));
        const { used, reply } = this.protocol.feed(buffer);
        buffer = buffer.slice(used);
        if (buffer.length > LINK_MAX_BUFFER_BYTES) return;
        if (reply && this.#conn === conn) this.write(reply);
        else if (reply) conn.write(reply).catch(() => {});
        if (used > 0 && this.#conn !== conn && !this.#closed) {
          this.#conn = conn;
          reset();
          this.onState(true);
        }
      }
    } finally {
      clearInterval(keepalive);
    }
  }

  /** Closes the connection and stops reconnecting. */
  async close(): Promise<void> {
    this.#closed = true;
    const conn = this.#conn;
    this.#conn = null;
    if (conn) {
      await this.#writing;
      this.#drop(conn);
    }
    await this.#loop;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b.slice();
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
