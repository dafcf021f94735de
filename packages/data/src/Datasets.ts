/**
 * The data package's main entry points, gathered for `import { Datasets } from "@rekindle/data"` (not `Data`, which would shadow Effect's):
 * `load` a dataset, then draw batches with `trainStream` and `evalBatches`.
 */
export { type BatchOptions, type BatchStream, evalBatches, type StreamPosition, trainStream } from "./Batches.ts"
export { defaultCacheDir } from "./Cache.ts"
export { type Dataset, load, type LoadOptions } from "./Dataset.ts"
export { specialTokens, type Specials, type Tokenizer } from "./Tokenizer.ts"
