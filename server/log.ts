/**
 * The server's log: one line per notable event on stderr, `time pesuchat: event key=value …`.
 * Never a secret, a password, a message body or a full name; usernames and addresses only.
 *
 * @module
 */

/** Where log lines go; tests capture them. */
export type LogSink = (line: string) => void;

/** A logger bound to a sink. */
export class Logger {
  constructor(readonly sink: LogSink = (line) => console.error(line)) {}

  /** Logs `event` with fields, each printed as key=value (values quoted when they need it). */
  info(event: string, fields: Record<string, string | number | boolean | undefined> = {}): void {
    let line = `${new Date().toISOString()} pesuchat: ${event}`;
    for (const [k, v] of Object.entries(fields)) {
      if (v === undefined) continue;
      const s = String(v);
      line += ` ${k}=${/^[\w.:@/+=-]+$/.test(s) ? s : JSON.stringify(s)}`;
    }
    this.sink(line);
  }
}

/** A logger that drops everything. */
export const silentLogger: Logger = new Logger(() => {});
