/**
 * Bytes on the socket: a 10-byte preamble that names the protocol and its version, then
 * Noise messages each behind a 16-bit big-endian length (the Noise specification's own framing,
 * which also bounds every frame at 65,535 bytes before anything is allocated for it).
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import { MAX_FRAME_BYTES } from "./limits.ts";

/** The protocol version this build speaks. */
export const PROTOCOL_VERSION = 1;
/** "PESUCHAT" in ASCII, then the version as a big-endian u16. */
export const PREAMBLE_MAGIC = new TextEncoder().encode("PESUCHAT");
export const PREAMBLE_BYTES = PREAMBLE_MAGIC.length + 2;

/** The minimal stream a frame reader and writer need; `Deno.Conn` is one. */
export interface ByteStream {
  read(p: Uint8Array): Promise<number | null>;
  write(p: Uint8Array): Promise<number>;
  close(): void;
}

/** The preamble for `version`. */
export function preamble(version: number = PROTOCOL_VERSION): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(PREAMBLE_BYTES);
  out.set(PREAMBLE_MAGIC);
  out[PREAMBLE_MAGIC.length] = version >>> 8;
  out[PREAMBLE_MAGIC.length + 1] = version & 0xff;
  return out;
}

/**
 * The version a preamble announces. Throws `ProtocolError("bad_preamble")` when the bytes are
 * not a pesuchat preamble, so a port scanner or a TLS client is refused at once.
 */
export function parsePreamble(bytes: Uint8Array): number {
  if (bytes.length !== PREAMBLE_BYTES) {
    throw new ProtocolError(
      "bad_preamble",
      `expected ${PREAMBLE_BYTES} preamble bytes, got ${bytes.length}`,
    );
  }
  for (let i = 0; i < PREAMBLE_MAGIC.length; i++) {
    if (bytes[i] !== PREAMBLE_MAGIC[i]) {
      throw new ProtocolError("bad_preamble", "the peer is not speaking the pesuchat protocol");
    }
  }
  return (bytes[PREAMBLE_MAGIC.length]! << 8) | bytes[PREAMBLE_MAGIC.length + 1]!;
}

/** Writes all of `data`, looping over short writes. */
export async function writeAll(stream: ByteStream, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await stream.write(off === 0 ? data : data.subarray(off));
}

/** Prefixes a frame with its 16-bit length. */
export function frame(message: Uint8Array): Uint8Array<ArrayBuffer> {
  if (message.length > MAX_FRAME_BYTES) {
    throw new ProtocolError(
      "frame_too_large",
      `frame of ${message.length} bytes exceeds ${MAX_FRAME_BYTES}`,
    );
  }
  const out = new Uint8Array(2 + message.length);
  out[0] = message.length >>> 8;
  out[1] = message.length & 0xff;
  out.set(message, 2);
  return out;
}

/**
 * A connection's read buffer starts small, so thousands of idle connections stay cheap: an idle
 * connection's pending read holds it all the time, and a keepalive fits in a fraction of it.
 */
const INITIAL_BUFFER = 512;
/** It grows (doubling) while reads keep filling it, up to this, so bulk transfers use few reads. */
const MAX_BUFFER = 2 * (2 + MAX_FRAME_BYTES) + 64 * 1024;

/**
 * Reads length-prefixed frames from a stream through one reused buffer. A frame is returned as a
 * view into that buffer, valid until the next call; callers that keep it must copy.
 */
export class FrameReader {
  #buf = new Uint8Array(INITIAL_BUFFER);
  #start = 0;
  #end = 0;

  constructor(readonly stream: ByteStream) {}

  /** Bytes received and not yet consumed (for tests of partial input). */
  get buffered(): number {
    return this.#end - this.#start;
  }

