import assert from "node:assert/strict";
import type { StoredMessage } from "../client/local_store.ts";
import { connectChat, eventually, type TestChat } from "./support/chat.ts";
import { DATABASE_KINDS } from "./support/databases.ts";
import { startTestServer, type TestServer } from "./support/server.ts";

const NAMES = ["ann", "bob", "cat", "dan", "eve"] as const;
const PASSWORD = "room test password 9";

async function five(t: TestServer): Promise<Record<(typeof NAMES)[number], TestChat>> {
  const out = {} as Record<(typeof NAMES)[number], TestChat>;
  for (const n of NAMES) {
    out[n] = await connectChat(t);
    await out[n].client.signup({ fullName: n.toUpperCase(), username: n, password: PASSWORD });
  }
  return out;
}

const texts = (c: TestChat, peer: string) =>
  c.received.filter((m: StoredMessage) => m.peer === peer).map((m) => m.text);

for (const kind of DATABASE_KINDS) {
  Deno.test({
    name: `[${kind}] five clients in a group: messages, changes and offline catch-up`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: async () => {
      const t = await startTestServer(kind);
      try {
        const c = await five(t);
        const id = await c.ann.client.rooms.create("Quokka club", "group", ["bob", "cat", "dan"]);
        const peer = `#${id}`;
        for (const n of ["bob", "cat", "dan"] as const) {
          await eventually(
            async () => (await c[n].client.rooms.list()).some((r) => r.id === id),
            `${n} sees the room (${c[n].problems.join("; ")})`,
          );
        }
        await c.ann.client.rooms.send(id, "hello room");
        for (const n of ["bob", "cat", "dan"] as const) {
          await eventually(() => texts(c[n], peer).includes("hello room"), `${n} reads ann`);
        }
        await c.bob.client.rooms.send(id, "bob here");
        for (const n of ["ann", "cat", "dan"] as const) {
          await eventually(() => texts(c[n], peer).includes("bob here"), `${n} reads bob`);
        }
        const info = await c.cat.client.rooms.info(id);
        assert.equal(info.name, "Quokka club");
        assert.deepEqual(info.members.map((m) => m.username), ["ann", "bob", "cat", "dan"]);
        assert.deepEqual(info.members.filter((m) => m.admin).map((m) => m.username), ["ann"]);
        for (const x of Object.values(c)) await x.client.close();
      } finally {
        await t.stop();
      }
    },
  });
}
