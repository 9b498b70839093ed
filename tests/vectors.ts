/**
 * The one loader for test vectors: the published ones in `tests/vectors/` (Noise JSON and flynn's
 * text format, Wycheproof, RFC transcriptions) and the project's own in `tests/data/`. Hex becomes
 * bytes here, and every file is checked against its own declared counts, so a loader bug fails
 * loudly instead of replaying zero cases.
 *
 * @module
 */

import { fromHex } from "../crypto/bytes.ts";
import { NOISE_PATTERNS, type NoisePattern } from "../crypto/noise/patterns.ts";

const VECTORS = new URL("./vectors/", import.meta.url);
const DATA = new URL("./data/", import.meta.url);

function readJson(base: URL, relativePath: string): unknown {
  if (relativePath.startsWith("/") || relativePath.split(/[\\/]/).includes("..")) {
    throw new TypeError(`expected a path inside ${base.pathname}, got ${relativePath}`);
  }
  return JSON.parse(Deno.readTextFileSync(new URL(relativePath, base)));
}

/** Reads a string field; throws naming the file and field when it is missing. */
function str(obj: Record<string, unknown>, field: string, where: string): string {
  const v = obj[field];
  if (typeof v !== "string") {
    throw new TypeError(`${where}: expected string ${field}, got ${typeof v}`);
  }
  return v;
}

function hex(obj: Record<string, unknown>, field: string, where: string): Uint8Array<ArrayBuffer> {
  return fromHex(str(obj, field, where));
}

function optHex(
  obj: Record<string, unknown>,
  field: string,
  where: string,
): Uint8Array<ArrayBuffer> | undefined {
  return obj[field] === undefined ? undefined : hex(obj, field, where);
}

function num(obj: Record<string, unknown>, field: string, where: string): number {
  const v = obj[field];
  if (typeof v !== "number") {
    throw new TypeError(`${where}: expected number ${field}, got ${typeof v}`);
  }
  return v;
}

function list(
  obj: Record<string, unknown>,
  field: string,
  where: string,
): Record<string, unknown>[] {
  const v = obj[field];
  if (!Array.isArray(v)) throw new TypeError(`${where}: expected array ${field}`);
  return v as Record<string, unknown>[];
}

// ---------------------------------------------------------------------------------------------
// Noise

/** The Noise vector files. */
export type NoiseSource = "cacophony" | "snow" | "flynn";

/** Who sends a message. */
export type NoiseSender = "initiator" | "responder";

/** One Noise vector, the same shape whatever the file it came from. */
export interface NoiseVector {
  source: NoiseSource;
  /** Position in its file, from 0. */
  index: number;
  protocolName: string;
  /** The pattern when it is one pesuchat runs, else null. */
  pattern: NoisePattern | null;
  /** `AESGCM` or `ChaChaPoly`. */
  cipher: string;
  initPrologue: Uint8Array;
  respPrologue: Uint8Array;
  /** Private keys (32 bytes), as the vector gives them. */
  initStatic?: Uint8Array;
  respStatic?: Uint8Array;
  initEphemeral: Uint8Array;
  respEphemeral: Uint8Array;
  /** The responder's static public key as the vector states it (JSON files only). */
  initRemoteStatic?: Uint8Array;
  /** The final handshake hash (cacophony only). */
  handshakeHash?: Uint8Array;
  /** Handshake then transport messages, each with its sender as this source orders them. */
  messages: { payload: Uint8Array; ciphertext: Uint8Array; sender: NoiseSender }[];
}

const PROTOCOL = /^Noise_([A-Z0-9]+)_25519_(AESGCM|ChaChaPoly)_SHA256$/;

function parseProtocol(
  name: string,
  where: string,
): { pattern: NoisePattern | null; cipher: string } {
  const m = PROTOCOL.exec(name);
  if (!m) throw new TypeError(`${where}: expected a Noise_*_25519_*_SHA256 name, got ${name}`);
  const pattern = m[1]! in NOISE_PATTERNS ? (m[1] as NoisePattern) : null;
  return { pattern, cipher: m[2]! };
}

/**
 * Senders of `count` messages. The JSON files alternate strictly from the initiator; flynn restarts
 * the alternation after the handshake, with the initiator-to-responder CipherState first.
 */
function senders(source: NoiseSource, pattern: NoisePattern | null, count: number): NoiseSender[] {
  const handshake = pattern === null ? count : NOISE_PATTERNS[pattern].messages.length;
  const out: NoiseSender[] = [];
  for (let i = 0; i < count; i++) {
    const k = source === "flynn" && i >= handshake ? i - handshake : i;
    out.push(k % 2 === 0 ? "initiator" : "responder");
  }
  return out;
}

