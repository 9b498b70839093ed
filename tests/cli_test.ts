import assert from "node:assert/strict";

async function pesuchat(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", new URL("../main.ts", import.meta.url).pathname, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const d = new TextDecoder();
  return { code: out.code, stdout: d.decode(out.stdout), stderr: d.decode(out.stderr) };
}

Deno.test("pesuchat --version prints the version from deno.json", async () => {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  const r = await pesuchat("--version");
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), `pesuchat ${denoJson.version}`);
});

Deno.test("pesuchat --help lists every command", async () => {
  const r = await pesuchat("--help");
  assert.equal(r.code, 0);
  for (const cmd of ["server setup", "server run", "connect", "send", "receive"]) {
    assert.match(r.stdout, new RegExp(`pesuchat ${cmd}`));
  }
});

Deno.test("pesuchat with an unknown command exits 2 with a hint", async () => {
  const r = await pesuchat("frobnicate");
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command/);
  assert.match(r.stderr, /pesuchat --help/);
});
