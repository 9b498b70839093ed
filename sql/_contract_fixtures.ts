/**
 * Test data and the harness type for the Store contract suite ({@linkcode storeContract}).
 *
 * @module
 */

import type { NewQueued, NewUser, PrekeySet, SignedPrekeyRecord, Store } from "./store.ts";

/** What a test file gives the contract suite to reach its database. */
export interface ContractHarness {
  kind: "sqlite" | "mysql";
  /**
   * Opens a store on the suite's shared database, migrated. Tests share it, so each one uses
   * its own usernames ({@linkcode uniqueName}).
   */
  open(): Promise<Store>;
  /** A database of its own, not migrated, with a side door for raw SQL. */
  empty(): Promise<EmptyDatabase>;
}

/** A fresh database for tests that need one to themselves. */
export interface EmptyDatabase {
  store: Store;
  /** Runs SQL on the database outside the store (to plant a newer schema, for instance). */
  exec(sql: string): Promise<void>;
  /** The first column of the first row of a query, as a number (to count rows). */
  scalar(sql: string): Promise<number>;
  /** Closes `store` and the side door and removes the database. */
  drop(): Promise<void>;
}

let counter = 0;

/** A username no other test in this process uses. */
export function uniqueName(prefix: string): string {
  counter++;
  return `${prefix}_${counter}_${crypto.getRandomValues(new Uint8Array(4)).toHex()}`;
}

/** `n` bytes all equal to `fill`, so tests can tell values apart at a glance. */
export function filled(n: number, fill: number): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

/** Random bytes (message ids and device keys must not repeat across tests). */
export function random(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** A sign-up record for `username`. */
export function newUser(username: string): NewUser {
  return {
    username,
    profile: filled(48, 1),
    salt: filled(16, 2),
    kdf: { memoryKiB: 19_456, passes: 2, parallelism: 1 },
    verifierSalt: filled(16, 3),
    verifier: filled(32, 4),
    identityKey: filled(128, 5),
    createdAt: 1_700_000_000_000,
  };
}

/** A signed prekey whose bytes encode its id. */
export function signed(id: number, size = 32): SignedPrekeyRecord {
  return { id, publicKey: filled(size, id & 0xff), signature: filled(64, (id + 1) & 0xff) };
}

/** A prekey set with one-time ids 1..oneTime and ML-KEM ids 1..kyber. */
export function prekeySet(oneTime = 3, kyber = 2): PrekeySet {
  return {
    signedPrekey: signed(7),
    kyberLastResort: signed(9000, 1568),
    oneTimePrekeys: Array.from({ length: oneTime }, (_, i) => ({
      id: i + 1,
      publicKey: filled(32, i + 1),
    })),
    kyberPrekeys: Array.from({ length: kyber }, (_, i) => signed(i + 1, 1568)),
  };
}

/** A user created in `store` with a random device key. */
export async function makeUser(
  store: Store,
  prefix: string,
  keys: PrekeySet = prekeySet(),
): Promise<{ id: number; username: string; deviceKey: Uint8Array }> {
  const username = uniqueName(prefix);
  const deviceKey = random(32);
  const user = await store.createUser(newUser(username), keys, deviceKey);
  return { id: user.id, username, deviceKey };
}

/** A message from `senderId` to `recipientId` with a random mid and a body naming `n`. */
export function message(recipientId: number, senderId: number, n: number): NewQueued {
  return {
    recipientId,
    senderId,
    senderName: `sender${senderId}`,
    mid: random(16),
    body: new TextEncoder().encode(`body ${n}`),
    sentAt: 1_700_000_000_000 + n,
  };
}
