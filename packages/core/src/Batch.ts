/**
 * A training or evaluation batch as plain typed arrays (the data package makes them, the model
 * turns them into tensors). Sequences are packed to `seqLen`; the loss is computed only at
 * `targetPositions` (masked positions for MLM, every position with a next token for causal LM).
 */

/** One batch of token ids and its prediction targets. */
export interface Batch {
  readonly batchSize: number
  readonly seqLen: number
  /** Input token ids, row-major `[batchSize, seqLen]` (after masking for MLM). */
  readonly inputIds: Int32Array
  /** Flat indices into `batchSize * seqLen` where a prediction is scored. */
  readonly targetPositions: Int32Array
  /** The token id to predict at each target position. */
  readonly targetIds: Int32Array
}

/** Number of tokens in a batch (inputs, not targets). */
export const tokens = (b: Batch): number => b.batchSize * b.seqLen
