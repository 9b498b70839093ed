/**
 * What an operator sees, through the real program: `pesuchat server …` processes, their exit
 * codes and their stderr.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { freePort, PesuchatProcess, setupUnattended } from "./support/process.ts";
import { TmuxClient } from "./support/tmux.ts";

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "pesuchat_op_" });
}

Deno.test("a client that declines the key at first contact is not logged as a failed handshake", async () => {
  const dir = join(await tempDir(), "srv");
  const port = freePort();
  assert.equal((await setupUnattended(dir, port)).code, 0);
  const run = new PesuchatProcess(["server", "run", "--dir", dir]);
  try {
    await run.waitFor(/listening addr=/);
    const c = await TmuxClient.start({
      args: ["connect", `127.0.0.1:${port}`, "--profile", await tempDir()],
    });
    try {
      await c.waitFor("Trust this server and remember its key?");
      await c.keys("n");
      await c.waitFor("not connecting");
      assert.equal(await c.exitCode(), 1);
    } finally {
      await c.stop();
    }
    await run.waitFor(/left during the handshake/);
    assert.doesNotMatch(run.output, /handshake failed/);
  } finally {
    run.kill("SIGTERM");
    await run.done;
  }
});
