/** Shared test helpers: temp folders, a small hand-made vocabulary, and a dataset built without a corpus. */
import { Key } from "@rekindle/core"
import { Effect } from "effect"
import { FileSystem } from "effect/FileSystem"
import type { Dataset } from "../src/Dataset.ts"
import { fromVocabTxt } from "../src/TokenizerFiles.ts"

/** A fresh temporary folder, removed when the test's scope closes. */
export const tempDir = Effect.gen(function*() {
  const fs = yield* FileSystem
  return yield* fs.makeTempDirectoryScoped({ prefix: "rekindle-data-" })
})

/** Words of the small test vocabulary (ids 5.. after the specials). */
export const words = ["the", "cat", "sat", "on", "mat", "a", "dog", "ran", "far", "away", "##s", "##ed", ".", ","]

/** vocab.txt text: specials first, then `words`. */
export const vocabTxt = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ...words].join("\n") + "\n"

/** A tokenizer from `vocabTxt`. */
export const smallTokenizer = fromVocabTxt(vocabTxt, true, "test vocab.txt", "data.tokenizer.path")

/** A dataset whose streams are random non-special ids with a [SEP] every `docLength` tokens. */
export const syntheticDataset = (trainLength: number, evalLength: number, docLength = 50) =>
  Effect.map(smallTokenizer, (tokenizer): Dataset => {
    const u = Key.uniform(Key.make(99))
    const stream = (n: number) => {
      const s = new Int32Array(n)
      for (let i = 0; i < n; i++) {
        s[i] = (i + 1) % docLength === 0 ? tokenizer.specials.sep : 5 + Math.floor(u() * (tokenizer.vocabSize - 5))
      }
      return s
    }
    return {
      tokenizer,
      train: stream(trainLength),
      eval: stream(evalLength),
      documents: { train: Math.ceil(trainLength / docLength), eval: Math.ceil(evalLength / docLength) },
      fingerprint: "synthetic"
    }
  })
