/**
 * Weight signals (no extra inputs; the former fixed `Signals` menu): ‖W_in[:, i]‖₂ (with the GLU
 * gate column: sqrt(‖W_in[:, i]‖² + ‖W_gate[:, i]‖²)), ‖W_out[i, :]‖₂, their product, the
 * magnitude M_i, and ‖W_out[i, :]‖₁ (the Continual-Backprop contribution weight).
 */
import type { Signal } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"

/** sqrt(‖W_in[:, i]‖² (+ ‖W_gate[:, i]‖²)). */
export const inNormOf = (w: Signal.LayerTensors): tf.Tensor1D => {
  const squares = tf.sum(tf.square(w.in), 0)
  return tf.sqrt(w.gate === undefined ? squares : tf.add(squares, tf.sum(tf.square(w.gate), 0))) as tf.Tensor1D
}

/** ‖W_out[i, :]‖₂. */
export const outNormOf = (w: Signal.LayerTensors): tf.Tensor1D => tf.sqrt(tf.sum(tf.square(w.out), 1)) as tf.Tensor1D

/** `signal/in-norm`. */
export const inNorm = (): Signal.Signal => ({ needs: {}, compute: (v) => inNormOf(v.weights) })

/** `signal/out-norm`. */
export const outNorm = (): Signal.Signal => ({ needs: {}, compute: (v) => outNormOf(v.weights) })

/** `signal/magnitude`: M_i = inNorm_i · outNorm_i. */
export const magnitude = (): Signal.Signal => ({
  needs: {},
  compute: (v) => tf.mul(inNormOf(v.weights), outNormOf(v.weights))
})

/** `signal/out-l1`: ‖W_out[i, :]‖₁. */
export const outL1 = (): Signal.Signal => ({ needs: {}, compute: (v) => tf.sum(tf.abs(v.weights.out), 1) as tf.Tensor1D })
