import assert from "node:assert/strict";
import { randomBytes, utf8 } from "../crypto/bytes.ts";
import { DecryptError } from "../crypto/errors.ts";
import { X25519KeyPair } from "../crypto/subtle.ts";
import {
  initInitiator,
  initResponder,
  MAX_SKIP,
  ratchetDecrypt,
  ratchetEncrypt,
} from "../crypto/ratchet/double_ratchet.ts";
import { timeLimited } from "./support/sessions.ts";

/** Where N sits in a ratchet message: after the version byte, the ratchet key and PN. */
const COUNTER_OFFSET = 1 + 32 + 4;
/** Far past the gap bound: skipping that many keys would take hours, refusing it a moment. */
const FAR_AHEAD = 0x7fff_ffff;
/** The refusal must come within this, however loaded the machine, or the test fails. */
const LIMIT_MS = 30_000;

Deno.test("ratchetDecrypt() refuses a header far past MAX_SKIP at once, and the test fails rather than hangs", async () => {
  await timeLimited(LIMIT_MS, async () => {
    const sk = randomBytes(32), ad = randomBytes(130);
    const spk = await X25519KeyPair.generate();
    const alice = await initInitiator(sk, ad, spk.publicKey);
    const bob = initResponder(sk, ad, spk);
    const { message } = await ratchetEncrypt(alice, utf8("hello"));
    for (const counter of [FAR_AHEAD, MAX_SKIP + 1]) {
      const forged = message.slice();
      new DataView(forged.buffer).setUint32(COUNTER_OFFSET, counter);
      await assert.rejects(
        ratchetDecrypt(bob, forged),
        (e) => e instanceof DecryptError && e.code === "too_many_skipped",
      );
    }
  });
});
