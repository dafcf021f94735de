/**
 * Trains a WordPiece vocabulary on the training documents with HF `tokenizers`, and caches the
 * result as a standard `tokenizer.json` under `<cacheDir>/tokenizers/`, keyed by a hash of the
 * training text and the settings.
 *
 * The binding's `Tokenizer.train(files)` uses the model's default trainer, whose settings are
 * not exposed (its `Trainer` class has no constructor or options in 0.23.2): it always aims at
 * 30,000 entries and adds no special tokens. So we train, sort the learned vocabulary by id (the
 * alphabet first, then the merges in the order they were learned, i.e. most frequent first), put
 * [PAD] [UNK] [CLS] [SEP] [MASK] at ids 0..4, keep the first `vocabSize - 5` learned entries,
 * and rebuild a WordPiece model from that vocabulary. When the corpus is too small to learn
 * that many entries, the rest is filled with `[unused0]`, `[unused1]`, ... so that the
 * vocabulary always has exactly `vocabSize` ids (as bert-base-uncased reserves unused slots).
 *
 * Determinism: the native trainer numbers its entries in a per-process random order (Rust
 * HashMap seeds) and breaks ties between equally frequent merges the same way. So the kept
 * entries get ids in a canonical order (sorted by UTF-16 code units), which makes the id
 * mapping identical whenever the kept set is; the set itself can still differ by a few
 * entries at the cut-off between two cold trainings (seen: 2 of 8,187 on Brown; none at 600
 * or 2,000). The cache makes every later load on a machine reuse its first result; for
 * bit-exact runs across machines, copy the cached tokenizer.json and load it with `kind: "file"`.
 */
import { UserError } from "@rekindle/core"
import { Effect } from "effect"
import { FileSystem } from "effect/FileSystem"
import { Path } from "effect/Path"
import type { Model } from "tokenizers"
import { hashStrings, readIfPresent, temporaryName, writeAtomically } from "./Cache.ts"
import { minVocabSize } from "./DataConfig.ts"
import { native } from "./NativeTokenizers.ts"
import { specialTokens, type WordPieceTokenizer } from "./Tokenizer.ts"
import { bertParts, fromTokenizerJson } from "./TokenizerFiles.ts"

/** Bump when the training recipe changes, so old cache entries are not reused. */
const recipeVersion = "wordpiece-v2"

/** Settings of a trained tokenizer. */
export interface TrainSettings {
  readonly vocabSize: number
  readonly lowercase: boolean
}

/**
 * The final vocabulary: specials at 0..4, then the first learned entries by id (renumbered in
 * sorted order), then `[unusedK]` fillers up to `vocabSize`.
 */
export const truncateVocab = (learned: Readonly<Record<string, number>>, vocabSize: number): Record<string, number> => {
  const vocab: Record<string, number> = {}
  let next = 0
  for (const t of specialTokens) vocab[t] = next++
  const byId = Object.entries(learned).sort((a, b) => a[1] - b[1])
  const kept: Array<string> = []
  for (const [token] of byId) {
    if (next + kept.length >= vocabSize) break
    if (!Object.hasOwn(vocab, token)) kept.push(token)
  }
  for (const token of kept.sort()) vocab[token] = next++
  for (let k = 0; next < vocabSize; k++) {
    const filler = `[unused${k}]`
    if (!Object.hasOwn(vocab, filler)) vocab[filler] = next++
  }
  return vocab
}

/** Checks `data.tokenizer.vocabSize` (the schema checks it too; this guards configs built in code). */
const checkVocabSize = (vocabSize: number): Effect.Effect<void, UserError> =>
  Number.isInteger(vocabSize) && vocabSize >= minVocabSize
    ? Effect.void
    : Effect.fail(new UserError({
      message: `data.tokenizer.vocabSize: expected an integer of at least ${minVocabSize} ` +
        `(5 special tokens [PAD] [UNK] [CLS] [SEP] [MASK] plus room for text), got ${vocabSize}`
    }))

/** The cache file of a trained tokenizer for these documents and settings. */
const cacheFile = (path: Path, cacheDir: string, trainHash: string, settings: TrainSettings): string =>
  path.join(
    cacheDir,
    "tokenizers",
    `wordpiece-${settings.vocabSize}-${
      hashStrings([recipeVersion, trainHash, String(settings.vocabSize), String(settings.lowercase)]).slice(0, 24)
    }.json`
  )

/** Trains on `docs` and writes the tokenizer.json to `file` (atomically). */
const trainTo = (file: string, docs: ReadonlyArray<string>, settings: TrainSettings) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem
    const binding = yield* native
    const corpusFile = temporaryName(file) + ".txt"
    const problem = (e: { readonly message: string }) =>
      new UserError({ message: `cache: cannot write ${corpusFile} (${e.message}); check the cache folder (cacheDir)` })
    yield* writeAtomically(file, (tmp) =>
      Effect.gen(function*() {
        yield* fs.writeFileString(corpusFile, docs.join("\n")).pipe(Effect.mapError(problem))
        const text = bertParts(binding, settings.lowercase)
        const trainer = new binding.Tokenizer(binding.WordPiece.empty() as unknown as Model)
        if (text.normalizer !== null) trainer.setNormalizer(text.normalizer)
        if (text.preTokenizer !== null) trainer.setPreTokenizer(text.preTokenizer)
        yield* Effect.sync(() => trainer.train([corpusFile]))
        const vocab = truncateVocab(trainer.getVocab(), settings.vocabSize)
        const final = new binding.Tokenizer(binding.WordPiece.init(vocab, { unkToken: "[UNK]", continuingSubwordPrefix: "##" }))
        if (text.normalizer !== null) final.setNormalizer(text.normalizer)
        if (text.preTokenizer !== null) final.setPreTokenizer(text.preTokenizer)
        final.setDecoder(text.decoder)
        yield* Effect.sync(() => final.save(tmp))
      }).pipe(Effect.ensuring(fs.remove(corpusFile, { force: true }).pipe(Effect.ignore))))
  })

/**
 * A WordPiece tokenizer trained on `docs` (the training half only), from the cache when an
 * entry for the same text hash and settings exists.
 */
export const trained = (
  docs: ReadonlyArray<string>,
  trainHash: string,
  settings: TrainSettings,
  cacheDir: string
): Effect.Effect<WordPieceTokenizer, UserError, FileSystem | Path> =>
  Effect.gen(function*() {
    yield* checkVocabSize(settings.vocabSize)
    const path = yield* Path
    const file = cacheFile(path, cacheDir, trainHash, settings)
    const cached = yield* readIfPresent(file)
    if (cached === undefined) yield* trainTo(file, docs, settings)
    const bytes = cached ?? (yield* readIfPresent(file))
    if (bytes === undefined) return yield* new UserError({ message: `cache: ${file} vanished right after it was written` })
    return yield* fromTokenizerJson(new TextDecoder().decode(bytes), file, "cache")
  })
