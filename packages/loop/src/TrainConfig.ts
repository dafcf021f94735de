/**
 * The training loop's settings (pipeline section `train`).
 */
import { Schemas } from "@rekindle/core"
import { Schema } from "effect"
const { PositiveInt, NonNegativeInt } = Schemas

/** Training loop configuration. */
export const TrainConfig = Schema.Struct({
  /** Number of optimizer steps. */
  steps: PositiveInt,
  batchSize: PositiveInt,
  /** Evaluate every N steps (and at the end); 0 = only at the end. */
  evalEvery: NonNegativeInt,
  /** Number of fixed held-out batches per evaluation. */
  evalBatches: PositiveInt,
  /** Read the loss back and emit a TrainStep event every N steps. */
  logEvery: PositiveInt,
  /** Write a checkpoint every N steps; 0 = never (a final one is still written when > 0). */
  checkpointEvery: NonNegativeInt
})

/** Training loop configuration (type). */
export type TrainConfig = typeof TrainConfig.Type
