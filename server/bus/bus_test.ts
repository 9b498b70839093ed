import assert from "node:assert/strict";
import {
  BUS_KINDS,
  PrivateBusServer,
  sharedBusUrl,
  until,
} from "../../tests/support/bus_servers.ts";
import { type Bus, BusError, MAX_BUS_PAYLOAD_BYTES, openBus, parseBusUrl } from "./mod.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

function listener(url: string, subject: string) {
  const got: string[] = [];
  const states: boolean[] = [];
  const bus = openBus(url, subject, {
    message: (p) => got.push(dec.decode(p)),
    state: (up) => states.push(up),
  });
  return { bus, got, states };
}

/** Publishes `text` until `got` has it (a subscription may take a moment to reach the server). */
async function deliver(bus: Bus, text: string, got: string[]): Promise<void> {
  await until(() => {
    if (!got.includes(text)) bus.publish(enc.encode(text));
    return got.includes(text);
  }, `"${text}" over the bus`);
}

for (const kind of BUS_KINDS) {
  Deno.test({
    name: `openBus() on ${kind}: a notice reaches the other node, binary-safe and in order`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const subject = `pesuchat.test.${crypto.randomUUID().slice(0, 8)}`;
      const a = listener(sharedBusUrl(kind), subject);
      const b = listener(sharedBusUrl(kind), subject);
      try {
        await until(() => a.bus.up && b.bus.up, "both buses up");
        await deliver(a.bus, "ready", b.got);
        const lines = [
          "one",
          "two\r\nPING\r\n",
          "*3\r\n$3\r\nx",
          "x".repeat(MAX_BUS_PAYLOAD_BYTES),
        ];
        for (const l of lines) a.bus.publish(enc.encode(l));
        await until(() => b.got.length >= 1 + lines.length, "every notice");
        assert.deepEqual(b.got.slice(-lines.length), lines);
        assert.throws(() => a.bus.publish(new Uint8Array(MAX_BUS_PAYLOAD_BYTES + 1)), RangeError);
      } finally {
        await Promise.all([a.bus.close(), b.bus.close()]);
      }
      assert.deepEqual(a.states, [true]);
    },
  });

  Deno.test({
    name: `openBus() on ${kind}: a bus server that dies is noticed, and the bus comes back`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn() {
      const server = new PrivateBusServer(kind);
      await server.start();
      const a = listener(server.url, "pesuchat.test.outage");
      const b = listener(server.url, "pesuchat.test.outage");
      try {
        await until(() => a.bus.up && b.bus.up, "both buses up");
        await deliver(a.bus, "before", b.got);
        await server.stop();
        await until(() => !a.bus.up && !b.bus.up, "both buses down");
        assert.deepEqual(a.bus.publish(enc.encode("lost")), false);
        await server.start();
        await until(() => a.bus.up && b.bus.up, "both buses up again", 60_000);
        await deliver(a.bus, "after", b.got);
        assert.deepEqual(b.got.includes("lost"), false);
        assert.deepEqual(b.states.slice(0, 3), [true, false, true]);
      } finally {
        await Promise.all([a.bus.close(), b.bus.close()]);
        await server.stop();
      }
    },
  });
}

Deno.test("parseBusUrl() takes nats:// and redis:// with default ports, refuses the rest", () => {
  assert.deepEqual(parseBusUrl("nats://127.0.0.1:4222"), {
    kind: "nats",
    hostname: "127.0.0.1",
    port: 4222,
  });
  assert.deepEqual(parseBusUrl("redis://bus.example.org"), {
    kind: "redis",
    hostname: "bus.example.org",
    port: 6379,
  });
  assert.deepEqual(parseBusUrl("nats://[::1]:5000").hostname, "::1");
  for (
    const bad of ["http://x:1", "nats://", "127.0.0.1:4222", "redis://u:p@h:1", "nats://h:1/db"]
  ) {
    assert.throws(() => parseBusUrl(bad), (e) => e instanceof BusError && e.code === "bad_url");
  }
});
