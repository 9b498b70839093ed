/**
 * Bus notices are authenticated: every node holds the same keystore, so every node can derive one
 * HMAC key from its pepper, and a notice without a valid tag is dropped. Whoever can publish on
 * the bus but lacks the keystore can then neither disconnect users (a forged "login") nor empty
 * caches (a forged "gone"); at most it delays deliveries by staying silent.
 * A notice also carries its time, and one older (or newer) than MAX_NOTICE_SKEW_MS is dropped,
 * which bounds replays of captured notices.
 *
 * @module
 */

import { equalBytes, HmacKey, utf8 } from "../crypto/mod.ts";

/** Bytes of the tag in front of each notice. */
export const NOTICE_TAG_BYTES = 32;
/** A notice this far from the receiving node's clock is dropped (replays; clocks far apart). */
export const MAX_NOTICE_SKEW_MS = 120_000;
/** Derives the notice key from the pepper, so it is a key of its own. */
const NOTICE_KEY_LABEL = "pesuchat bus notice key v1";

/** Seals and opens notices under the cluster's shared key. */
export class NoticeSeal {
  private constructor(readonly key: HmacKey) {}

  /** The seal every node of the cluster derives alike from the keystore's pepper. */
  static async fromPepper(pepper: HmacKey): Promise<NoticeSeal> {
    return new NoticeSeal(await HmacKey.import(await pepper.sign(utf8(NOTICE_KEY_LABEL))));
  }

  /** tag ‖ body. */
  async seal(body: Uint8Array): Promise<Uint8Array> {
    const tag = await this.key.sign(body);
    const out = new Uint8Array(NOTICE_TAG_BYTES + body.length);
    out.set(tag);
    out.set(body, NOTICE_TAG_BYTES);
    return out;
  }

  /** The body when the tag is right, else null. */
  async open(payload: Uint8Array): Promise<Uint8Array | null> {
    if (payload.length < NOTICE_TAG_BYTES) return null;
    const body = payload.subarray(NOTICE_TAG_BYTES);
    const tag = await this.key.sign(body);
    return equalBytes(tag, payload.subarray(0, NOTICE_TAG_BYTES)) ? body : null;
  }
}
