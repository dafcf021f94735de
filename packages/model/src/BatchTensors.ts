/**
 * A core `Batch` (plain typed arrays) as tensors on the current backend. The caller owns the
 * tensors: dispose them with `disposeBatch` when the step is done.
 */
import { type Batch, type BatchTensors, Bug } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"

/** A batch on device (the interface lives in core: step hooks see it). */
export type { BatchTensors }

/** Moves a batch to the current backend; throws on inconsistent lengths (a data bug). */
export const toTensors = (b: Batch.Batch): BatchTensors => {
  if (b.inputIds.length !== b.batchSize * b.seqLen) {
    throw new Bug(`Batch: inputIds has ${b.inputIds.length} ids, expected batchSize·seqLen = ${b.batchSize * b.seqLen}`)
  }
  if (b.targetPositions.length !== b.targetIds.length) {
    throw new Bug(`Batch: ${b.targetPositions.length} targetPositions but ${b.targetIds.length} targetIds`)
  }
  return {
    inputIds: tf.tensor2d(b.inputIds, [b.batchSize, b.seqLen], "int32"),
    targetPositions: tf.tensor1d(b.targetPositions, "int32"),
    targetIds: tf.tensor1d(b.targetIds, "int32"),
    batchSize: b.batchSize,
    seqLen: b.seqLen
  }
}

/** Disposes the three tensors of a batch. */
export const disposeBatch = (b: BatchTensors): void => {
  b.inputIds.dispose()
  b.targetPositions.dispose()
  b.targetIds.dispose()
}

/** Number of scored positions. */
export const targetCount = (b: BatchTensors): number => b.targetIds.shape[0]
