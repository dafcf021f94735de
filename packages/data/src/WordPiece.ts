/**
 * The WordPiece model step in plain TypeScript: greedy longest-match-first over a vocabulary,
 * exactly as HF `tokenizers` does it (continuing pieces carry the `##` prefix; a word with any
 * unmatched part, or longer than `maxInputCharsPerWord`, becomes one [UNK]). Used for the
 * synchronous `Tokenizer.encode`, since the binding's `encode` is asynchronous; the bulk path
 * uses the native encoder and a test checks that both agree.
 */

/** A WordPiece vocabulary and its options. */
export interface WordPieceModel {
  readonly vocab: ReadonlyMap<string, number>
  readonly unkId: number
  readonly prefix: string
  readonly maxInputCharsPerWord: number
}

const codePoints = (s: string): number => {
  let n = 0
  for (const _ of s) n++
  return n
}

/** Token ids of one pre-tokenized word. */
export const encodeWord = (model: WordPieceModel, word: string): Array<number> => {
  if (word.length > model.maxInputCharsPerWord && codePoints(word) > model.maxInputCharsPerWord) return [model.unkId]
  const out: Array<number> = []
  let start = 0
  while (start < word.length) {
    let end = word.length
    let found = -1
    while (start < end) {
      const piece = start > 0 ? model.prefix + word.slice(start, end) : word.slice(start, end)
      const id = model.vocab.get(piece)
      if (id !== undefined) {
        found = id
        break
      }
      end--
    }
    if (found < 0) return [model.unkId]
    out.push(found)
    start = end
  }
  return out
}

/** Memoizes `encodeWord` per word (natural text repeats words heavily); bounded in size. */
export const cachedEncoder = (model: WordPieceModel, capacity = 100_000): (word: string) => ReadonlyArray<number> => {
  const cache = new Map<string, ReadonlyArray<number>>()
  return (word) => {
    const hit = cache.get(word)
    if (hit !== undefined) return hit
    const ids = encodeWord(model, word)
    if (cache.size >= capacity) cache.clear()
    cache.set(word, ids)
    return ids
  }
}
