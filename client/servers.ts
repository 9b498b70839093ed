/**
 * Where a server is, and which server it is. A deployment may have several addresses (nodes, or a
 * load balancer in front of them) for one server key, so the client takes a list of addresses and
 * knows an account by the server's key, never by one address.
 *
 * @module
 */

import { fromBase64, sha256 } from "../crypto/mod.ts";
import { ChatError } from "./chat_types.ts";

/** Addresses in one command line at most. */
export const MAX_ADDRESSES = 16;

/** One address of a server. */
export interface Address {
  hostname: string;
  port: number;
}

/** "host:port", as known_hosts and older profiles key an address (IPv6 hosts unbracketed). */
export function showAddress(a: Address): string {
  return `${a.hostname}:${a.port}`;
}

/** Splits "host:port" (IPv6 hosts in brackets). */
export function splitHost(text: string): [string, number] {
  const m = text.match(/^\[?([^\]]+?)\]?:(\d+)$/);
  if (!m) throw new ChatError("bad_input", `expected HOST:PORT, got ${JSON.stringify(text)}`);
  const port = Number(m[2]);
  if (port < 1 || port > 65535) {
    throw new ChatError("bad_input", `bad port in ${JSON.stringify(text)}`);
  }
  return [m[1]!, port];
}

/** Parses "host1:port1,host2:port2,…": the addresses of one server, tried in order. */
export function parseAddresses(text: string): Address[] {
  const parts = text.split(",").map((p) => p.trim());
  if (parts.length > MAX_ADDRESSES) {
    throw new ChatError("bad_input", `at most ${MAX_ADDRESSES} addresses, got ${parts.length}`);
  }
  return parts.map((p) => {
    const [hostname, port] = splitHost(p);
    return { hostname, port };
  });
}

const ID_BYTES = 16;

/** The name a profile knows a server by: from its static public key. */
export async function serverIdOf(publicKey: Uint8Array): Promise<string> {
  return `key-${(await sha256(publicKey)).subarray(0, ID_BYTES).toHex()}`;
}

/** The same name from the key's fingerprint (`SHA256:…`, as `--trust` takes it). */
export function serverIdOfFingerprint(fp: string): string {
  return `key-${fromBase64(fp.slice("SHA256:".length)).subarray(0, ID_BYTES).toHex()}`;
}
