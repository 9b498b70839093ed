/**
 * pesuchat: one program that is both the server and the terminal client. This file only parses
 * the first words of the command line and hands over; everything else lives in `server/` and
 * `client/`.
 *
 * @module
 */

import denoJson from "./deno.json" with { type: "json" };
import { runCli } from "./cli.ts";

if (import.meta.main) {
  Deno.exitCode = await runCli(Deno.args, denoJson.version);
}
