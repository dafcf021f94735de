/**
 * `clipByGlobalNorm`: rescales all updates together so their global L2 norm is at most
 * `maxNorm` (`u * maxNorm / max(norm, maxNorm)`), with no read-back to JS: one scalar tensor
 * multiplies every update.
 */
import { Bug, type Params } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import type { Transform } from "./Transform.ts"

/**
 * The global L2 norm of a map of tensors, as a scalar tensor (0 for an empty map). Sums in name
 * order, so the result does not depend on the order the map was built in.
 */
export const globalNorm = (tensors: Params.ParamMap): tf.Scalar => {
  const names = Object.keys(tensors).sort()
  if (names.length === 0) return tf.scalar(0)
  return tf.sqrt(tf.addN(names.map((n) => tf.sum(tf.square(tensors[n]!))))) as tf.Scalar
}

/** Clips the updates' global norm to `maxNorm` (> 0). */
export const clipByGlobalNorm = (maxNorm: number): Transform => {
  if (!(maxNorm > 0)) throw new Bug(`clip_by_global_norm: maxNorm must be > 0, got ${maxNorm}`)
  return {
    name: `clip_by_global_norm(${maxNorm})`,
    slots: {},
    init: () => ({}),
    update: (updates) => {
      const scale = tf.div(maxNorm, tf.maximum(globalNorm(updates), maxNorm))
      const out: Record<string, tf.Tensor> = {}
      for (const name of Object.keys(updates)) out[name] = tf.mul(updates[name]!, scale)
      return [out, {}]
    }
  }
}
