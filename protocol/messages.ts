/**
 * Every message of the protocol and its schema. A client request is `{t, id, ...fields}` and is
 * answered by `{t: "ok", re: id, ...result}` or `{t: "error", re: id, code, message}`. The server
 * pushes `deliver` (a queued message) and `bye` (why it is closing). `ack` needs no answer.
 *
 * Byte fields travel as base64 inside JSON: simple to inspect and debug, and JSON parsing is
 * among the fastest things V8 does.
 *
 * @module
 */

import {
  MAX_ACKS_PER_MESSAGE,
  MAX_BACKUP_BYTES,
  MAX_BODY_BYTES,
  MAX_EMAIL_CHARS,
  MAX_FULL_NAME_CHARS,
  MAX_KYBER_PREKEYS_PER_UPLOAD,
  MAX_ONE_TIME_PREKEYS_PER_UPLOAD,
} from "./limits.ts";
import type { ProtocolErrorCode } from "./errors.ts";
import {
  array,
  bool,
  bytes,
  type Infer,
  int,
  nullable,
  object,
  optional,
  type Schema,
  str,
} from "./schema.ts";

/** Bytes of an X25519 public key, an Ed25519 signature, an ML-KEM-1024 public key. */
export const X25519_PUBLIC_BYTES = 32;
export const SIGNATURE_BYTES = 64;
export const MLKEM_PUBLIC_BYTES = 1568;
/** Bytes of a client-chosen message id. */
export const MESSAGE_ID_BYTES = 16;
/** Bytes of the auth key a client derives from its password. */
export const AUTH_KEY_BYTES = 32;
/** Bounds on an encoded public identity. */
export const IDENTITY_MIN_BYTES = 64;
export const IDENTITY_MAX_BYTES = 256;

const u32 = int(0, 0xffffffff);
/** Usernames are checked for their rule by the server after this loose shape check. */
const username = str(1, 128);

/** Argon2id parameters; the bounds are only a shape check, the client refuses costly ones. */
export const kdfSchema = object({
  memoryKiB: int(8, 4 * 1024 * 1024),
  passes: int(1, 64),
  parallelism: int(1, 64),
});

export const signedPrekeySchema = object({
  id: u32,
  publicKey: bytes(X25519_PUBLIC_BYTES),
  signature: bytes(SIGNATURE_BYTES),
});

export const oneTimePrekeySchema = object({ id: u32, publicKey: bytes(X25519_PUBLIC_BYTES) });

export const kyberPrekeySchema = object({
  id: u32,
  publicKey: bytes(MLKEM_PUBLIC_BYTES),
  signature: bytes(SIGNATURE_BYTES),
});

export const prekeySetSchema = object({
  signedPrekey: signedPrekeySchema,
  kyberLastResort: kyberPrekeySchema,
  oneTimePrekeys: array(oneTimePrekeySchema, MAX_ONE_TIME_PREKEYS_PER_UPLOAD),
  kyberPrekeys: array(kyberPrekeySchema, MAX_KYBER_PREKEYS_PER_UPLOAD),
});

const identity = bytes(IDENTITY_MIN_BYTES, IDENTITY_MAX_BYTES);
const authKey = bytes(AUTH_KEY_BYTES);
const salt = bytes(16, 64);

/** Request schemas, by type. */
export const requestSchemas = {
  prelogin: object({ username }),
  signup: object({
    username,
    fullName: str(1, MAX_FULL_NAME_CHARS),
    email: optional(str(3, MAX_EMAIL_CHARS)),
    authKey,
    salt,
    kdf: kdfSchema,
    identity,
    prekeys: prekeySetSchema,
    /** The operator's one-time invite token, on a server whose registration is "token". */
    invite: optional(str(1, 64)),
  }),
  login: object({ username, authKey }),
  resume: object({}),
  logout: object({}),
  change_password: object({
    authKey,
    newAuthKey: authKey,
    salt,
    kdf: kdfSchema,
  }),
  delete_account: object({ authKey }),
  new_identity: object({ identity, prekeys: prekeySetSchema }),
  bundle: object({ username }),
  prekeys_put: object({
    signedPrekey: optional(signedPrekeySchema),
    kyberLastResort: optional(kyberPrekeySchema),
    oneTimePrekeys: optional(array(oneTimePrekeySchema, MAX_ONE_TIME_PREKEYS_PER_UPLOAD)),
    kyberPrekeys: optional(array(kyberPrekeySchema, MAX_KYBER_PREKEYS_PER_UPLOAD)),
  }),
  prekey_count: object({}),
  send: object({ to: username, mid: bytes(MESSAGE_ID_BYTES), body: bytes(1, MAX_BODY_BYTES) }),
  lookup: object({ username }),
  backup_put: object({ blob: bytes(1, MAX_BACKUP_BYTES) }),
  backup_get: object({}),
  backup_delete: object({}),
  ping: object({}),
} satisfies Record<string, Schema<unknown>>;

