/**
 * Who may sign up: everyone (`open`), holders of a one-time invite token the operator made
 * (`token`), or nobody (`closed`). In every mode sign-ups are limited per address, since each
 * account costs the server storage and a bot needs nothing but the port.
 *
 * @module
 */

import { randomBytes, sha256 } from "../crypto/mod.ts";
import { ProtocolError } from "../protocol/errors.ts";
import { MAX_SIGNUPS_PER_ADDRESS, SIGNUP_WINDOW_MS } from "../protocol/limits.ts";
import type { Store } from "../sql/store.ts";

/** The registration modes. */
export const REGISTRATION_MODES = ["open", "token", "closed"] as const;
export type RegistrationMode = (typeof REGISTRATION_MODES)[number];

/** Random bytes in an invite token. */
const INVITE_TOKEN_BYTES = 16;

/**
 * A new invite token, as the operator hands it out: 32 hex digits, easy to read out, never
 * starting with "-" (which a command line would take for a flag).
 */
export function newInviteToken(): string {
  return randomBytes(INVITE_TOKEN_BYTES).toHex();
}

/** What the database keeps of a token: its SHA-256, never the token. */
export function inviteHash(token: string): Promise<Uint8Array> {
  return sha256(new TextEncoder().encode(token.trim()));
}

/** The address sign-ups are counted under: the host, or its /64 for IPv6. */
export function signupKey(host: string): string {
  if (!host.includes(":")) return host;
  const groups = host.replace(/^\[|\]$/g, "").split("::");
  const head = groups[0]!.split(":").filter(Boolean);
  const tail = groups.length > 1 ? groups[1]!.split(":").filter(Boolean) : [];
  const full = [...head, ...Array(8 - head.length - tail.length).fill("0"), ...tail];
  return full.slice(0, 4).join(":") + "::/64";
}

/** The registration gate of a running server. */
export class Registration {
  #recent = new Map<string, number[]>();

  constructor(
    readonly mode: RegistrationMode,
    readonly store: Store,
    /** Sign-ups accepted from one address in SIGNUP_WINDOW_MS. */
    readonly perAddress: number = MAX_SIGNUPS_PER_ADDRESS,
  ) {}

  /**
   * Lets a sign-up from `host` through, or throws: `registration_closed`, `invite_required`,
   * `rate_limited`. Returns an undo that gives a used invite back (the sign-up then failed).
   */
  async admit(
    host: string,
    invite: string | undefined,
    now = Date.now(),
  ): Promise<() => Promise<void>> {
    if (this.mode === "closed") {
      throw new ProtocolError(
        "registration_closed",
        "this server does not take new sign-ups; ask its operator for an account",
      );
    }
    const key = signupKey(host);
    const recent = (this.#recent.get(key) ?? []).filter((t) => now - t < SIGNUP_WINDOW_MS);
    if (recent.length >= this.perAddress) {
      throw new ProtocolError(
        "rate_limited",
        `too many sign-ups from this address; try again in ${SIGNUP_WINDOW_MS / 60_000} minutes`,
      );
    }
    let undo = () => Promise.resolve();
    if (this.mode === "token") {
      if (!invite) {
        throw new ProtocolError("invite_required", "this server needs an invite token to sign up");
      }
      const hash = await inviteHash(invite);
      if (!(await this.store.takeInvite(hash))) {
        throw new ProtocolError(
          "invite_required",
          "that invite token is not valid (used already, revoked or mistyped)",
        );
      }
      undo = () => this.store.addInvite(hash, now);
    }
    recent.push(now);
    this.#recent.set(key, recent);
    if (this.#recent.size > MAX_TRACKED_ADDRESSES) this.#forgetOld(now);
    return undo;
  }

  #forgetOld(now: number): void {
    for (const [k, times] of this.#recent) {
      if (times.every((t) => now - t >= SIGNUP_WINDOW_MS)) this.#recent.delete(k);
    }
  }
}

/** Addresses remembered before old ones are swept. */
const MAX_TRACKED_ADDRESSES = 10_000;
