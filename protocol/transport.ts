/**
 * The encrypted channel: a Noise XX handshake over a byte stream, then application records
 * carried in Noise transport frames.
 *
 * Records are length-prefixed (u32) inside the decrypted byte stream, so a record larger than a
 * frame is split across frames, and records that queue up while a frame is being sealed and
 * written travel together in the next frame (write coalescing: one AES-GCM call and one write
 * for many small messages, while a lone message still goes out at once).
 *
 * @module
 */

import { setImmediate } from "node:timers";
import { concat, HandshakeState, type TransportState, type X25519KeyPair } from "../crypto/mod.ts";
import { ProtocolError } from "./errors.ts";
import {
  type ByteStream,
  frame,
  FrameReader,
  parsePreamble,
  preamble,
  PROTOCOL_VERSION,
  writeAll,
} from "./framing.ts";
import { MAX_FRAME_PLAINTEXT, MAX_RECORD_BYTES } from "./limits.ts";

/** The Noise prologue: binds the protocol name and the client's preamble into the handshake. */
export function prologue(clientPreamble: Uint8Array): Uint8Array {
  return concat(new TextEncoder().encode("pesuchat Noise_XX_25519_AESGCM_SHA256 "), clientPreamble);
}

const RECORD_HEADER = 4;
/** Bytes sealed before a write is issued when many records are queued. */
const WRITE_BATCH_BYTES = 256 * 1024;
const EMPTY = new Uint8Array(0);
/** Before closing a stream whose reading was refused: how long and how much of the peer's input
 * is read and dropped, and how long a pause in it ends that early. */
const LINGER_MS = 2_000;
const LINGER_IDLE_MS = 300;
const LINGER_BYTES = 4 * 1024 * 1024;

/** An established, encrypted channel. */
export class SecureChannel {
  readonly #stream: ByteStream;
  readonly #reader: FrameReader;
  readonly #transport: TransportState;
  /** The peer's static Noise key: the server's pinned key, or the client's device key. */
  readonly remoteStaticKey: Uint8Array;
  readonly handshakeHash: Uint8Array;
  /** Largest record accepted from the peer; the server raises it after login. */
  maxRecordBytes: number;

  #queue: Uint8Array[] = [];
  #taken = 0;
  #queued = 0;
  #written = 0;
  #pumping: Promise<void> | null = null;
  #closed = false;
  #error: ProtocolError | null = null;
  /** Why reading stopped while writing still works (a bad frame, a record over the limit). */
  #refused: ProtocolError | null = null;
  /** Past this many unwritten bytes the peer is not reading: the channel closes. The server sets
   * it (MAX_UNSENT_BYTES); a client waits on its own server instead. */
  maxUnsentBytes = Number.POSITIVE_INFINITY;

  #ready: Uint8Array[] = [];
  /** A record length split across frames, as far as it came (a number: no array per channel). */
  #header = 0;
  #headerFill = 0;
  #body: Uint8Array | null = null;
  #bodyFill = 0;

  constructor(
    stream: ByteStream,
    reader: FrameReader,
    transport: TransportState,
    remoteStaticKey: Uint8Array,
    handshakeHash: Uint8Array,
    maxRecordBytes: number,
  ) {
    this.#stream = stream;
    this.#reader = reader;
    this.#transport = transport;
    this.remoteStaticKey = remoteStaticKey;
    this.handshakeHash = handshakeHash;
    this.maxRecordBytes = maxRecordBytes;
  }

  /** True once closed by either side or by an error. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes queued and not yet sealed. */
  get queuedBytes(): number {
    return this.#queued;
  }

  /**
   * Queues a record; it is sealed and written as soon as the writer is free. A peer that leaves
   * more than `maxUnsentBytes` unread is cut off (`not_reading`): the queue is dropped, so what one
   * connection can make the process hold stays bounded.
   */
  send(record: Uint8Array): void {
    if (this.#closed) throw this.#error ?? new ProtocolError("closed", "the connection is closed");
    if (this.#queued + RECORD_HEADER + record.length > this.maxUnsentBytes) {
      this.#fail(
        new ProtocolError(
          "not_reading",
          `the peer left more than ${this.maxUnsentBytes} bytes unread`,
        ),
      );
      return;
    }
    // The length header is written by #take as the record is copied into its frame: no header
    // array per record.
    this.#queue.push(record);
    this.#queued += RECORD_HEADER + record.length;
    this.#pumping ??= this.#pump();
  }

