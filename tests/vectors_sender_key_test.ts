import assert from "node:assert/strict";
import { fromHex, toHex, utf8 } from "../crypto/bytes.ts";
import { DecryptError } from "../crypto/errors.ts";
import { decodeDistribution, SenderKeyRecord } from "../crypto/sender_key/mod.ts";
import { chainStep } from "../crypto/sender_key/chain.ts";

interface Vectors {
  distributionId: string;
  chainId: number;
  signingKey: string;
  distribution: string;
  steps: { chainKey: string; messageKey: string; next: string }[];
  ad: string;
  messages: { iteration: number; plaintext: string; message: string }[];
  readOrder: number[];
  failures: { what: string; message: string; ad: string; code: string }[];
}

const v: Vectors = JSON.parse(
  await Deno.readTextFile(new URL("./data/sender_key_vectors.json", import.meta.url)),
);

Deno.test("sender key vectors: each chain step gives the recorded next chain key and message key", async () => {
  for (const s of v.steps) {
    const out = await chainStep(fromHex(s.chainKey));
    assert.equal(toHex(out.messageKey), s.messageKey);
    assert.equal(toHex(out.next), s.next);
  }
  assert.equal(v.steps[1]!.chainKey, v.steps[0]!.next);
});

Deno.test("sender key vectors: the distribution decodes to the recorded fields", () => {
  const d = decodeDistribution(fromHex(v.distribution));
  assert.equal(toHex(d.distributionId), v.distributionId);
  assert.equal(d.chainId, v.chainId);
  assert.equal(d.iteration, 0);
  assert.equal(toHex(d.chainKey), v.steps[0]!.chainKey);
  assert.equal(toHex(d.signingKey), v.signingKey);
});

Deno.test("sender key vectors: the room messages read in the recorded order, and each failure fails as recorded", async () => {
  let r = SenderKeyRecord.empty.withDistribution(fromHex(v.distribution));
  for (const i of v.readOrder) {
    const m = v.messages[i]!;
    const out = await r.decrypt(fromHex(m.message), utf8(v.ad));
    assert.equal(new TextDecoder().decode(out.plaintext), m.plaintext);
    r = out.next;
  }
  const fresh = SenderKeyRecord.empty.withDistribution(fromHex(v.distribution));
  for (const f of v.failures) {
    await assert.rejects(
      fresh.decrypt(fromHex(f.message), utf8(f.ad)),
      (e: unknown) => e instanceof DecryptError && e.code === f.code,
      f.what,
    );
  }
});
