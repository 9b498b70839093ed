/**
 * The bus servers the cluster tests use: the machine's shared NATS (127.0.0.1:4222) and Redis
 * (127.0.0.1:6379), each test on its own random subject so tests running at once never hear each
 * other; and private ones on a free port, for the tests that stop the bus mid-stream (stopping
 * the shared ones would break everyone else's tests).
 *
 * @module
 */

import { freePort } from "./process.ts";

/** The bus kinds every cluster suite runs against. */
export const BUS_KINDS = ["nats", "redis"] as const;
export type BusKind = (typeof BUS_KINDS)[number];

/** The shared bus server of `kind` on this machine. */
export function sharedBusUrl(kind: BusKind): string {
  const env = Deno.env.get(kind === "nats" ? "PESUCHAT_TEST_NATS" : "PESUCHAT_TEST_REDIS");
  return env ?? (kind === "nats" ? "nats://127.0.0.1:4222" : "redis://127.0.0.1:6379");
}

/** A bus server process of our own, which a test may stop and start again on the same port. */
export class PrivateBusServer {
  #child: Deno.ChildProcess | null = null;
  readonly port = freePort();
  constructor(readonly kind: BusKind) {}

  get url(): string {
    return `${this.kind}://127.0.0.1:${this.port}`;
  }

  /** Starts the server and waits until it accepts connections (up to 20 s). */
  async start(): Promise<void> {
    const [cmd, args] = this.kind === "nats"
      ? ["nats-server", ["-a", "127.0.0.1", "-p", String(this.port)]]
      : ["redis-server", ["--bind", "127.0.0.1", "--port", String(this.port), "--save", ""]];
    this.#child = new Deno.Command(cmd, { args, stdout: "null", stderr: "null", stdin: "null" })
      .spawn();
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        (await Deno.connect({ hostname: "127.0.0.1", port: this.port })).close();
        return;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`${this.kind} did not start: ${e}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  /** Kills the server (SIGKILL: no goodbye to its clients) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (!child) return;
    try {
      child.kill("SIGKILL");
    } catch {
      // exited already
    }
    await child.status;
  }
}

/** Polls `cond` until it holds, failing after `timeoutMs` with `what`. */
export async function until(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
