/**
 * A TCP proxy in front of a test server that can stop passing the client's bytes on (its
 * acknowledgements among them: the stream is encrypted, so it is all or nothing) and cut every
 * connection, to make the server deliver a message again.
 *
 * @module
 */

/** A running proxy. */
export interface TestProxy {
  port: number;
  /** While true, what clients send is read and thrown away. */
  swallowUp: boolean;
  /** Closes every connection through the proxy (new ones are still accepted). */
  cut(): void;
  /**
   * The connections open now go silent both ways, still open (a hung server, a path that drops
   * everything); new ones work.
   */
  stall(): void;
  stop(): void;
}

/** Starts a proxy on 127.0.0.1 to `127.0.0.1:target`. */
export function startProxy(target: number): TestProxy {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const open = new Set<Deno.Conn>();
  const stalled = new Set<Deno.Conn>();
  const proxy: TestProxy = {
    port: (listener.addr as Deno.NetAddr).port,
    swallowUp: false,
    cut() {
      for (const c of open) {
        try {
          c.close();
        } catch {
          // closed already
        }
      }
      open.clear();
    },
    stall() {
      for (const c of open) stalled.add(c);
    },
    stop() {
      proxy.cut();
      try {
        listener.close();
      } catch {
        // stopped already
      }
    },
  };
  const pump = async (from: Deno.Conn, to: Deno.Conn, up: boolean) => {
    const buf = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await from.read(buf);
        if (n === null) break;
        if ((up && proxy.swallowUp) || stalled.has(from)) continue;
        let off = 0;
        while (off < n) off += await to.write(buf.subarray(off, n));
      }
    } catch {
      // cut
    }
    for (const c of [from, to]) {
      try {
        c.close();
      } catch {
        // closed already
      }
      open.delete(c);
    }
  };
  (async () => {
    try {
      for await (const client of listener) {
        const server = await Deno.connect({ hostname: "127.0.0.1", port: target });
        open.add(client);
        open.add(server);
        void pump(client, server, true);
        void pump(server, client, false);
      }
    } catch {
      // stopped
    }
  })();
  return proxy;
}
