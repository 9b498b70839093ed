/**
 * Limits of the encrypted content, shared by every content type.
 *
 * @module
 */

/** Longest chat text, in characters. */
export const MAX_TEXT_CHARS = 4000;