  async #fill(need: number): Promise<boolean> {
    while (this.#end - this.#start < need) {
      if (this.#start > 0) {
        this.#buf.copyWithin(0, this.#start, this.#end);
        this.#end -= this.#start;
        this.#start = 0;
      }
      if (this.#buf.length < need) this.#grow(need);
      const free = this.#buf.length - this.#end;
      const n = await this.stream.read(this.#buf.subarray(this.#end));
      if (n === null || n === 0) return false;
      this.#end += n;
      // A read that filled all the room means data is arriving in bulk: read more per call.
      if (n === free && this.#buf.length < MAX_BUFFER) this.#grow(this.#buf.length * 2);
    }
    return true;
  }

  #grow(size: number): void {
    const next = new Uint8Array(
      Math.min(Math.max(size, this.#buf.length * 2), Math.max(size, MAX_BUFFER)),
    );
    next.set(this.#buf.subarray(this.#start, this.#end));
    this.#end -= this.#start;
    this.#start = 0;
    this.#buf = next;
  }

  /** Exactly `n` bytes (a copy), or throws `ProtocolError("closed")` when the stream ends first. */
  async readExact(n: number): Promise<Uint8Array> {
    if (!(await this.#fill(n))) {
      throw new ProtocolError("closed", `connection closed after ${this.buffered} of ${n} bytes`);
    }
    const out = this.#buf.slice(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }

  /**
   * A whole frame from the bytes already buffered, or undefined when more must be read first (see
   * {@linkcode FrameReader.read}). Throws `ProtocolError("bad_message")` on an empty frame. The
   * frame is a view, valid until the next read.
   */
  take(): Uint8Array | undefined {
    const have = this.#end - this.#start;
    if (have < 2) return undefined;
    const len = (this.#buf[this.#start]! << 8) | this.#buf[this.#start + 1]!;
    if (len === 0) throw new ProtocolError("bad_message", "empty frame");
    if (have < 2 + len) return undefined;
    const out = this.#buf.subarray(this.#start + 2, this.#start + 2 + len);
    this.#start += 2 + len;
    return out;
  }

  /**
   * Reads once from the stream into the buffer, after making room for the frame begun; resolves
   * to false when the stream has ended. Not an async function on purpose: an idle connection waits
   * here, and every async frame on its way to the socket is held in memory while it waits.
   */
  read(): Promise<boolean> {
    const have = this.#end - this.#start;
    const need = have < 2 ? 2 : 2 + ((this.#buf[this.#start]! << 8) | this.#buf[this.#start + 1]!);
    if (this.#start > 0) {
      this.#buf.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#buf.length < need) this.#grow(need);
    const free = this.#buf.length - this.#end;
    return this.stream.read(this.#buf.subarray(this.#end)).then((n) => {
      if (n === null || n === 0) return false;
      this.#end += n;
      // A read that filled all the room means data is arriving in bulk: read more per call.
      if (n === free && this.#buf.length < MAX_BUFFER) this.#grow(this.#buf.length * 2);
      return true;
    });
  }

  /**
   * The next frame, or null when the stream ends cleanly between frames. A stream that ends inside
   * a frame throws `ProtocolError("closed")`; an empty frame throws `ProtocolError("bad_message")`.
   */
  async next(): Promise<Uint8Array | null> {
    for (;;) {
      const f = this.take();
      if (f !== undefined) return f;
      if (!(await this.read())) {
        const e = this.ended();
        if (e) throw e;
        return null;
      }
    }
  }

  /**
   * What the end of the stream means here: null between frames (a clean end), else the
   * `ProtocolError("closed")` that says how far the frame had come.
   */
  ended(): ProtocolError | null {
    const have = this.#end - this.#start;
    if (have === 0) return null;
    if (have < 2) return new ProtocolError("closed", "connection closed inside a frame's length");
    const len = (this.#buf[this.#start]! << 8) | this.#buf[this.#start + 1]!;
    return new ProtocolError("closed", `connection closed after ${have - 2} of ${len} frame bytes`);
  }
}
