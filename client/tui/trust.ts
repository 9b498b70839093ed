/**
 * First contact with a server: its key fingerprint and a question, as SSH asks. The answer
 * defaults to no, because trusting the wrong key once means trusting it for good.
 *
 * @module
 */

import { ChatClient } from "../chat.ts";
import { HostKeyUnknownError } from "../known_hosts.ts";
import type { Profile } from "../profile.ts";
import type { Address } from "../servers.ts";
import { ClientProblem } from "./problems.ts";
import { confirm, type PromptOutput, say } from "./prompts.ts";
import { TRUST_QUESTION, trustLines } from "../words.ts";

/**
 * The `confirmNewServer` callback for `ChatClient.connect`: shows `server`'s fingerprint, where
 * it will be remembered, and asks whether to trust it.
 */
export function trustQuestion(
  server: string,
  knownHosts: string,
  output?: PromptOutput,
): (fingerprint: string) => Promise<boolean> {
  return async (fingerprint) => {
    say.info(trustLines(server, knownHosts).join("\n"), output);
    // The fingerprint is part of the question, so even a small terminal that scrolls the lines
    // above away shows it next to the question it belongs to.
    return (await confirm(`${TRUST_QUESTION}\n${server} ${fingerprint}`, { output })) ?? false;
  };
}

/** Where to connect, and the fingerprint given with `--trust`, if any. */
export interface TrustTarget {
  hostname: string;
  port: number;
  alternates?: Address[];
  profile: Profile;
  trust?: string;
}

/**
 * Connects, checking the server key against known_hosts. A new key is trusted when it matches
 * `--trust`; without `--trust`, `ask` (if given) puts the question. With `--trust` nothing is
 * asked: a different key is refused, because the user said which key to expect.
 */
export async function connectTrusting(
  t: TrustTarget,
  ask?: (fingerprint: string) => Promise<boolean>,
): Promise<ChatClient> {
  try {
    return await ChatClient.connect({
      hostname: t.hostname,
      port: t.port,
      alternates: t.alternates,
      profile: t.profile,
      trust: t.trust,
      confirmNewServer: t.trust === undefined ? ask : undefined,
    });
  } catch (e) {
    if (e instanceof HostKeyUnknownError && t.trust !== undefined) {
      throw new ClientProblem(
        "trust_mismatch",
        `the key of ${e.host} is ${e.presentedFingerprint}, not the --trust fingerprint`,
        "someone may be impersonating the server, or the fingerprint was mistyped;\n" +
          "check it with the server's operator",
      );
    }
    throw e;
  }
}
