/**
 * The protocol's error class. `code` is stable: it travels on the wire in `error` replies and a
 * client switches on it.
 *
 * @module
 */

/** Codes of {@linkcode ProtocolError}, also the `code` of an `error` reply on the wire. */
export type ProtocolErrorCode =
  | "bad_preamble" // the peer is not speaking pesuchat
  | "version_mismatch" // the peer speaks another protocol version
  | "frame_too_large" // a length prefix over the limit
  | "record_too_large" // an application message over the limit
  | "bad_message" // a message that fails its schema
  | "unknown_type" // a message type this side does not know
  | "not_allowed" // a request not allowed in this state (e.g. send before login)
  | "rate_limited" // too many requests or failed logins
  | "bad_credentials" // wrong username or password
  | "registration_closed" // the server takes no new sign-ups
  | "invite_required" // sign-up needs a valid invite token from the operator
  | "username_taken"
  | "invalid_username"
  | "no_such_user"
  | "unknown_device" // resume with a device key that is not bound
  | "queue_full" // the recipient has too many undelivered messages
  | "no_prekeys" // the recipient has no bundle to hand out
  | "server_busy" // the server is at a connection or handshake limit
  | "unavailable" // the server's database is unreachable; try again
  | "not_reading" // the peer left too many replies unread; the connection is closed
  | "closed" // the connection is closed
  | "timeout" // the peer did not answer in time
  | "internal"; // a server fault; details are in the server's log

/** A protocol-level failure: bad bytes, a refused request, a closed channel. */
export class ProtocolError extends Error {
  override name = "ProtocolError";
  constructor(readonly code: ProtocolErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
  }
}
