/**
 * `scaleByLearningRate`: the last block of every optimizer chain; multiplies the updates by
 * `-lr(count)`, turning a descent direction into an additive update (`params += updates`).
 */
import type { Optimizer } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import type { Transform } from "./Transform.ts"

/** Multiplies the updates by `-schedule(count)` (a number schedule or a constant learning rate). */
export const scaleByLearningRate = (schedule: Optimizer.Schedule | number): Transform => {
  const lr = typeof schedule === "number" ? () => schedule : schedule
  return {
    name: "scale_by_learning_rate",
    slots: {},
    init: () => ({}),
    update: (updates, _slots, _params, count) => {
      const factor = -lr(count)
      const out: Record<string, tf.Tensor> = {}
      for (const name of Object.keys(updates)) out[name] = tf.mul(updates[name]!, factor)
      return [out, {}]
    }
  }
}