/** A request type. */
export type RequestType = keyof typeof requestSchemas;
/** The fields of a request of type `T`. */
export type RequestOf<T extends RequestType> = Infer<(typeof requestSchemas)[T]>;

/** Requests a connection may make before it is logged in. */
export const PRELOGIN_REQUESTS: ReadonlySet<RequestType> = new Set([
  "prelogin",
  "signup",
  "login",
  "resume",
  "ping",
]);

const prekeyCounts = object({ oneTime: int(0, 1e9), kyber: int(0, 1e9) });

/** What login, sign-up and resume answer: who is logged in and what waits for them. */
export const sessionInfoSchema = object({
  username,
  fullName: str(0, MAX_FULL_NAME_CHARS),
  email: optional(str(0, MAX_EMAIL_CHARS)),
  prekeys: prekeyCounts,
  pending: int(0, 1e9),
});

/** The bundle a sender fetches to start a session. */
export const bundleSchema = object({
  username,
  identity,
  signedPrekey: signedPrekeySchema,
  oneTimePrekey: nullable(oneTimePrekeySchema),
  kyberPrekey: kyberPrekeySchema,
  kyberLastResort: bool,
});

/** Result schemas, by request type. */
export const resultSchemas = {
  prelogin: object({ salt, kdf: kdfSchema }),
  signup: sessionInfoSchema,
  login: sessionInfoSchema,
  resume: sessionInfoSchema,
  logout: object({}),
  change_password: object({}),
  delete_account: object({}),
  new_identity: object({}),
  bundle: bundleSchema,
  prekeys_put: prekeyCounts,
  prekey_count: prekeyCounts,
  send: object({ qid: int(0, Number.MAX_SAFE_INTEGER), ts: int(0, Number.MAX_SAFE_INTEGER) }),
  lookup: object({ username, fullName: str(0, MAX_FULL_NAME_CHARS), identity }),
  backup_put: object({}),
  backup_delete: object({}),
  backup_get: object({
    backup: nullable(object({
      blob: bytes(1, MAX_BACKUP_BYTES),
      updatedAt: int(0, Number.MAX_SAFE_INTEGER),
    })),
  }),
  ping: object({}),
} satisfies Record<RequestType, Schema<unknown>>;

/** The result of a request of type `T`. */
export type ResultOf<T extends RequestType> = Infer<(typeof resultSchemas)[T]>;

/** A message pushed by the server: one queued chat message. */
export const deliverSchema = object({
  qid: int(0, Number.MAX_SAFE_INTEGER),
  from: username,
  mid: bytes(MESSAGE_ID_BYTES),
  ts: int(0, Number.MAX_SAFE_INTEGER),
  body: bytes(1, MAX_BODY_BYTES),
});
export type Deliver = Infer<typeof deliverSchema>;

/** The client's acknowledgement of stored deliveries. */
export const ackSchema = object({
  qids: array(int(0, Number.MAX_SAFE_INTEGER), MAX_ACKS_PER_MESSAGE),
});
export type Ack = Infer<typeof ackSchema>;

/** An error reply (with `re`) or a connection-level error (without). */
export const errorSchema = object({
  re: optional(u32),
  code: str(1, 64),
  message: str(0, 1000),
});

/** Why the server is closing the connection. */
export const byeSchema = object({ code: str(1, 64), message: str(0, 1000) });

/** An error reply as the server sends it. */
export interface ErrorReply {
  t: "error";
  re?: number;
  code: ProtocolErrorCode;
  message: string;
}

/** The request id range. */
export const requestIdSchema = u32;
