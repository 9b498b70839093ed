/**
 * First contact with a server: its key fingerprint and a question, as SSH asks. The answer
 * defaults to no, because trusting the wrong key once means trusting it for good.
 *
 * @module
 */

import { confirm, type PromptOutput, say } from "./prompts.ts";

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
    say.info(
      [
        `first contact with ${server}; its key fingerprint is`,
        `  ${fingerprint}`,
        "compare it with the fingerprint the server's operator gave you",
        "('pesuchat server run' prints it). If they are the same, trust it:",
        `it will be remembered in ${knownHosts}`,
      ].join("\n"),
      output,
    );
    return (await confirm("Trust this server and remember its key?", { output })) ?? false;
  };
}
