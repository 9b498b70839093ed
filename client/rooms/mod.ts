/**
 * Rooms (groups and broadcast channels) as their members keep them: signed changes, the state
 * they make, and invite codes. Pure: no I/O, no storage, no network.
 *
 * @module
 */

export * from "./group_change.ts";
export * from "./group_state.ts";
export * from "./invite.ts";
