import assert from "node:assert/strict";
import { actionFromWire } from "./content_actions.ts";
import { asReaction, COMMON_REACTIONS, isReaction, MAX_REACTION_CHARS } from "./reaction.ts";

const target = new Uint8Array(16).toBase64();

Deno.test("isReaction() takes one emoji of any kind, and nothing else", () => {
  for (const e of ["👍", "❤️", "☕", "🇫🇷", "1️⃣", "👍🏽", "👨‍👩‍👧‍👦", "🧑🏽‍🤝‍🧑🏻", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"]) {
    assert.ok(isReaction(e), e);
  }
  for (const s of ["", "a", "ok", "<b>", "👍👍", "👍 ", "😀x", "❤", "\u200d", "👍".repeat(8)]) {
    assert.ok(!isReaction(s), JSON.stringify(s));
  }
  for (const e of COMMON_REACTIONS) assert.ok(isReaction(e), e);
});

Deno.test("isReaction() holds reactions to MAX_REACTION_CHARS: the longest emoji fits", () => {
  // A subdivision flag is the longest RGI emoji, 14 code units; nothing past the limit counts.
  assert.equal("🏴󠁧󠁢󠁳󠁣󠁴󠁿".length, 14);
  assert.ok("🏴󠁧󠁢󠁳󠁣󠁴󠁿".length <= MAX_REACTION_CHARS);
  assert.ok(!isReaction("🏴󠁧󠁢󠁳󠁣󠁴󠁿" + "\uFE0F".repeat(MAX_REACTION_CHARS + 1 - 14)));
});

Deno.test("asReaction() trims a typed emoji and gives a lone symbol its emoji selector", () => {
  assert.equal(asReaction(" 🎉 "), "🎉");
  assert.equal(asReaction("❤"), "❤️");
  assert.equal(asReaction("©"), "©️");
  assert.equal(asReaction("a"), null);
  assert.equal(asReaction("👍👍"), null);
  assert.equal(asReaction("<script>"), null);
});

Deno.test("actionFromWire() drops a peer's reaction that is not one emoji", () => {
  const react = (emoji: unknown) => actionFromWire({ t: "react", target, emoji });
  assert.equal((react("👍") as { emoji: string }).emoji, "👍");
  assert.equal((react(null) as { emoji: null }).emoji, null);
  for (const bad of ["<b onclick=x>", "lol", "👍👍👍", "👍".repeat(20), "", 5]) {
    assert.equal(react(bad), null, JSON.stringify(bad));
  }
});
