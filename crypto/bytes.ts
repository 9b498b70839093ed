/**
 * Byte helpers shared by every module: concatenation, constant-time comparison, hex and UTF-8,
 * and the big-endian integers the wire formats use.
 *
 * @module
 */

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Joins byte arrays into one new array. */
export function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Compares two arrays without an early exit, so the time taken does not reveal where they differ.
 * Arrays of different lengths are unequal (the length itself is not secret here).
 */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** True when every byte is zero, examined in constant time. */
export function isAllZero(a: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < a.length; i++) acc |= a[i]!;
  return acc === 0;
}

/** Lowercase hex of the bytes. */
export function toHex(a: Uint8Array): string {
  return a.toHex();
}

/** Bytes from hex; throws a TypeError naming the bad input. */
export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw new TypeError(
      `expected an even-length hex string, got ${JSON.stringify(hex.slice(0, 16))}`,
    );
  }
  return Uint8Array.fromHex(hex);
}

/** Standard base64 with padding. */
export function toBase64(a: Uint8Array): string {
  return a.toBase64();
}

/** Bytes from standard base64; throws a TypeError when the input is not base64. */
export function fromBase64(text: string): Uint8Array<ArrayBuffer> {
  return Uint8Array.fromBase64(text);
}

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text);
}

/** A string from UTF-8 bytes; throws a TypeError on invalid UTF-8. */
export function fromUtf8(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

/** A copy of `bytes` backed by its own ArrayBuffer (Web Crypto wants `BufferSource`). */
export function copyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

/** Overwrites the array with zeros; used on key material that is no longer needed. */
export function wipe(a: Uint8Array): void {
  a.fill(0);
}

/** Cryptographically random bytes. */
export function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  // getRandomValues fills at most 65,536 bytes per call.
  for (let i = 0; i < length; i += 65536) {
    crypto.getRandomValues(out.subarray(i, Math.min(length, i + 65536)));
  }
  return out;
}

/** Big-endian u16. */
export function u16be(n: number): Uint8Array<ArrayBuffer> {
  assertInt(n, 0, 0xffff, "u16");
  return new Uint8Array([n >>> 8, n & 0xff]);
}

/** Big-endian u32. */
export function u32be(n: number): Uint8Array<ArrayBuffer> {
  assertInt(n, 0, 0xffffffff, "u32");
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** Big-endian u64 from a bigint. */
export function u64be(n: bigint): Uint8Array<ArrayBuffer> {
  if (n < 0n || n > 0xffffffffffffffffn) throw new RangeError(`expected a u64, got ${n}`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, n);
  return out;
}

function assertInt(n: number, min: number, max: number, what: string): void {
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new RangeError(`expected a ${what} in [${min}, ${max}], got ${n}`);
  }
}

/**
 * Asserts that `value` is a Uint8Array, of `length` bytes when given. The message names what was
 * expected and what came, as every exported crypto function's input check does.
 */
export function assertBytes(
  value: unknown,
  length?: number,
  name = "value",
): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name}: expected Uint8Array, got ${describe(value)}`);
  }
  if (length !== undefined && value.length !== length) {
    throw new TypeError(`${name}: expected ${length} bytes, got ${value.length}`);
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "object") return value.constructor?.name ?? "object";
  return typeof value;
}
