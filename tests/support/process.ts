/**
 * pesuchat as a separate process, as an operator runs it: spawn with arguments and environment,
 * wait for lines on stderr, signal, and collect the exit code.
 *
 * @module
 */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** A running pesuchat process. */
export class PesuchatProcess {
  readonly child: Deno.ChildProcess;
  readonly lines: string[] = [];
  #waiters: (() => void)[] = [];
  readonly done: Promise<Deno.CommandStatus>;
  #stdin: WritableStreamDefaultWriter<Uint8Array> | null;

  constructor(args: string[], opts: { env?: Record<string, string>; stdin?: boolean } = {}) {
    this.child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", MAIN, ...args],
      env: { NO_COLOR: "1", ...opts.env },
      stdin: opts.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    this.#stdin = opts.stdin ? this.child.stdin.getWriter() : null;
    const pump = async (s: ReadableStream<Uint8Array>) => {
      let buf = "";
      for await (const chunk of s.pipeThrough(new TextDecoderStream())) {
        buf += chunk;
        const parts = buf.split("\n");
        buf = parts.pop()!;
        this.lines.push(...parts);
        for (const w of this.#waiters.splice(0)) w();
      }
      if (buf) this.lines.push(buf);
      for (const w of this.#waiters.splice(0)) w();
    };
    const pumps = Promise.all([pump(this.child.stdout), pump(this.child.stderr)]);
    this.done = pumps.then(() => this.child.status);
  }

  /** Writes a line to stdin. */
  async write(line: string): Promise<void> {
    await this.#stdin!.write(new TextEncoder().encode(line + "\n"));
  }

  /** Closes stdin. */
  async closeStdin(): Promise<void> {
    await this.#stdin?.close();
  }

  /** The first output line matching `re`, waiting up to `timeoutMs`. */
  async waitFor(re: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find((l) => re.test(l));
      if (hit) return hit;
      if (Date.now() > deadline) {
        throw new Error(`no line matching ${re} in:\n${this.lines.join("\n")}`);
      }
      await new Promise<void>((r) => {
        this.#waiters.push(r);
        setTimeout(r, 200);
      });
    }
  }

  /** Sends a signal. */
  kill(signal: Deno.Signal = "SIGTERM"): void {
    try {
      this.child.kill(signal);
    } catch {
      // exited already
    }
  }

  /** Everything printed, one string. */
  get output(): string {
    return this.lines.join("\n");
  }
}

/** Runs pesuchat to completion and returns its exit code and output. */
export async function runPesuchat(
  args: string[],
  opts: { env?: Record<string, string>; input?: string } = {},
): Promise<{ code: number; output: string }> {
  const p = new PesuchatProcess(args, { env: opts.env, stdin: opts.input !== undefined });
  if (opts.input !== undefined) {
    await p.write(opts.input.replace(/\n$/, ""));
    await p.closeStdin();
  }
  const status = await p.done;
  return { code: status.code, output: p.output };
}

/** Where {@linkcode freePort} looks: below Linux's ephemeral range (32768-60999). */
const FREE_PORT_RANGE = { from: 20_000, to: 32_000 };
/** Ports tried before falling back to one the system picks. */
const FREE_PORT_TRIES = 200;

/**
 * A TCP port that was free a moment ago, for a server that is told its port and binds it later.
 * It is picked at random below the ephemeral range: a port the system hands out for `port: 0` (to
 * any of the other tests running meanwhile) could be taken again before the server binds it.
 */
export function freePort(): number {
  for (let i = 0; i < FREE_PORT_TRIES; i++) {
    const port = FREE_PORT_RANGE.from +
      Math.floor(Math.random() * (FREE_PORT_RANGE.to - FREE_PORT_RANGE.from));
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch (e) {
      if (!(e instanceof Deno.errors.AddrInUse)) throw e;
    }
  }
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = l.addr.port;
  l.close();
  return port;
}

/** `pesuchat server setup --dir DIR --yes --no-password --port PORT [extra…]`, unattended. */
export function setupUnattended(
  dir: string,
  port: number,
  ...extra: string[]
): Promise<{ code: number; output: string }> {
  return runPesuchat([
    "server",
    "setup",
    "--dir",
    dir,
    "--yes",
    "--no-password",
    "--port",
    String(port),
    ...extra,
  ]);
}
