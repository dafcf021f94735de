/**
 * `load`: corpus -> documents -> train/eval split (by document, from the key) -> tokenizer
 * (trained on the training half, or loaded from a file; cached) -> two packed token streams.
 * A packed stream is every document's ids followed by [SEP], concatenated in corpus order. The
 * streams are cached too (`<cacheDir>/tokens/<hash>.i32`), keyed by the tokenizer and the text.
 */
import type { Key, UserError } from "@rekindle/core"
import { Effect } from "effect"
import type { FileSystem } from "effect/FileSystem"
import { Path } from "effect/Path"
import { hashStrings, readIfPresent, writeBytesAtomically } from "./Cache.ts"
import * as Corpus from "./Corpus.ts"
import type { DataConfig } from "./DataConfig.ts"
import { split } from "./Split.ts"
import type { Tokenizer, WordPieceTokenizer } from "./Tokenizer.ts"
import { fromFile } from "./TokenizerFiles.ts"
import { trained } from "./TokenizerTraining.ts"

/** A tokenized corpus, split into a training and an evaluation stream. */
export interface Dataset {
  readonly tokenizer: Tokenizer
  /** Packed training tokens: each training document's ids followed by [SEP]. */
  readonly train: Int32Array
  /** Packed evaluation tokens (documents never seen by training nor by the tokenizer trainer). */
  readonly eval: Int32Array
  /** Number of documents in each half. */
  readonly documents: { readonly train: number; readonly eval: number }
  /** Identifies corpus text, split and tokenizer (hex). */
  readonly fingerprint: string
}

/** Options of `load`. */
export interface LoadOptions {
  /** Cache folder for tokenizers and token streams (e.g. `Cache.defaultCacheDir`); relative = from the working directory. */
  readonly cacheDir: string
  /** Key of the train/eval split. */
  readonly key: Key.Key
}

const streamVersion = "packed-sep-v1"
const magic = 0x54444b52 // "RKDT" little-endian

/** Packs documents: ids of each followed by `sep`. */
const pack = (docs: ReadonlyArray<Int32Array>, sep: number): Int32Array => {
  let n = 0
  for (const d of docs) n += d.length + 1
  const out = new Int32Array(n)
  let at = 0
  for (const d of docs) {
    out.set(d, at)
    at += d.length
    out[at++] = sep
  }
  return out
}

/** Serializes two streams as one Int32 file: [magic, trainLength, evalLength, ...train, ...eval]. */
const encodeStreams = (train: Int32Array, evalTokens: Int32Array): Uint8Array => {
  const all = new Int32Array(3 + train.length + evalTokens.length)
  all[0] = magic
  all[1] = train.length
  all[2] = evalTokens.length
  all.set(train, 3)
  all.set(evalTokens, 3 + train.length)
  return new Uint8Array(all.buffer)
}

const decodeStreams = (bytes: Uint8Array): { train: Int32Array; eval: Int32Array } | undefined => {
  if (bytes.byteLength < 12 || bytes.byteLength % 4 !== 0) return undefined
  const all = new Int32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength))
  const trainLength = all[1]!
  const evalLength = all[2]!
  if (all[0] !== magic || 3 + trainLength + evalLength !== all.length) return undefined
  return { train: all.subarray(3, 3 + trainLength), eval: all.subarray(3 + trainLength) }
}

const tokenize = (tokenizer: WordPieceTokenizer, docs: ReadonlyArray<string>) =>
  Effect.promise(() => tokenizer.encodeMany(docs)).pipe(Effect.map((ids) => pack(ids, tokenizer.specials.sep)))

/** Loads the corpus, splits it, trains or loads the tokenizer (cached) and tokenizes both halves (cached). */
export const load = (config: DataConfig, options: LoadOptions): Effect.Effect<Dataset, UserError, FileSystem | Path> =>
  Effect.gen(function*() {
    const path = yield* Path
    const cacheDir = path.resolve(options.cacheDir)
    const docs = yield* Corpus.load(config.corpus)
    const halves = yield* split(docs, config.evalFraction, options.key)
    const trainHash = hashStrings(halves.train)
    const evalHash = hashStrings(halves.eval)
    const tokenizer = config.tokenizer.kind === "wordpiece"
      ? yield* trained(halves.train, trainHash, config.tokenizer, cacheDir)
      : yield* fromFile(config.tokenizer.path, config.tokenizer.lowercase)
    const fingerprint = hashStrings([streamVersion, tokenizer.fingerprint, trainHash, evalHash])
    const file = path.join(cacheDir, "tokens", `${fingerprint.slice(0, 24)}.i32`)
    const cached = yield* readIfPresent(file)
    const hit = cached === undefined ? undefined : decodeStreams(cached)
    let streams: { train: Int32Array; eval: Int32Array }
    if (hit !== undefined) {
      streams = hit
    } else {
      streams = { train: yield* tokenize(tokenizer, halves.train), eval: yield* tokenize(tokenizer, halves.eval) }
      yield* writeBytesAtomically(file, encodeStreams(streams.train, streams.eval))
    }
    const dataset: Dataset = {
      tokenizer,
      train: streams.train,
      eval: streams.eval,
      documents: { train: halves.train.length, eval: halves.eval.length },
      fingerprint: fingerprint.slice(0, 16)
    }
    return dataset
  })