const NOISE_JSON: Record<Exclude<NoiseSource, "flynn">, string> = {
  cacophony: "noise/noise_vectors.json",
  snow: "noise/noise_vectors_snow.json",
};

/** Every vector of one Noise source, in file order. */
export function loadNoiseVectors(source: NoiseSource): NoiseVector[] {
  return source === "flynn" ? loadFlynn() : loadNoiseJson(source);
}

function loadNoiseJson(source: Exclude<NoiseSource, "flynn">): NoiseVector[] {
  const file = NOISE_JSON[source];
  const doc = readJson(VECTORS, file) as Record<string, unknown>;
  return list(doc, "vectors", file).map((v, index) => {
    const where = `${file} #${index}`;
    const protocolName = str(v, "protocol_name", where);
    const { pattern, cipher } = parseProtocol(protocolName, where);
    const raw = list(v, "messages", where);
    const who = senders(source, pattern, raw.length);
    return {
      source,
      index,
      protocolName,
      pattern,
      cipher,
      initPrologue: hex(v, "init_prologue", where),
      respPrologue: hex(v, "resp_prologue", where),
      initStatic: optHex(v, "init_static", where),
      respStatic: optHex(v, "resp_static", where),
      initEphemeral: hex(v, "init_ephemeral", where),
      respEphemeral: hex(v, "resp_ephemeral", where),
      initRemoteStatic: optHex(v, "init_remote_static", where),
      handshakeHash: optHex(v, "handshake_hash", where),
      messages: raw.map((m, i) => ({
        payload: hex(m, "payload", `${where} message ${i}`),
        ciphertext: hex(m, "ciphertext", `${where} message ${i}`),
        sender: who[i]!,
      })),
    };
  });
}

const FLYNN_KEYS = new Set([
  "handshake",
  "init_static",
  "resp_static",
  "gen_init_ephemeral",
  "gen_resp_ephemeral",
  "prologue",
]);

