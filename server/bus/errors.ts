/**
 * The bus's error class.
 *
 * @module
 */

/** Codes of {@linkcode BusError}. */
export type BusErrorCode =
  | "bad_url" // the --bus URL is not nats://host:port or redis://host:port
  | "protocol"; // the bus server sent something this client cannot parse, or an error

/** A bus failure; `code` says which kind. */
export class BusError extends Error {
  override name = "BusError";
  constructor(readonly code: BusErrorCode, message: string) {
    super(message);
  }
}
