/**
 * Per-neuron reductions over a layer's slices: every slice tensor of an FF layer holds neuron i at
 * index i of its slice axis (`Topology.NeuronSlice.axis`), so reducing every other axis gives one
 * value per neuron. Signals built from weights, gradients or optimizer slots go through these.
 */
import type { Signal, Topology } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"

/** `t` (one slice parameter of a layer) reduced to `[dFF]` by summing every axis but its neuron axis. */
export const sumPerNeuron = (t: tf.Tensor, axis: 0 | 1): tf.Tensor1D => {
  if (t.rank === 1) return t as tf.Tensor1D
  return tf.sum(t, axis === 0 ? 1 : 0) as tf.Tensor1D
}

/** How many scalars of a slice parameter belong to one neuron. */
export const perNeuronSize = (t: tf.Tensor, axis: 0 | 1): number => t.size / t.shape[axis]!

/**
 * Σ over every slice of the layer of `f(tensors[role], role)` summed per neuron (`[dFF]`). Roles
 * absent from `tensors` are skipped (their slice contributes nothing).
 */
export const sumOverSlices = (
  layer: Topology.FFLayer,
  tensors: Signal.LayerTensors,
  f: (t: tf.Tensor, role: Topology.NeuronSlice["role"]) => tf.Tensor
): tf.Tensor1D => {
  const parts: Array<tf.Tensor1D> = []
  for (const s of layer.slices) {
    const t = tensors[s.role]
    if (t !== undefined) parts.push(sumPerNeuron(f(t, s.role), s.axis))
  }
  return (parts.length === 1 ? parts[0]! : tf.addN(parts)) as tf.Tensor1D
}

/** How many scalars each neuron owns over the slices present in `tensors`. */
export const neuronSize = (layer: Topology.FFLayer, tensors: Signal.LayerTensors): number =>
  layer.slices.reduce((n, s) => {
    const t = tensors[s.role]
    return t === undefined ? n : n + perNeuronSize(t, s.axis)
  }, 0)

/** The name of the engine's fused column dot kernel (registered on wasm by `@rekindle/engine`). */
export const columnDotKernel = "RekindleColumnDot"

/**
 * Σ_rows a[r, j]·b[r, j] per column `[d]`: the engine's fused kernel where the backend has it (one
 * pass, float64 accumulation), else `sum(mul(a, b), 0)` (a leading-axis sum: one heap pass with
 * the engine's overrides, where Mean would transpose first).
 */
export const columnDot = (a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor1D =>
  a.dtype === "float32" && b.dtype === "float32" && tf.getKernel(columnDotKernel, tf.getBackend()) !== undefined
    ? (tf.engine().runKernel(columnDotKernel, { a, b } as unknown as tf.NamedTensorMap, {}) as tf.Tensor1D)
    : (tf.sum(tf.mul(a, b), 0) as tf.Tensor1D)
