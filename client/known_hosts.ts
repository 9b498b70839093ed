/**
 * known_hosts: the server keys this profile trusts, one line per `host:port`, as SSH keeps them.
 * First contact asks (or takes --trust FINGERPRINT); a changed key is a hard failure that names
 * the file and the line to remove, never a silent reconnect.
 *
 * @module
 */

import { equalBytes, fromBase64, toBase64 } from "../crypto/mod.ts";
import { fingerprint } from "../protocol/fingerprint.ts";

/** What a profile knows of a server's key. */
export type HostKeyStatus = "trusted" | "unknown" | "changed";

/** The server's key is not the one remembered for this address. */
export class HostKeyChangedError extends Error {
  override name = "HostKeyChangedError";
  constructor(
    readonly host: string,
    readonly knownFingerprint: string,
    readonly presentedFingerprint: string,
    readonly file: string,
  ) {
    super(
      `the server key for ${host} has changed: expected ${knownFingerprint}, got ${presentedFingerprint}. ` +
        `Someone may be impersonating the server, or it was set up again.`,
    );
  }
}

/** The server's key is not trusted yet (and no --trust fingerprint matched it). */
export class HostKeyUnknownError extends Error {
  override name = "HostKeyUnknownError";
  constructor(
    readonly host: string,
    readonly presentedFingerprint: string,
    readonly key: Uint8Array,
  ) {
    super(`the server key for ${host} is not known yet: ${presentedFingerprint}`);
  }
}

/** The trusted server keys of a profile, backed by a text file. */
export class KnownHosts {
  #entries = new Map<string, Uint8Array>();
  private constructor(readonly path: string) {}

  /** Loads the file (a missing file is an empty list). Unreadable lines are kept out, not fatal. */
  static async load(path: string): Promise<KnownHosts> {
    const k = new KnownHosts(path);
    let text = "";
    try {
      text = await Deno.readTextFile(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    for (const line of text.split("\n")) {
      const [host, kind, key] = line.trim().split(/\s+/);
      if (!host || host.startsWith("#") || kind !== "x25519" || !key) continue;
      try {
        const bytes = fromBase64(key);
        if (bytes.length === 32) k.#entries.set(host, bytes);
      } catch {
        // a damaged line trusts nothing
      }
    }
    return k;
  }

  /** The status of `key` for `host` ("host:port"). */
  check(host: string, key: Uint8Array): HostKeyStatus {
    const known = this.#entries.get(host);
    if (!known) return "unknown";
    return equalBytes(known, key) ? "trusted" : "changed";
  }

  /** Every address remembered with exactly this key. */
  hostsWith(key: Uint8Array): string[] {
    return [...this.#entries].filter(([, k]) => equalBytes(k, key)).map(([h]) => h);
  }

  /** The remembered key of `host`, if any. */
  get(host: string): Uint8Array | undefined {
    return this.#entries.get(host);
  }

  /** Remembers `key` for `host` and appends it to the file. Never replaces a different key. */
  async add(host: string, key: Uint8Array): Promise<void> {
    const status = this.check(host, key);
    if (status === "trusted") return;
    if (status === "changed") {
      throw new HostKeyChangedError(
        host,
        await fingerprint(this.#entries.get(host)!),
        await fingerprint(key),
        this.path,
      );
    }
    this.#entries.set(host, key);
    await Deno.writeTextFile(this.path, `${host} x25519 ${toBase64(key)}\n`, {
      append: true,
      create: true,
      mode: 0o600,
    });
  }

  /**
   * A `verifyServerKey` callback for the handshake: passes a trusted key, trusts and remembers a
   * key whose fingerprint equals `trust`, and otherwise throws `HostKeyUnknownError` or
   * `HostKeyChangedError` before the client reveals anything.
   */
  verifier(host: string, trust?: string): (key: Uint8Array) => Promise<void> {
    return async (key) => {
      const status = this.check(host, key);
      if (status === "trusted") return;
      const fp = await fingerprint(key);
      if (status === "changed") {
        throw new HostKeyChangedError(
          host,
          await fingerprint(this.#entries.get(host)!),
          fp,
          this.path,
        );
      }
      if (trust !== undefined && trust === fp) {
        await this.add(host, key);
        return;
      }
      throw new HostKeyUnknownError(host, fp, key);
    };
  }

  /**
   * A `verifyServerKey` callback for another address of a server already connected to (a
   * cluster's other node): passes `key` (remembering it for `host` if new), and throws
   * `HostKeyChangedError` or `HostKeyUnknownError` for any other key.
   */
  sameServer(host: string, serverKey: Uint8Array): (key: Uint8Array) => Promise<void> {
    return async (key) => {
      const status = this.check(host, key);
      if (status === "trusted") return;
      if (status === "unknown" && equalBytes(key, serverKey)) {
        await this.add(host, key);
        return;
      }
      const fp = await fingerprint(key);
      if (status === "changed") {
        throw new HostKeyChangedError(
          host,
          await fingerprint(this.#entries.get(host)!),
          fp,
          this.path,
        );
      }
      throw new HostKeyUnknownError(host, fp, key);
    };
  }
}