function loadFlynn(): NoiseVector[] {
  const file = "noise/noise_vectors_flynn.txt";
  const text = Deno.readTextFileSync(new URL(file, VECTORS));
  const blocks = text.split(/\n\s*\n/).map((b) => b.trim()).filter((b) => b !== "");
  return blocks.map((block, index) => {
    const where = `${file} #${index}`;
    const fields: Record<string, string> = {};
    for (const line of block.split("\n")) {
      const eq = line.indexOf("=");
      if (eq < 0) throw new TypeError(`${where}: expected key=value, got ${JSON.stringify(line)}`);
      const key = line.slice(0, eq);
      if (!FLYNN_KEYS.has(key) && !/^msg_\d+_(payload|ciphertext)$/.test(key)) {
        throw new TypeError(`${where}: unexpected key ${key}`);
      }
      fields[key] = line.slice(eq + 1);
    }
    const protocolName = str(fields, "handshake", where);
    const { pattern, cipher } = parseProtocol(protocolName, where);
    const raw: { payload: Uint8Array; ciphertext: Uint8Array }[] = [];
    // Bounded by the block's own line count: every message has two lines.
    for (let i = 0; fields[`msg_${i}_ciphertext`] !== undefined; i++) {
      raw.push({
        payload: hex(fields, `msg_${i}_payload`, where),
        ciphertext: hex(fields, `msg_${i}_ciphertext`, where),
      });
    }
    const who = senders("flynn", pattern, raw.length);
    const prologue = optHex(fields, "prologue", where) ?? new Uint8Array(0);
    return {
      source: "flynn" as const,
      index,
      protocolName,
      pattern,
      cipher,
      initPrologue: prologue,
      respPrologue: prologue,
      initStatic: optHex(fields, "init_static", where),
      respStatic: optHex(fields, "resp_static", where),
      initEphemeral: hex(fields, "gen_init_ephemeral", where),
      respEphemeral: hex(fields, "gen_resp_ephemeral", where),
      messages: raw.map((m, i) => ({ ...m, sender: who[i]! })),
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Wycheproof

/** Verdict of a Wycheproof case. */
export type WycheproofResult = "valid" | "invalid" | "acceptable";

/** Fields common to every Wycheproof case. */
export interface WycheproofCase {
  tcId: number;
  comment: string;
  flags: string[];
  result: WycheproofResult;
}

/** X25519 (XdhComp): `shared = X25519(private, public)`. */
export interface X25519Case extends WycheproofCase {
  public: Uint8Array;
  private: Uint8Array;
  shared: Uint8Array;
}

/** Ed25519 (EddsaVerify). */
export interface Ed25519Case extends WycheproofCase {
  publicKey: Uint8Array;
  msg: Uint8Array;
  sig: Uint8Array;
}

/** AES-GCM (AeadTest); sizes in bits, from the group. */
export interface AesGcmCase extends WycheproofCase {
  ivSize: number;
  keySize: number;
  tagSize: number;
  key: Uint8Array;
  iv: Uint8Array;
  aad: Uint8Array;
  msg: Uint8Array;
  ct: Uint8Array;
  tag: Uint8Array;
}

/** HKDF-SHA256 (HkdfTest); `size` in bytes. */
export interface HkdfCase extends WycheproofCase {
  ikm: Uint8Array;
  salt: Uint8Array;
  info: Uint8Array;
  size: number;
  okm: Uint8Array;
}

/** HMAC-SHA256 (MacTest); `tag` is truncated to `tagSize` bits. */
export interface HmacCase extends WycheproofCase {
  keySize: number;
  tagSize: number;
  key: Uint8Array;
  msg: Uint8Array;
  tag: Uint8Array;
}

/** The Wycheproof files in tests/vectors/wycheproof and the case type of each. */
export interface WycheproofFiles {
  "x25519_test.json": X25519Case;
  "ed25519_test.json": Ed25519Case;
  "aes_gcm_test.json": AesGcmCase;
  "hkdf_sha256_test.json": HkdfCase;
  "hmac_sha256_test.json": HmacCase;
}

/** A loaded Wycheproof file: its cases flattened out of their groups. */
export interface WycheproofFile<C> {
  algorithm: string;
  /** The file's own count, already checked against `cases.length`. */
  numberOfTests: number;
  cases: C[];
}

type CaseReader = (
  group: Record<string, unknown>,
  test: Record<string, unknown>,
  where: string,
) => Record<string, unknown>;

const READERS: { [F in keyof WycheproofFiles]: CaseReader } = {
  "x25519_test.json": (_g, t, w) => ({
    public: hex(t, "public", w),
    private: hex(t, "private", w),
    shared: hex(t, "shared", w),
  }),
  "ed25519_test.json": (g, t, w) => ({
    publicKey: hex(g.publicKey as Record<string, unknown>, "pk", w),
    msg: hex(t, "msg", w),
    sig: hex(t, "sig", w),
  }),
  "aes_gcm_test.json": (g, t, w) => ({
    ivSize: num(g, "ivSize", w),
    keySize: num(g, "keySize", w),
    tagSize: num(g, "tagSize", w),
    key: hex(t, "key", w),
    iv: hex(t, "iv", w),
    aad: hex(t, "aad", w),
    msg: hex(t, "msg", w),
    ct: hex(t, "ct", w),
    tag: hex(t, "tag", w),
  }),
  "hkdf_sha256_test.json": (_g, t, w) => ({
    ikm: hex(t, "ikm", w),
    salt: hex(t, "salt", w),
    info: hex(t, "info", w),
    size: num(t, "size", w),
    okm: hex(t, "okm", w),
  }),
  "hmac_sha256_test.json": (g, t, w) => ({
    keySize: num(g, "keySize", w),
    tagSize: num(g, "tagSize", w),
    key: hex(t, "key", w),
    msg: hex(t, "msg", w),
    tag: hex(t, "tag", w),
  }),
};

const RESULTS = new Set(["valid", "invalid", "acceptable"]);

/** Every case of a Wycheproof file. Throws when the count differs from `numberOfTests`. */
export function loadWycheproof<F extends keyof WycheproofFiles>(
  file: F,
): WycheproofFile<WycheproofFiles[F]> {
  const path = `wycheproof/${file}`;
  const doc = readJson(VECTORS, path) as Record<string, unknown>;
  const read = READERS[file];
  const cases: WycheproofFiles[F][] = [];
  for (const group of list(doc, "testGroups", path)) {
    for (const test of list(group, "tests", path)) {
      const where = `${path} tcId ${String(test.tcId)}`;
      const result = str(test, "result", where);
      if (!RESULTS.has(result)) throw new TypeError(`${where}: unknown result ${result}`);
      cases.push(
        {
          tcId: num(test, "tcId", where),
          comment: str(test, "comment", where),
          flags: (test.flags ?? []) as string[],
          result: result as WycheproofResult,
          ...read(group, test, where),
        } as unknown as WycheproofFiles[F],
      );
    }
  }
  const numberOfTests = num(doc, "numberOfTests", path);
  if (cases.length !== numberOfTests) {
    throw new TypeError(`${path}: expected ${numberOfTests} cases, read ${cases.length}`);
  }
  return { algorithm: str(doc, "algorithm", path), numberOfTests, cases };
}

// ---------------------------------------------------------------------------------------------
// RFC transcriptions

/** RFC 7748: §5.2 single and iterated X25519, §6.1 Diffie-Hellman. */
export interface Rfc7748Vectors {
  x25519: { source: string; scalar: Uint8Array; u: Uint8Array; output: Uint8Array }[];
  iterated: { initial: Uint8Array; results: { iterations: number; kAfter: Uint8Array }[] };
  dh: {
    alicePrivate: Uint8Array;
    alicePublic: Uint8Array;
    bobPrivate: Uint8Array;
    bobPublic: Uint8Array;
    shared: Uint8Array;
  };
}

/** RFC 7748's X25519 vectors. */
export function loadRfc7748(): Rfc7748Vectors {
  const path = "rfc/rfc7748_x25519.json";
  const doc = readJson(VECTORS, path) as Record<string, unknown>;
  const it = doc.x25519_iterated as Record<string, unknown>;
  const dh = doc.diffie_hellman as Record<string, unknown>;
  return {
    x25519: list(doc, "x25519", path).map((t) => ({
      source: str(t, "source", path),
      scalar: hex(t, "scalar_hex", path),
      u: hex(t, "u_hex", path),
      output: hex(t, "output_hex", path),
    })),
    iterated: {
      initial: hex(it, "initial_hex", path),
      results: list(it, "results", path).map((r) => ({
        iterations: num(r, "iterations", path),
        kAfter: hex(r, "k_after_hex", path),
      })),
    },
    dh: {
      alicePrivate: hex(dh, "alice_private_hex", path),
      alicePublic: hex(dh, "alice_public_hex", path),
      bobPrivate: hex(dh, "bob_private_hex", path),
      bobPublic: hex(dh, "bob_public_hex", path),
      shared: hex(dh, "shared_secret_hex", path),
    },
  };
}

/** One RFC 5869 Appendix A case (SHA-256); an empty salt means HashLen zeros. */
export interface Rfc5869Case {
  source: string;
  ikm: Uint8Array;
  salt: Uint8Array;
  info: Uint8Array;
  length: number;
  prk: Uint8Array;
  okm: Uint8Array;
}

/** RFC 5869 A.1–A.3. */
export function loadRfc5869(): Rfc5869Case[] {
  const path = "rfc/rfc5869_hkdf_sha256.json";
  const doc = readJson(VECTORS, path) as Record<string, unknown>;
  return list(doc, "tests", path).map((t) => ({
    source: str(t, "source", path),
    ikm: hex(t, "ikm_hex", path),
    salt: hex(t, "salt_hex", path),
    info: hex(t, "info_hex", path),
    length: num(t, "length", path),
    prk: hex(t, "prk_hex", path),
    okm: hex(t, "okm_hex", path),
  }));
}

/** One RFC 8032 §7.1 Ed25519 case. */
export interface Rfc8032Case {
  source: string;
  seed: Uint8Array;
  publicKey: Uint8Array;
  message: Uint8Array;
  signature: Uint8Array;
}

/** RFC 8032 TEST 1–3. */
export function loadRfc8032(): Rfc8032Case[] {
  const path = "rfc/rfc8032_ed25519.json";
  const doc = readJson(VECTORS, path) as Record<string, unknown>;
  return list(doc, "tests", path).map((t) => ({
    source: str(t, "source", path),
    seed: hex(t, "secret_key_hex", path),
    publicKey: hex(t, "public_key_hex", path),
    message: hex(t, "message_hex", path),
    signature: hex(t, "signature_hex", path),
  }));
}

// ---------------------------------------------------------------------------------------------
// The project's own vectors

/**
 * Parses `tests/data/<relativePath>`, a JSON file of vectors the project generates itself with a
 * seeded script. The caller names the type it expects and should check the shape it relies on;
 * paths that leave tests/data are refused.
 */
export function loadJsonVectors<T = unknown>(relativePath: string): T {
  return readJson(DATA, relativePath) as T;
}
