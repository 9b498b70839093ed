/**
 * Usernames: compared after Unicode NFKC and lowercasing, from a small alphabet, so two accounts
 * cannot look alike ("Alice", "alice" and "ａｌｉｃｅ" are one name; Cyrillic "а" is refused).
 *
 * @module
 */

/** Shortest and longest username, in characters. */
export const USERNAME_MIN = 3;
export const USERNAME_MAX = 32;

/** The rule, as shown to people choosing a name. */
export const USERNAME_RULE =
  `${USERNAME_MIN}-${USERNAME_MAX} characters: letters a-z, digits and _, starting with a letter`;

const ALLOWED = /^[a-z][a-z0-9_]*$/;

/** A name that is canonical already: the common case, checked without Unicode normalisation. */
const CANONICAL = new RegExp(`^[a-z][a-z0-9_]{${USERNAME_MIN - 1},${USERNAME_MAX - 1}}$`);

/** The canonical form of `name`, or null when it breaks the rule. */
export function canonicalUsername(name: string): string | null {
  if (typeof name !== "string" || name.length > USERNAME_MAX * 4) return null;
  if (CANONICAL.test(name)) return name;
  const canonical = name.normalize("NFKC").toLowerCase().trim();
  if (canonical.length < USERNAME_MIN || canonical.length > USERNAME_MAX) return null;
  return ALLOWED.test(canonical) ? canonical : null;
}

/** Why `name` is refused, in a sentence, or null when it is fine. */
export function usernameProblem(name: string): string | null {
  const canonical = name.normalize("NFKC").toLowerCase().trim();
  if (canonical.length < USERNAME_MIN) return `too short: use ${USERNAME_RULE}`;
  if (canonical.length > USERNAME_MAX) return `too long: use ${USERNAME_RULE}`;
  if (!ALLOWED.test(canonical)) return `not allowed: use ${USERNAME_RULE}`;
  return null;
}
