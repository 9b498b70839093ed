/**
 * The NATS client protocol, as much as plain publish/subscribe needs: CONNECT, SUB, PUB, MSG,
 * PING/PONG (docs.nats.io, "Client Protocol"). Lines end in CRLF; a MSG line names its payload's
 * length and the payload follows with its own CRLF.
 *
 * @module
 */

import { BusError } from "./errors.ts";
import type { WireProtocol } from "./link.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();
const CRLF = enc.encode("\r\n");

/** Publish/subscribe on one NATS subject. */
export class NatsProtocol implements WireProtocol {
  constructor(
    readonly subject: string,
    readonly onMessage: (payload: Uint8Array) => void,
  ) {
    if (!/^[A-Za-z0-9_.-]+$/.test(subject)) {
      throw new BusError("bad_url", `a NATS subject of letters, digits and dots, got ${subject}`);
    }
  }

  greeting(): Uint8Array {
    // echo:false: a node never hears its own announcements. verbose:false: no +OK per PUB.
    const options = {
      verbose: false,
      pedantic: false,
      echo: false,
      name: "pesuchat",
      lang: "deno",
      version: "1",
      protocol: 1,
    };
    return enc.encode(`CONNECT ${JSON.stringify(options)}\r\nSUB ${this.subject} 1\r\n`);
  }

  ping(): Uint8Array {
    return enc.encode("PING\r\n");
  }

  /** The bytes of a PUB of `payload`. */
  publish(payload: Uint8Array): Uint8Array {
    const head = enc.encode(`PUB ${this.subject} ${payload.length}\r\n`);
    const out = new Uint8Array(head.length + payload.length + 2);
    out.set(head);
    out.set(payload, head.length);
    out.set(CRLF, head.length + payload.length);
    return out;
  }

  feed(buffer: Uint8Array): { used: number; reply?: Uint8Array } {
    let used = 0;
    let pongs = 0;
    for (;;) {
      const eol = indexOfCrlf(buffer, used);
      if (eol < 0) break;
      const line = dec.decode(buffer.subarray(used, eol));
      const [op, ...args] = line.split(" ");
      const verb = op!.toUpperCase();
      if (verb === "MSG") {
        const size = Number(args[args.length - 1]);
        if (!Number.isInteger(size) || size < 0) throw new BusError("protocol", `bad MSG line`);
        const start = eol + 2;
        if (buffer.length < start + size + 2) break;
        this.onMessage(buffer.slice(start, start + size));
        used = start + size + 2;
        continue;
      }
      if (verb === "PING") pongs++;
      else if (verb === "-ERR") throw new BusError("protocol", `NATS said ${line.slice(0, 200)}`);
      else if (!["INFO", "PONG", "+OK"].includes(verb)) {
        throw new BusError("protocol", `unexpected NATS line ${JSON.stringify(line.slice(0, 40))}`);
      }
      used = eol + 2;
    }
    return pongs > 0 ? { used, reply: enc.encode("PONG\r\n".repeat(pongs)) } : { used };
  }
}

/** Index of the next CRLF at or after `from`, or -1. */
export function indexOfCrlf(b: Uint8Array, from: number): number {
  for (let i = from; i + 1 < b.length; i++) if (b[i] === 13 && b[i + 1] === 10) return i;
  return -1;
}
