/**
 * The crypto module's public face: server and client import only from here. Web Crypto only;
 * nothing in this folder prints or imports from outside it.
 *
 * @module
 */

export * from "./bytes.ts";
export * from "./errors.ts";
export * from "./subtle.ts";
export * from "./noise/mod.ts";
export * from "./identity.ts";
export * from "./prekeys.ts";
export type { ConsumedPrekeys, PrekeyLookup } from "./pqxdh.ts";
export * from "./session.ts";
export * from "./session_record.ts";
export * from "./password.ts";
export * from "./recovery.ts";
export * from "./safety_number.ts";
