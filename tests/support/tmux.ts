/**
 * The real client in a real terminal: one tmux server per client (its own socket, so tests that
 * run in parallel never see each other's sessions), keys sent with `send-keys`, the screen read
 * with `capture-pane`, and waits that poll the screen until a pattern shows or a timeout passes.
 * `stop()` always kills the tmux server it started.
 *
 * @module
 */

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/** How long a wait for text on the screen lasts unless told otherwise: generous, for a machine
 * whose cores are busy with other work (a wait ends as soon as the text shows). */
export const SCREEN_TIMEOUT_MS = 60_000;
/** How often the screen is read while waiting. */
const POLL_MS = 50;

async function tmux(socket: string, ...args: string[]): Promise<string> {
  const out = await new Deno.Command("tmux", {
    args: ["-S", socket, ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(`tmux ${args[0]} failed: ${new TextDecoder().decode(out.stderr).trim()}`);
  }
  return new TextDecoder().decode(out.stdout);
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Options of {@linkcode TmuxClient.start}. */
export interface TmuxOptions {
  /** Arguments after `main.ts`, e.g. ["connect", "127.0.0.1:7400", "--profile", dir]. */
  args: string[];
  columns?: number;
  rows?: number;
  env?: Record<string, string>;
  /** The program to run instead of `deno run -A main.ts` (e.g. the bundle's wrapper). */
  program?: string[];
}

/** pesuchat running in a tmux pane. */
export class TmuxClient {
  private constructor(readonly socket: string, readonly dir: string) {}

  /**
   * Starts `deno run -A main.ts ARGS` in a new tmux session of `columns` × `rows` (80 × 24 by
   * default). When the program ends the pane shows `[exit CODE]` and stays for reading.
   */
  static async start(o: TmuxOptions): Promise<TmuxClient> {
    const dir = await Deno.makeTempDir({ prefix: "pesuchat_tmux_" });
    const socket = `${dir}/sock`;
    const program = o.program ?? [Deno.execPath(), "run", "-A", MAIN];
    // After the program: its exit code, then the terminal's echo and line modes as the shell
    // finds them ("[tty echo icanon]" when the program put the terminal back).
    const command = [...program, ...o.args].map(shellQuote).join(" ") +
      `; echo "[exit $?]"; echo "[tty $(stty -a | tr ' ' '\\n' | grep -xE -- '-?(echo|icanon)' | tr '\\n' ' ')]"; sleep 600`;
    const env = { NO_COLOR: "1", TERM: "xterm-256color", ...o.env };
    await tmux(
      socket,
      "new-session",
      "-d",
      "-s",
      "pesuchat",
      "-x",
      String(o.columns ?? 80),
      "-y",
      String(o.rows ?? 24),
      ...Object.entries(env).flatMap(([k, v]) => ["-e", `${k}=${v}`]),
      command,
    );
    return new TmuxClient(socket, dir);
  }

  /** Sends named keys (tmux names: "Enter", "Down", "C-c", …) or text, as typed. */
  async keys(...keys: string[]): Promise<void> {
    await tmux(this.socket, "send-keys", "-t", "pesuchat", ...keys);
  }

  /** Types `text` literally (no key names), without Enter. */
  async type(text: string): Promise<void> {
    await tmux(this.socket, "send-keys", "-t", "pesuchat", "-l", text);
  }

  /** Pastes `text` as a terminal does when the program asked for bracketed paste. */
  async paste(text: string): Promise<void> {
    await tmux(this.socket, "set-buffer", "-b", "t", "--", text);
    await tmux(this.socket, "paste-buffer", "-p", "-d", "-b", "t", "-t", "pesuchat");
  }

  /** Resizes the pane (and the window) to `columns` × `rows`. */
  async resize(columns: number, rows: number): Promise<void> {
    await tmux(
      this.socket,
      "resize-window",
      "-t",
      "pesuchat",
      "-x",
      String(columns),
      "-y",
      String(rows),
    );
  }

  /** Types `text` and presses Enter. */
  async line(text: string): Promise<void> {
    await this.type(text);
    await this.keys("Enter");
  }

  /**
   * What the pane shows now, one string with a line per row (trailing spaces trimmed; a line the
   * terminal wrapped is joined back into one).
   */
  async screen(): Promise<string> {
    const text = await tmux(this.socket, "capture-pane", "-p", "-J", "-t", "pesuchat");
    return text.split("\n").map((l) => l.trimEnd()).join("\n");
  }

  /** The rows of the pane now. */
  async rows(): Promise<string[]> {
    return (await this.screen()).split("\n");
  }

  /** Waits until the screen matches `pattern` (or the test says yes); returns the screen. Throws with the screen on timeout. */
  async waitFor(
    pattern: RegExp | string | ((screen: string) => boolean),
    timeoutMs = SCREEN_TIMEOUT_MS,
  ): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    const test = (s: string) =>
      typeof pattern === "string"
        ? s.includes(pattern)
        : typeof pattern === "function"
        ? pattern(s)
        : pattern.test(s);
    let last = "";
    while (Date.now() < deadline) {
      last = await this.screen();
      if (test(last)) return last;
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    throw new Error(`timed out waiting for ${pattern} on the screen:\n${last}`);
  }

  /**
   * Waits until the question being asked now starts with `label`. A form's answered questions
   * stay on the screen (marked ◇), so waiting for their text alone could type into the wrong
   * field; the active one is marked ◆ (▲ while it shows a complaint).
   */
  prompt(label: string, timeoutMs = SCREEN_TIMEOUT_MS): Promise<string> {
    const escaped = label.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    return this.waitFor(new RegExp(`^[◆▲]  ${escaped}`, "m"), timeoutMs);
  }

  /** Waits until the program has ended and returns its exit code. */
  async exitCode(timeoutMs = SCREEN_TIMEOUT_MS): Promise<number> {
    const screen = await this.waitFor(/\[exit \d+\]/, timeoutMs);
    return Number(screen.match(/\[exit (\d+)\]/)![1]);
  }

  /** After the program ended: the terminal's modes as the shell found them, e.g. "icanon echo". */
  async ttyModes(timeoutMs = SCREEN_TIMEOUT_MS): Promise<string> {
    const screen = await this.waitFor(/\[tty [^\]]*\]/, timeoutMs);
    return screen.match(/\[tty ([^\]]*)\]/)![1]!.trim();
  }

  /** Whether the pane shows the alternate screen (a full-screen program's) now. */
  async alternateScreen(): Promise<boolean> {
    return (await tmux(this.socket, "display-message", "-p", "-t", "pesuchat", "#{alternate_on}"))
      .trim() === "1";
  }

  /** Sends `signal` to the program (the pane's shell's child), as `kill` from another terminal. */
  async signal(signal: Deno.Signal): Promise<void> {
    const shell =
      (await tmux(this.socket, "display-message", "-p", "-t", "pesuchat", "#{pane_pid}"))
        .trim();
    const out = await new Deno.Command("pgrep", { args: ["-P", shell], stdout: "piped" }).output();
    const pids = new TextDecoder().decode(out.stdout).split("\n").filter((l) => l.trim() !== "");
    if (pids.length !== 1) throw new Error(`expected one program under the pane, found ${pids}`);
    Deno.kill(Number(pids[0]), signal);
  }

  /** Kills the tmux server (and with it the program) and removes its folder. */
  async stop(): Promise<void> {
    await tmux(this.socket, "kill-server").catch(() => {});
    await Deno.remove(this.dir, { recursive: true }).catch(() => {});
  }
}
