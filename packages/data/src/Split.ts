/**
 * Train/eval split by document, before tokenization, so no evaluation text is ever trained on
 * (neither by the model nor by the tokenizer trainer). The held-out documents are chosen by a
 * permutation drawn from the key; both halves keep corpus order.
 */
import { Key, UserError } from "@rekindle/core"
import { Effect } from "effect"

/** Documents of each half of a split. */
export interface Split {
  readonly train: ReadonlyArray<string>
  readonly eval: ReadonlyArray<string>
}

/** How many documents go to eval: round(n * fraction), at least 1 when fraction > 0, at most n - 1. */
export const evalCount = (n: number, fraction: number): number =>
  fraction <= 0 ? 0 : Math.min(n - 1, Math.max(1, Math.round(n * fraction)))

/** Splits documents into train and eval; fails when there are too few documents to split. */
export const split = (docs: ReadonlyArray<string>, evalFraction: number, key: Key.Key): Effect.Effect<Split, UserError> => {
  if (docs.length === 0) {
    return Effect.fail(new UserError({ message: "data.corpus: the corpus has no documents (no non-empty text found)" }))
  }
  if (evalFraction > 0 && docs.length < 2) {
    return Effect.fail(new UserError({
      message: `data.evalFraction: the corpus has ${docs.length} document; a split by document needs at least 2 (or set evalFraction to 0)`
    }))
  }
  if (evalFraction >= 1) {
    return Effect.fail(
      new UserError({ message: "data.evalFraction: expected a fraction below 1 (some documents must remain for training)" })
    )
  }
  const perm = Key.permutation(key, docs.length)
  const held = new Uint8Array(docs.length)
  const k = evalCount(docs.length, evalFraction)
  for (let i = 0; i < k; i++) held[perm[i]!] = 1
  const train: Array<string> = []
  const evalDocs: Array<string> = []
  docs.forEach((d, i) => (held[i] === 1 ? evalDocs : train).push(d))
  return Effect.succeed({ train, eval: evalDocs })
}
