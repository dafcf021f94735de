/**
 * Floating-point operations of one training step, for turning tokens/s into GFLOP/s. Counts the
 * matMuls only (2 FLOPs per multiply-add): Q/K/V/O projections, QKᵀ and attention·V (no causal
 * halving), the FF layers (three products for GLU), and the head at target positions only; the backward pass is counted as
 * twice the forward (forward + backward = 3 × forward). Blend paths are not counted.
 */
import { isGated, type ModelConfig } from "./ModelConfig.ts"

/** FLOPs of one forward pass and of one forward + backward pass over a batch. */
export const flops = (
  c: ModelConfig,
  batchSize: number,
  targetsPerBatch: number
): { forward: number; forwardBackward: number } => {
  const tokens = batchSize * c.seqLen
  const d = c.dModel
  const projections = 2 * tokens * 4 * d * d
  const attention = 2 * 2 * batchSize * c.seqLen * c.seqLen * d
  const ff = 2 * tokens * (isGated(c) ? 3 : 2) * d * c.dFF
  const head = 2 * targetsPerBatch * d * c.vocabSize
  const forward = c.layers * (projections + attention + ff) + head
  return { forward, forwardBackward: 3 * forward }
}
