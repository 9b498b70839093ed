/**
 * The bus between server nodes: a way to say "look at your queue" (and other small notices) to
 * every other node at once. It is only ever a hint. The database holds every message, so a
 * notice the bus loses delays a delivery and never loses it.
 *
 * Two implementations behind one interface, as the store has two: NATS core publish/subscribe
 * (`nats://host:port`) and Redis pub/sub (`redis://host:port`). Both speak their wire protocol
 * over a plain TCP connection that reconnects by itself.
 *
 * @example
 * ```ts ignore
 * const bus = openBus("nats://127.0.0.1:4222", "pesuchat.demo", {
 *   message: (payload) => console.log(new TextDecoder().decode(payload)),
 *   state: (up) => console.log(up ? "bus up" : "bus down"),
 * });
 * bus.publish(new TextEncoder().encode("hello"));
 * await bus.close();
 * ```
 *
 * @module
 */

import { BusError } from "./errors.ts";
import { Link } from "./link.ts";
import { NatsProtocol } from "./nats.ts";
import { RedisPublisher, RedisSubscriber } from "./redis.ts";

export { BusError, type BusErrorCode } from "./errors.ts";

/** Largest notice published on the bus. */
export const MAX_BUS_PAYLOAD_BYTES = 64 * 1024;

/** What the bus tells its owner. */
export interface BusHandlers {
  /** A notice from another node. */
  message(payload: Uint8Array): void;
  /** The bus came up (true) or went down (false). */
  state(up: boolean): void;
}

/** A connection to the bus, publishing and subscribing on one subject. */
export interface Bus {
  /** The bus's address, for logs (it holds no secret). */
  readonly url: string;
  /** True while every connection the bus needs is up. */
  readonly up: boolean;
  /** Why the bus last failed, if it did (for the log). */
  readonly lastError: string | null;
  /** Publishes a notice; false when the bus is down and the notice was dropped. */
  publish(payload: Uint8Array): boolean;
  /** Closes the connections; no reconnecting after this. */
  close(): Promise<void>;
}

/** The kind, host and port of a bus URL. */
export interface BusAddress {
  kind: "nats" | "redis";
  hostname: string;
  port: number;
}

/** Parses `nats://host:port` or `redis://host:port` (default ports 4222 and 6379). */
export function parseBusUrl(url: string): BusAddress {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new BusError(
      "bad_url",
      `--bus: expected nats://HOST:PORT or redis://HOST:PORT, got ${JSON.stringify(url)}`,
    );
  }
  const kind = u.protocol === "nats:" ? "nats" : u.protocol === "redis:" ? "redis" : null;
  if (!kind || !u.hostname || u.username || u.password || (u.pathname && u.pathname !== "/")) {
    throw new BusError(
      "bad_url",
      `--bus: expected nats://HOST:PORT or redis://HOST:PORT, got ${JSON.stringify(url)}`,
    );
  }
  const port = u.port ? Number(u.port) : kind === "nats" ? 4222 : 6379;
  return { kind, hostname: u.hostname.replace(/^\[|\]$/g, ""), port };
}

/** Opens the bus at `url` on `subject`; it connects (and reconnects) in the background. */
export function openBus(url: string, subject: string, h: BusHandlers): Bus {
  const a = parseBusUrl(url);
  const links: Link[] = [];
  let wasUp = false;
  const state = () => {
    const up = links.every((l) => l.up);
    if (up !== wasUp) {
      wasUp = up;
      h.state(up);
    }
  };
  const shown = `${a.kind}://${
    a.hostname.includes(":") ? `[${a.hostname}]` : a.hostname
  }:${a.port}`;
  if (a.kind === "nats") {
    const nats = new NatsProtocol(subject, h.message);
    const link = new Link(a.hostname, a.port, nats, state);
    links.push(link);
    return busOf(shown, links, (p) => link.up && link.write(nats.publish(p)));
  }
  const publisher = new RedisPublisher(subject);
  const pub = new Link(a.hostname, a.port, publisher, state);
  links.push(pub, new Link(a.hostname, a.port, new RedisSubscriber(subject, h.message), state));
  return busOf(shown, links, (p) => links.every((l) => l.up) && pub.write(publisher.publish(p)));
}

function busOf(url: string, links: Link[], publish: (p: Uint8Array) => boolean): Bus {
  return {
    url,
    get up() {
      return links.every((l) => l.up);
    },
    get lastError() {
      return links.find((l) => l.lastError !== null)?.lastError ?? null;
    },
    publish(payload) {
      if (payload.length > MAX_BUS_PAYLOAD_BYTES) {
        throw new RangeError(`a bus notice is at most ${MAX_BUS_PAYLOAD_BYTES} bytes`);
      }
      return publish(payload);
    },
    async close() {
      await Promise.all(links.map((l) => l.close()));
    },
  };
}
