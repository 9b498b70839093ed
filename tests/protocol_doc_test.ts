/**
 * docs/protocol.md's examples, decoded by the real codec: every fenced block tagged `json client`,
 * `json server`, `hex client`, `hex server`, the preamble, the prologue and the fingerprint.
 */
import assert from "node:assert/strict";
import { decodeClientMessage, decodeServerMessage, parseResult } from "../protocol/codec.ts";
import { fingerprint } from "../protocol/fingerprint.ts";
import { preamble } from "../protocol/framing.ts";
import { requestSchemas, type RequestType } from "../protocol/messages.ts";
import { prologue } from "../protocol/transport.ts";

const DOC = await Deno.readTextFile(new URL("../docs/protocol.md", import.meta.url));
const blocks = [...DOC.matchAll(/^```([^\n]*)\n([\s\S]*?)^```$/gm)].map((m) => ({
  info: m[1]!.trim().split(/\s+/),
  text: m[2]!,
}));

function hexBytes(text: string): Uint8Array {
  const digits = text.split("\n").map((l) => l.replace(/#.*/, "")).join("").replace(/\s+/g, "");
  return Uint8Array.fromHex(digits);
}

const utf8 = (s: string) => new TextEncoder().encode(s.trim());

Deno.test("docs/protocol.md: the preamble, the prologue and the fingerprint example are exact", async () => {
  const one = (tag: string) => blocks.find((b) => b.info.join(" ") === tag)!;
  assert.deepEqual(hexBytes(one("hex preamble").text), preamble());
  assert.deepEqual(hexBytes(one("hex prologue").text), prologue(preamble()));
  const [key, fp] = one("text fingerprint").text.trim().split("\n").map((l) => l.split(": ")[1]!);
  assert.equal(await fingerprint(Uint8Array.fromHex(key!)), fp);
});

Deno.test("docs/protocol.md: every client example decodes, and every request type has one", () => {
  const seen = new Set<string>();
  for (const b of blocks.filter((b) => b.info[1] === "client")) {
    const [format, , name] = b.info;
    const bytes = format === "hex" ? hexBytes(b.text) : utf8(b.text);
    const m = decodeClientMessage(bytes);
    const got = m.kind === "ack" ? "ack" : m.type;
    assert.equal(got, name, `the example tagged ${b.info.join(" ")} decodes as ${got}`);
    seen.add(`${format} ${got}`);
  }
  for (const type of Object.keys(requestSchemas)) {
    assert.ok(
      seen.has(`json ${type}`) || seen.has(`hex ${type}`),
      `no example of the request ${type}`,
    );
  }
  assert.ok(seen.has("hex send") && seen.has("hex ack"), "the binary client records");
});

Deno.test("docs/protocol.md: every server example decodes as what its tag says", () => {
  const kinds = new Set<string>();
  for (const b of blocks.filter((b) => b.info[1] === "server")) {
    const [format, , what, type] = b.info;
    const m = decodeServerMessage(format === "hex" ? hexBytes(b.text) : utf8(b.text));
    if (what === "ok") {
      assert.equal(m.kind, "ok", b.info.join(" "));
      if (m.kind === "ok") parseResult(type as RequestType, m.raw);
    } else if (what === "send_ok") {
      assert.ok(m.kind === "ok" && m.raw.qid === 42, b.info.join(" "));
    } else {
      assert.equal(m.kind, what, b.info.join(" "));
    }
    kinds.add(what!);
  }
  for (const k of ["ok", "error", "bye", "deliver", "send_ok"]) assert.ok(kinds.has(k), k);
});

Deno.test("docs/protocol.md lists every error code the protocol has", async () => {
  const source = await Deno.readTextFile(new URL("../protocol/errors.ts", import.meta.url));
  const codes = [...source.matchAll(/\|\s*"(\w+)"/g)].map((m) => m[1]!);
  assert.ok(codes.length > 10, "the codes were read");
  for (const code of codes) {
    assert.match(DOC, new RegExp(`^\\| \`${code}\` +\\|`, "m"), `error code ${code}`);
  }
});
