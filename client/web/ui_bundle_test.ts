import assert from "node:assert/strict";
import { buildWebBundle } from "../../scripts/build_web.ts";

Deno.test("ui_bundle.gen.ts is the bundle of client/web/ui as it is now", async () => {
  const committed = await Deno.readTextFile(new URL("./ui_bundle.gen.ts", import.meta.url));
  assert.equal(
    committed,
    await buildWebBundle(),
    "run 'deno task web:build' and commit the result",
  );
});