  /**
   * Resolves once at most `bytes` are queued and unwritten, or the channel closed. When the peer
   * takes nothing for `stallMs` meanwhile, the channel is closed (`not_reading`).
   */
  async room(bytes: number, stallMs: number): Promise<void> {
    let seen = this.#written;
    let since = Date.now();
    while (this.#queued > bytes && this.#pumping && !this.#closed) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tick = new Promise((r) => timer = setTimeout(r, Math.min(stallMs, 250)));
      await Promise.race([this.#pumping, tick]);
      clearTimeout(timer);
      if (this.#written !== seen) {
        seen = this.#written;
        since = Date.now();
      } else if (Date.now() - since >= stallMs) {
        this.#fail(new ProtocolError("not_reading", `the peer read nothing in ${stallMs} ms`));
      }
    }
  }

  /** Resolves when everything queued so far is written. */
  async flush(): Promise<void> {
    while (this.#pumping) await this.#pumping;
    if (this.#error) throw this.#error;
  }

  async #pump(): Promise<void> {
    try {
      // Let the rest of the current turn of the event loop queue its records too, so a burst (a
      // commit's worth of deliveries, a reply to each send of a frame) is sealed as one frame.
      // One microtask was too short: the records of a burst are made over many microtasks, and
      // the first frame went out with one or two of them.
      await new Promise((r) => setImmediate(r));
      while (this.#queued > 0 && !this.#closed) {
        const frames: Uint8Array[] = [];
        let batch = 0;
        while (this.#queued > 0 && batch < WRITE_BATCH_BYTES) {
          const plaintext = this.#take(Math.min(this.#queued, MAX_FRAME_PLAINTEXT));
          const sealed = await this.#transport.send.encryptWithAd(EMPTY, plaintext);
          frames.push(frame(sealed));
          batch += sealed.length + 2;
        }
        await writeAll(this.#stream, frames.length === 1 ? frames[0]! : concat(...frames));
        this.#written += batch;
      }
    } catch (e) {
      this.#fail(
        e instanceof ProtocolError
          ? e
          : new ProtocolError("closed", `write failed: ${(e as Error).message}`),
      );
    } finally {
      this.#pumping = null;
    }
  }

  /**
   * Removes `n` bytes of the queued stream (each record behind its u32 length) from the front of
   * the queue into one array. `#taken` counts the bytes of the first record (header included)
   * already taken into an earlier frame.
   */
  #take(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      const record = this.#queue[0]!;
      let pos = this.#taken;
      for (; pos < RECORD_HEADER && off < n; pos++) {
        out[off++] = (record.length >>> (8 * (RECORD_HEADER - 1 - pos))) & 0xff;
      }
      if (off < n) {
        const from = pos - RECORD_HEADER;
        const k = Math.min(record.length - from, n - off);
        out.set(from === 0 && k === record.length ? record : record.subarray(from, from + k), off);
        off += k;
        pos += k;
      }
      if (pos === RECORD_HEADER + record.length) {
        this.#queue.shift();
        this.#taken = 0;
      } else {
        this.#taken = pos;
      }
    }
    this.#queued -= n;
    return out;
  }

  /**
   * The next record, or null when the peer closed cleanly. Throws `ProtocolError` when the stream
   * can no longer be trusted. After a truncated frame or a broken socket the channel is closed.
   * After a frame that fails authentication or a record over the limit only reading stops: the
   * caller can still send an error record (and replies already due) before it closes.
   */
  async receive(): Promise<Uint8Array | null> {
    while (this.#ready.length === 0) {
      // Records that arrived before a bad one are handed out first; then the error.
      if (this.#refused) throw this.#refused;
      if (this.#closed) {
        if (this.#error && this.#error.code !== "closed") throw this.#error;
        return null;
      }
      // One frame from what is buffered, or one read and round again: the read is the only await
      // on the way to the socket, so an idle connection holds as few suspended frames as it can.
      let f: Uint8Array | undefined | null;
      try {
        f = this.#reader.take();
        if (f === undefined) {
          if (await this.#reader.read()) continue;
          const truncated = this.#reader.ended();
          if (truncated) throw truncated;
          f = null;
        }
      } catch (e) {
        if (this.#closed) return null;
        if (e instanceof ProtocolError && e.code === "bad_message") throw this.#refuse(e);
        throw this.#fail(
          e instanceof ProtocolError ? e : new ProtocolError("closed", (e as Error).message),
        );
      }
      if (f === null) {
        if (this.#headerFill > 0 || this.#body) {
          throw this.#fail(new ProtocolError("closed", "connection closed inside a record"));
        }
        this.close();
        return null;
      }
      let plaintext: Uint8Array;
      try {
        plaintext = await this.#transport.receive.decryptWithAd(EMPTY, f);
      } catch {
        throw this.#refuse(new ProtocolError("bad_message", "a frame failed authentication"));
      }
      this.#parse(plaintext);
    }
    return this.#ready.shift()!;
  }

  #parse(p: Uint8Array): void {
    let off = 0;
    while (off < p.length) {
      if (this.#body === null) {
        if (this.#headerFill === 0 && p.length - off >= RECORD_HEADER) {
          const len = new DataView(p.buffer, p.byteOffset + off, RECORD_HEADER).getUint32(0);
          off += RECORD_HEADER;
          if (!this.#lengthOk(len)) return;
          if (p.length - off >= len) {
            this.#ready.push(p.subarray(off, off + len));
            off += len;
            continue;
          }
          this.#body = new Uint8Array(len);
          this.#bodyFill = 0;
        } else {
          const k = Math.min(RECORD_HEADER - this.#headerFill, p.length - off);
          for (let i = 0; i < k; i++) this.#header = this.#header * 256 + p[off + i]!;
          this.#headerFill += k;
          off += k;
          if (this.#headerFill < RECORD_HEADER) return;
          const len = this.#header;
          this.#headerFill = 0;
          this.#header = 0;
          if (!this.#lengthOk(len)) return;
          this.#body = new Uint8Array(len);
          this.#bodyFill = 0;
        }
      }
      const body = this.#body;
      const k = Math.min(body.length - this.#bodyFill, p.length - off);
      body.set(p.subarray(off, off + k), this.#bodyFill);
      this.#bodyFill += k;
      off += k;
      if (this.#bodyFill === body.length) {
        this.#ready.push(body);
        this.#body = null;
      }
    }
  }

  /** False (and the stream refused from here on) when a record header is over the limit. */
  #lengthOk(len: number): boolean {
    if (len <= this.maxRecordBytes) return true;
    this.#refused = new ProtocolError(
      "record_too_large",
      `record of ${len} bytes exceeds the limit of ${this.maxRecordBytes}`,
    );
    return false;
  }

  /** Stops reading for good; writing goes on until the caller closes. */
  #refuse(error: ProtocolError): ProtocolError {
    this.#refused ??= error;
    return this.#refused;
  }

  #fail(error: ProtocolError): ProtocolError {
    if (!this.#closed) {
      this.#error = error;
      this.close();
    }
    return error;
  }

  /** Closes the socket at once; queued records that were not written are dropped. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#queue = [];
    this.#taken = 0;
    this.#queued = 0;
    try {
      this.#stream.close();
    } catch {
      // already closed by the peer
    }
  }

  /**
   * Writes what is queued, then closes. When reading had stopped on a bad frame or record, the
   * peer's unread bytes are first read and dropped for a moment (bounded in bytes and time):
   * closing a socket with unread input resets the connection, and the peer would lose the error
   * record that says why it was closed.
   */
  async end(): Promise<void> {
    try {
      await this.flush();
    } catch {
      // the peer is gone; closing is all that is left
    }
    if (this.#refused && !this.#closed) await this.#linger();
    this.close();
  }

  async #linger(): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    const deadline = Date.now() + LINGER_MS;
    let dropped = 0;
    while (dropped < LINGER_BYTES && Date.now() < deadline) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const idle = new Promise<null>((r) => timer = setTimeout(() => r(null), LINGER_IDLE_MS));
      try {
        const n = await Promise.race([this.#stream.read(buf), idle]);
        if (n === null) return;
        dropped += n;
      } catch {
        return;
      } finally {
        clearTimeout(timer);
      }
    }
  }
}

/** What a client learns from the handshake. */
export interface ClientHandshakeResult {
  channel: SecureChannel;
  /** The payload the server put in its handshake message (server name and version). */
  serverPayload: Uint8Array;
}

/** Options of {@linkcode clientHandshake}. */
export interface ClientHandshakeOptions {
  /** The client's static key: its device key once logged in, a fresh key before. */
  staticKey: X25519KeyPair;
  /**
   * Called with the server's static key after the server has proven it holds it and before the
   * client reveals its own key; throw to abort (a changed or untrusted key).
   */
  verifyServerKey?: (key: Uint8Array) => void | Promise<void>;
  maxRecordBytes?: number;
}

/** Runs the client side of the handshake on a connected stream. */
export async function clientHandshake(
  stream: ByteStream,
  opts: ClientHandshakeOptions,
): Promise<ClientHandshakeResult> {
  const ours = preamble();
  const hs = await HandshakeState.create({
    initiator: true,
    prologue: prologue(ours),
    staticKey: opts.staticKey,
  });
  const reader = new FrameReader(stream);
  try {
    const m1 = await hs.writeMessage(EMPTY);
    await writeAll(stream, concat(ours, frame(m1)));
    const theirs = parsePreamble(await reader.readExact(ours.length));
    if (theirs !== PROTOCOL_VERSION) {
      throw new ProtocolError(
        "version_mismatch",
        `the server speaks protocol version ${theirs}, this program version ${PROTOCOL_VERSION}`,
      );
    }
    const m2 = await reader.next();
    if (m2 === null) {
      throw new ProtocolError("closed", "the server closed the connection during the handshake");
    }
    const serverPayload = (await hs.readMessage(m2)).slice();
    const serverKey = hs.remoteStaticKey!;
    if (opts.verifyServerKey) await opts.verifyServerKey(serverKey);
    const m3 = await hs.writeMessage(EMPTY);
    await writeAll(stream, frame(m3));
    const transport = await hs.split();
    const channel = new SecureChannel(
      stream,
      reader,
      transport,
      serverKey,
      hs.handshakeHash,
      opts.maxRecordBytes ?? MAX_RECORD_BYTES,
    );
    return { channel, serverPayload };
  } catch (e) {
    try {
      stream.close();
    } catch {
      // already closed
    }
    throw e;
  }
}

/** Options of {@linkcode serverHandshake}. */
export interface ServerHandshakeOptions {
  staticKey: X25519KeyPair;
  /** Sent, encrypted, in the server's handshake message. */
  payload: Uint8Array;
  /** Largest record accepted before login. */
  maxRecordBytes: number;
}

/**
 * Runs the server side of the handshake. The caller bounds it in time by closing the stream.
 * Throws `ProtocolError` (bad preamble, version mismatch, closed) or `HandshakeError`.
 */
export async function serverHandshake(
  stream: ByteStream,
  opts: ServerHandshakeOptions,
): Promise<SecureChannel> {
  const reader = new FrameReader(stream);
  const theirPreamble = await reader.readExact(preamble().length);
  const version = parsePreamble(theirPreamble);
  await writeAll(stream, preamble());
  if (version !== PROTOCOL_VERSION) {
    throw new ProtocolError(
      "version_mismatch",
      `client speaks protocol version ${version}, server ${PROTOCOL_VERSION}`,
    );
  }
  const hs = await HandshakeState.create({
    initiator: false,
    prologue: prologue(theirPreamble),
    staticKey: opts.staticKey,
  });
  const m1 = await reader.next();
  if (m1 === null) {
    throw new ProtocolError("closed", "the client closed the connection during the handshake");
  }
  await hs.readMessage(m1);
  await writeAll(stream, frame(await hs.writeMessage(opts.payload)));
  const m3 = await reader.next();
  if (m3 === null) {
    throw new ProtocolError("closed", "the client closed the connection during the handshake");
  }
  await hs.readMessage(m3);
  const transport = await hs.split();
  return new SecureChannel(
    stream,
    reader,
    transport,
    hs.remoteStaticKey!,
    hs.handshakeHash,
    opts.maxRecordBytes,
  );
}
