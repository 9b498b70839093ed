/**
 * Limits of the encrypted content, shared by every content type.
 *
 * @module
 */

/**
 * Longest chat text, in UTF-16 code units: the most that always fits the protocol's body limit
 * (MAX_BODY_BYTES) once encoded, even when every character takes six bytes of JSON (a control
 * character) and the envelope carries a first message's PQXDH header.
 */
export const MAX_TEXT_CHARS = 10_000;
