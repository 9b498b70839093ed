/**
 * Command-line dispatch: `server setup`, `server run`, `connect`, `web`, `send`, `receive`, `--help`,
 * `--version`. Each command module owns its own flags; this file knows only their names.
 *
 * @module
 */

const USAGE = `pesuchat: end-to-end encrypted chat you can host yourself

usage:
  pesuchat server setup [flags]     create a server: folder, database, keys, password, address
  pesuchat server run [--dir DIR]   run a server that was set up
  pesuchat connect HOST:PORT        open the chat client
  pesuchat web [HOST:PORT]          open the chat client in your browser (on 127.0.0.1)
  pesuchat send HOST:PORT USER TEXT send one message from a script
  pesuchat receive HOST:PORT        print waiting messages (--json for one object per line)
  pesuchat --help | --version

Run a command with --help for its flags.`;

/** Runs the command line `args` and returns the process exit code. */
export async function runCli(args: string[], version: string): Promise<number> {
  const [first, second] = args;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    console.log(USAGE);
    return first === undefined ? 2 : 0;
  }
  if (first === "--version" || first === "-V" || first === "version") {
    console.log(`pesuchat ${version}`);
    return 0;
  }
  if (first === "server" && (second === "setup" || second === "run")) {
    const { serverCommand } = await import("./server/cli.ts");
    return await serverCommand(second, args.slice(2), version);
  }
  if (first === "connect" || first === "send" || first === "receive" || first === "web") {
    const { clientCommand } = await import("./client/cli.ts");
    return await clientCommand(first, args.slice(1));
  }
  console.error(`pesuchat: unknown command ${JSON.stringify(args.join(" "))}`);
  console.error("pesuchat: run 'pesuchat --help' to see the commands");
  return 2;
}
