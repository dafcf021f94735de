/**
 * "Did you mean" suggestions: the known names closest to a misspelled one (Levenshtein distance).
 */
import { distance } from "fastest-levenshtein"

/** The candidates closest to `word`, best first (at most `limit`; only reasonably close ones). */
export const closest = (word: string, candidates: Iterable<string>, limit = 3): Array<string> => {
  const lower = word.toLowerCase()
  const scored = [...new Set(candidates)]
    .map((c) => {
      const d = distance(lower, c.toLowerCase())
      // a word that contains the other (e.g. "magnitude" for "select/magnitude-smallest") counts as close
      const contains = c.toLowerCase().includes(lower) || lower.includes(c.toLowerCase())
      return { c, d, contains }
    })
    .filter(({ c, d, contains }) => contains || d <= Math.max(2, Math.floor(Math.max(word.length, c.length) / 3)))
    .sort((a, b) => a.d - b.d || (a.c < b.c ? -1 : a.c > b.c ? 1 : 0))
  return scored.slice(0, limit).map((s) => s.c)
}

/** `; did you mean "x"?` / `; did you mean "x" or "y"?` (empty when nothing is close). */
export const didYouMean = (word: string, candidates: Iterable<string>): string => {
  const found = closest(word, candidates)
  if (found.length === 0) return ""
  const quoted = found.map((f) => JSON.stringify(f))
  return `; did you mean ${quoted.length === 1 ? quoted[0] : `${quoted.slice(0, -1).join(", ")} or ${quoted.at(-1)}`}?`
}
