/**
 * Runs Signal's native libsignal beside pesuchat's crypto benchmark: a Node process
 * (scripts/libsignal/bench.mjs) that measures one workload per request. Benchmark only: nothing
 * in pesuchat uses libsignal, and CI never installs it.
 *
 * The npm package ships its native library prebuilt for each platform inside the package, so an
 * ordinary `npm ci` installs it with no build and no download beyond the registry.
 *
 * @module
 */

const DIR = new URL("./libsignal/", import.meta.url);
const INSTALLED = new URL("node_modules/@signalapp/libsignal-client/package.json", DIR);
/** Longest the one-time install may take. */
export const INSTALL_TIMEOUT_MS = 300_000;

/** A running libsignal benchmark process. */
export interface Libsignal {
  /**
   * Runs `name` for about `seconds`: the iterations done, the seconds they took and the CPU
   * seconds the process used meanwhile (all its threads).
   */
  run(
    name: string,
    seconds: number,
  ): Promise<{ count: number; seconds: number; cpuSeconds: number }>;
  close(): Promise<void>;
}

async function exists(url: URL): Promise<boolean> {
  try {
    await Deno.stat(url);
    return true;
  } catch {
    return false;
  }
}

async function install(): Promise<boolean> {
  console.error("bench: installing @signalapp/libsignal-client into scripts/libsignal (once)");
  try {
    const out = await new Deno.Command("npm", {
      args: ["ci", "--no-audit", "--no-fund", "--ignore-scripts"],
      cwd: DIR,
      stdout: "inherit",
      stderr: "inherit",
      signal: AbortSignal.timeout(INSTALL_TIMEOUT_MS),
    }).output();
    return out.success;
  } catch (e) {
    console.error(`bench: npm failed: ${(e as Error).message}`);
    return false;
  }
}

/** Starts the process, installing the package first if needed; null when that is not possible. */
export async function startLibsignal(): Promise<Libsignal | null> {
  if (!(await exists(INSTALLED)) && !(await install())) {
    console.error("bench: libsignal unavailable; pesuchat's figures only");
    return null;
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command("node", {
      args: [new URL("bench.mjs", DIR).pathname],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
  } catch (e) {
    console.error(`bench: cannot run node (${(e as Error).message}); pesuchat's figures only`);
    return null;
  }
  const text = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  const nextLine = async (): Promise<string | null> => {
    while (!buffered.includes("\n")) {
      const { value, done } = await text.read();
      if (done) return null;
      buffered += value;
    }
    const at = buffered.indexOf("\n");
    const line = buffered.slice(0, at);
    buffered = buffered.slice(at + 1);
    return line;
  };
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  return {
    async run(name, seconds) {
      await writer.write(encoder.encode(JSON.stringify({ case: name, seconds }) + "\n"));
      const line = await nextLine();
      if (line === null) throw new Error("libsignal benchmark process ended");
      const answer = JSON.parse(line);
      if (answer.error) throw new Error(`libsignal ${name}: ${answer.error}`);
      return { count: answer.count, seconds: answer.seconds, cpuSeconds: answer.cpuSeconds };
    },
    async close() {
      await writer.close();
      await text.cancel();
      await child.status;
    },
  };
}
