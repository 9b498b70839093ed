/**
 * What a reaction may be: one emoji as Unicode recommends it for interchange (an RGI emoji: a
 * single emoji, a flag, a keycap, a skin-tone or ZWJ sequence), nothing else. Reactions come from
 * peers, so a string of markup, a word or a row of emoji is refused where it is decoded, not only
 * where it is drawn. No imports: the browser page checks a typed emoji with the same rule.
 *
 * @module
 */

/** Longest reaction, in UTF-16 code units (the longest RGI emoji, a subdivision flag, has 14). */
export const MAX_REACTION_CHARS = 16;

// Built at run time: the `v` flag's \p{RGI_Emoji} matches a whole emoji sequence, and a literal
// would be rewritten by bundlers that do not know the flag.
const RGI_EMOJI = new RegExp("^\\p{RGI_Emoji}$", "v");

/** The rule in words, for the refusal. */
export const REACTION_RULE = "a reaction is one emoji";

/** The reactions a picker offers first (any other single emoji may be typed). */
export const COMMON_REACTIONS: readonly string[] = [
  "👍",
  "❤️",
  "😂",
  "😮",
  "😢",
  "🙏",
  "🎉",
  "🔥",
  "👀",
  "👎",
  "✅",
  "☕",
];

/** True when `s` is exactly one emoji (what a peer's reaction must be). */
export function isReaction(s: string): boolean {
  return s.length > 0 && s.length <= MAX_REACTION_CHARS && RGI_EMOJI.test(s);
}

/**
 * A typed reaction as it is sent: trimmed, and a lone symbol that keyboards send without its
 * emoji selector (❤ for ❤️) given it; null when it is not one emoji.
 */
export function asReaction(typed: string): string | null {
  const s = typed.trim();
  if (isReaction(s)) return s;
  const withSelector = s + "\uFE0F";
  return [...s].length === 1 && isReaction(withSelector) ? withSelector : null;
}
