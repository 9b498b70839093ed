/**
 * A byte writer and a bounds-checked byte reader for the wire formats and stored state of the
 * end-to-end crypto (identities, prekeys, PQXDH messages, ratchet state, envelopes).
 *
 * The reader never reads past its input and takes an error factory, so each format fails with its
 * own domain error (`KeyError("bad_encoding")`, `DecryptError("bad_format")`, …) and a message
 * that names the field that was short.
 *
 * @module
 */

/** Bytes a writer starts with when its caller gives no size. */
export const WRITER_DEFAULT_CAPACITY = 256;

/**
 * Appends fields into one growing buffer. Ratchet state is written around every message, so a
 * caller that knows the size up front passes it: the writer then allocates once and `finish`
 * hands over that buffer without copying it.
 */
export class ByteWriter {
  #buf: Uint8Array<ArrayBuffer>;
  #view: DataView;
  #length = 0;

  /** A writer with room for `capacity` bytes before it first grows. */
  constructor(capacity: number = WRITER_DEFAULT_CAPACITY) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`capacity: expected a positive integer, got ${capacity}`);
    }
    this.#buf = new Uint8Array(capacity);
    this.#view = new DataView(this.#buf.buffer);
  }

  #reserve(n: number): number {
    const at = this.#length;
    if (at + n > this.#buf.length) {
      const next = new Uint8Array(Math.max(this.#buf.length * 2, at + n));
      next.set(this.#buf.subarray(0, at));
      this.#buf = next;
      this.#view = new DataView(next.buffer);
    }
    this.#length = at + n;
    return at;
  }

  /** One byte. */
  u8(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xff) throw new RangeError(`expected a u8, got ${n}`);
    const at = this.#reserve(1);
    this.#buf[at] = n;
    return this;
  }

  /** Big-endian u16. */
  u16(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xffff) {
      throw new RangeError(`expected a u16, got ${n}`);
    }
    const at = this.#reserve(2);
    this.#view.setUint16(at, n);
    return this;
  }

  /** Big-endian u32. */
  u32(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xffff_ffff) {
      throw new RangeError(`expected a u32, got ${n}`);
    }
    const at = this.#reserve(4);
    this.#view.setUint32(at, n);
    return this;
  }

  /** Big-endian u64 from a safe integer (timestamps in milliseconds). */
  u64(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`expected a u64, got ${n}`);
    const at = this.#reserve(8);
    this.#view.setUint32(at, Math.floor(n / 0x1_0000_0000));
    this.#view.setUint32(at + 4, n % 0x1_0000_0000);
    return this;
  }

  /** Raw bytes, no length prefix (the reader must know the length). */
  bytes(b: Uint8Array): this {
    const at = this.#reserve(b.length); // first: it may replace the buffer
    this.#buf.set(b, at);
    return this;
  }

  /** Bytes prefixed by their u32 length. */
  blob(b: Uint8Array): this {
    return this.u32(b.length).bytes(b);
  }

  /**
   * The bytes written, in an array of their own: the writer's buffer itself when the capacity was
   * exact, else a copy of the part written (so a large spare buffer is not kept alive).
   */
  finish(): Uint8Array<ArrayBuffer> {
    return this.#length === this.#buf.length ? this.#buf : this.#buf.slice(0, this.#length);
  }
}

/** Reads fields in order; any short read or trailing byte throws the format's own error. */
export class ByteReader {
  #offset = 0;
  readonly #view: DataView;

  constructor(
    private readonly input: Uint8Array,
    private readonly fail: (message: string) => Error,
  ) {
    this.#view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  }

  /** Bytes not yet read. */
  get remaining(): number {
    return this.input.length - this.#offset;
  }

  #need(n: number, what: string): void {
    if (this.remaining < n) {
      throw this.fail(`${what}: expected ${n} more bytes, got ${this.remaining}`);
    }
  }

  /** One byte. */
  u8(what: string): number {
    this.#need(1, what);
    return this.#view.getUint8(this.#offset++);
  }

  /** Big-endian u16. */
  u16(what: string): number {
    this.#need(2, what);
    const n = this.#view.getUint16(this.#offset);
    this.#offset += 2;
    return n;
  }

  /** Big-endian u32. */
  u32(what: string): number {
    this.#need(4, what);
    const n = this.#view.getUint32(this.#offset);
    this.#offset += 4;
    return n;
  }

  /** Big-endian u64 that must fit a safe integer. */
  u64(what: string): number {
    const hi = this.u32(what);
    const lo = this.u32(what);
    const n = hi * 0x1_0000_0000 + lo;
    if (!Number.isSafeInteger(n)) throw this.fail(`${what}: ${n} is beyond 2^53`);
    return n;
  }

  /** `n` bytes, copied so the result owns its buffer. */
  bytes(n: number, what: string): Uint8Array<ArrayBuffer> {
    this.#need(n, what);
    const out = this.input.slice(this.#offset, this.#offset + n);
    this.#offset += n;
    return out;
  }

  /**
   * `n` bytes as a view into the input, no copy: for fields the caller keeps only as long as the
   * input (a nonce read on the way to decryption) or input it owns (a freshly decrypted state).
   */
  view(n: number, what: string): Uint8Array {
    this.#need(n, what);
    const out = this.input.subarray(this.#offset, this.#offset + n);
    this.#offset += n;
    return out;
  }

  /** A u32-length-prefixed field of at most `max` bytes. */
  blob(max: number, what: string): Uint8Array<ArrayBuffer> {
    const n = this.u32(what);
    if (n > max) throw this.fail(`${what}: expected at most ${max} bytes, got ${n}`);
    return this.bytes(n, what);
  }

  /** Everything not yet read. */
  rest(): Uint8Array<ArrayBuffer> {
    return this.bytes(this.remaining, "rest");
  }

  /** Asserts the input is used up: trailing bytes are an error, not padding. */
  end(what: string): void {
    if (this.remaining !== 0) {
      throw this.fail(`${what}: ${this.remaining} unexpected trailing bytes`);
    }
  }
}
