/**
 * Where text comes from, how it is tokenized and how batches are formed (pipeline section `data`).
 */
import { Schema } from "effect"

const PositiveInt = Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))
const Probability = Schema.Finite.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1 })))

/** A text source: the embedded Brown corpus, or local files. */
export const Corpus = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("brown") }),
  /** Plain text; one document per blank-line-separated paragraph. */
  Schema.Struct({ kind: Schema.Literal("text"), path: Schema.String }),
  /** JSON lines with a text field; `.gz` files (C4 shards) are decompressed. */
  Schema.Struct({ kind: Schema.Literal("jsonl"), path: Schema.String, field: Schema.String })
]).pipe(Schema.toTaggedUnion("kind"))

/** How text becomes token ids. */
export const Tokenizer = Schema.Union([
  /** Train a WordPiece vocabulary on the training text (cached by corpus + settings). */
  Schema.Struct({ kind: Schema.Literal("wordpiece"), vocabSize: PositiveInt, lowercase: Schema.Boolean }),
  /** Load an existing `tokenizer.json` or `vocab.txt` from disk. */
  Schema.Struct({ kind: Schema.Literal("file"), path: Schema.String, lowercase: Schema.Boolean })
]).pipe(Schema.toTaggedUnion("kind"))

/** Masked-LM corruption: `prob` of non-special tokens are targets; of those 80% [MASK], 10% random, 10% kept. */
export const Masking = Schema.Struct({
  prob: Probability,
  mask: Probability,
  random: Probability
})

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
