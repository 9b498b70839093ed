/**
 * Every size, count, rate and time the protocol enforces, in one place. Each is enforced beside
 * the code that reads the data and tested at N and N+1.
 *
 * @module
 */

/** Largest Noise message (handshake or transport), as the Noise specification fixes it. */
export const MAX_FRAME_BYTES = 65535;
/** Bytes of the AES-GCM tag in every transport frame. */
export const FRAME_TAG_BYTES = 16;
/** Largest plaintext carried by one transport frame. */
export const MAX_FRAME_PLAINTEXT = MAX_FRAME_BYTES - FRAME_TAG_BYTES;

/** Largest application message (encoded) before login: prelogin, sign-up with its prekeys. */
export const MAX_RECORD_BYTES_PRELOGIN = 512 * 1024;
/** Largest application message (encoded) after login; a backup is the largest. */
export const MAX_RECORD_BYTES = 12 * 1024 * 1024;
/** Largest end-to-end ciphertext of one chat message. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Largest encrypted backup. */
export const MAX_BACKUP_BYTES = 8 * 1024 * 1024;
/** Largest full name (characters) and email (characters). */
export const MAX_FULL_NAME_CHARS = 100;
export const MAX_EMAIL_CHARS = 254;

/** One-time X25519 prekeys and one-time ML-KEM prekeys accepted in one upload. */
export const MAX_ONE_TIME_PREKEYS_PER_UPLOAD = 200;
export const MAX_KYBER_PREKEYS_PER_UPLOAD = 100;
/** One-time prekeys a user may hold on the server, of each kind. */
export const MAX_ONE_TIME_PREKEYS_STORED = 1000;

/**
 * Bundles with one-time prekeys one account may fetch of one other account in
 * BUNDLE_WINDOW_MS. Past it the bundle carries no one-time keys (the signed prekey and the
 * last-resort ML-KEM key still start a session), so one requester cannot drain another's pool.
 */
export const MAX_ONE_TIME_BUNDLES_PER_REQUESTER = 10;
export const BUNDLE_WINDOW_MS = 60 * 60_000;

/** Undelivered messages one user may have queued by default; further sends to them are refused.
 * Operators can change it (server.json `limits.maxPendingPerUser`). */
export const MAX_PENDING_PER_USER = 50_000;
/** Deliveries pushed to a connection and not yet acknowledged; the rest wait in the queue. */
export const MAX_UNACKED_DELIVERIES = 1000;
/** Message ids acknowledged in one `ack`. */
export const MAX_ACKS_PER_MESSAGE = 1000;

/** Requests per second per connection (token bucket refill) and its burst. */
export const DEFAULT_REQUESTS_PER_SECOND = 2000;
export const DEFAULT_REQUEST_BURST = 5000;
/** Connections at once, and handshakes in progress at once. */
export const DEFAULT_MAX_CONNECTIONS = 10_000;
export const MAX_CONCURRENT_HANDSHAKES = 256;
/** Handshakes in progress from one address at once, so one host cannot use up the rest. */
export const MAX_HANDSHAKES_PER_ADDRESS = 32;
/** A connection that has not finished its handshake in this time is closed. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** A connection that has not logged in within this time is closed. */
export const LOGIN_TIMEOUT_MS = 120_000;

/** Failed logins of one account from one address (IPv6: one /64) before that address is locked
 * out of that account for LOGIN_LOCKOUT_MS, doubling each time. The owner elsewhere is not. */
export const MAX_FAILED_LOGINS_PER_ACCOUNT_ADDRESS = 5;
/** Failed logins per address in LOGIN_WINDOW_MS. */
export const MAX_FAILED_LOGINS_PER_ADDRESS = 20;
export const LOGIN_WINDOW_MS = 10 * 60_000;
export const LOGIN_LOCKOUT_MS = 30_000;

/**
 * Unwritten bytes queued on one connection. Past it the peer is not reading and the connection is
 * closed; it holds the largest reply (a backup in JSON) and a full window of deliveries' worth of
 * headroom, so a slow but live client is never cut off.
 */
export const MAX_UNSENT_BYTES = 32 * 1024 * 1024;
/** Above this many unwritten bytes the server stops reading a connection's requests and stops
 * pushing it deliveries until its replies drain. */
export const PAUSE_READING_BYTES = 1024 * 1024;
/** A connection whose peer takes none of its pending replies for this long is closed. */
export const WRITE_STALL_TIMEOUT_MS = 60_000;
/** Requests of one connection being handled at once (sends excepted: they are chained); the
 * server reads no further request until one finishes. */
export const MAX_REQUESTS_IN_FLIGHT = 8;

/** Sign-ups accepted from one address (IPv6: one /64) in SIGNUP_WINDOW_MS. */
export const MAX_SIGNUPS_PER_ADDRESS = 5;
export const SIGNUP_WINDOW_MS = 60 * 60_000;

/** Requests a client may have outstanding before `request()` waits. */
export const MAX_OUTSTANDING_REQUESTS = 1000;
/** A request with no reply in this time fails with "timeout". */
export const REQUEST_TIMEOUT_MS = 30_000;
