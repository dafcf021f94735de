/**
 * FF neurons as first-class objects. Neuron i of FF layer l is column i of W_in, row i of W_out
 * and (with ffBias) entry i of b_in, plus for GLU layers column i of W_gate (and entry i of
 * b_gate) — the slices listed by the model's `Topology`. This module cuts them out for inspection
 * and tests, and computes the per-neuron magnitude M_i = inNorm_i · ‖W_out[i, :]‖ together with
 * both norms, where inNorm_i = ‖W_in[:, i]‖ for plain layers and, for GLU layers, the norm of all of
 * the neuron's input weights together: sqrt(‖W_in[:, i]‖² + ‖W_gate[:, i]‖²).
 */
import { Bug, type Params, type Topology } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { param } from "./Forward.ts"
import * as Names from "./Names.ts"

/** The slices of one neuron as small tensors. */
export interface NeuronView {
  readonly layer: number
  readonly index: number
  /** W_in[:, i], `[dModel]`. */
  readonly in: tf.Tensor1D
  /** W_out[i, :], `[dModel]`. */
  readonly out: tf.Tensor1D
  /** b_in[i] (scalar) when the layer has FF biases. */
  readonly bias?: tf.Scalar
  /** W_gate[:, i], `[dModel]` (GLU layers). */
  readonly gate?: tf.Tensor1D
  /** Every slice of the neuron by parameter name (same tensors as above). */
  readonly slices: Readonly<Record<string, tf.Tensor>>
}

/** Per-neuron norms of one FF layer, each `[dFF]`. */
export interface Magnitudes {
  /** M_i = inNorm_i · outNorm_i. */
  readonly magnitude: tf.Tensor1D
  /** ‖W_in[:, i]‖₂; for GLU layers sqrt(‖W_in[:, i]‖² + ‖W_gate[:, i]‖²). */
  readonly inNorm: tf.Tensor1D
  /** ‖W_out[i, :]‖₂. */
  readonly outNorm: tf.Tensor1D
}

/**
 * The FF layer of block `l` as a topology entry, read from the parameter names present in
 * `params` (a bias slice is included when `layers.{l}.ff.bin` exists, gate slices when
 * `layers.{l}.ff.wgate` / `ff.bgate` exist).
 */
export const layerOf = (params: Params.ParamMap, l: number): Topology.FFLayer => {
  const n = Names.block(l)
  const [dModel, dFF] = param(params, n.win).shape as [number, number]
  return {
    layer: l,
    dModel,
    dFF,
    win: n.win,
    wout: n.wout,
    ...(params[n.wgate] !== undefined ? { gate: n.wgate } : {}),
    slices: [
      { param: n.win, axis: 1, role: "in" },
      { param: n.wout, axis: 0, role: "out" },
      ...(params[n.bin] !== undefined ? [{ param: n.bin, axis: 0, role: "bias" } as const] : []),
      ...(params[n.wgate] !== undefined ? [{ param: n.wgate, axis: 1, role: "gate" } as const] : []),
      ...(params[n.bgate] !== undefined ? [{ param: n.bgate, axis: 0, role: "gate-bias" } as const] : [])
    ]
  }
}

/** Index `i` of `t` along `axis`, with that axis removed. */
export const sliceAt = (t: tf.Tensor, axis: 0 | 1, i: number): tf.Tensor => {
  if (i < 0 || i >= (t.shape[axis] ?? 0)) throw new RangeError(`Neurons: index ${i} out of range for axis ${axis} of shape [${t.shape.join(", ")}]`)
  const begin = t.shape.map((_, a) => (a === axis ? i : 0))
  const size = t.shape.map((s, a) => (a === axis ? 1 : s))
  const rest = t.shape.filter((_, a) => a !== axis)
  return tf.tidy(() => tf.reshape(tf.slice(t, begin, size), rest))
}

/** The slices of neuron `i` of an FF layer (a topology entry or a block index). Caller disposes. */
export const view = (params: Params.ParamMap, ffLayer: Topology.FFLayer | number, i: number): NeuronView => {
  const layer = typeof ffLayer === "number" ? layerOf(params, ffLayer) : ffLayer
  const slices: Record<string, tf.Tensor> = {}
  let inSlice: tf.Tensor | undefined
  let outSlice: tf.Tensor | undefined
  let bias: tf.Tensor | undefined
  let gate: tf.Tensor | undefined
  for (const s of layer.slices) {
    const t = sliceAt(param(params, s.param), s.axis, i)
    slices[s.param] = t
    if (s.role === "in") inSlice = t
    else if (s.role === "out") outSlice = t
    else if (s.role === "bias") bias = t
    else if (s.role === "gate") gate = t
  }
  if (inSlice === undefined || outSlice === undefined) throw new Bug(`Neurons: layer ${layer.layer} has no in/out slices`)
  return {
    layer: layer.layer,
    index: i,
    in: inSlice as tf.Tensor1D,
    out: outSlice as tf.Tensor1D,
    ...(bias !== undefined ? { bias: bias as tf.Scalar } : {}),
    ...(gate !== undefined ? { gate: gate as tf.Tensor1D } : {}),
    slices
  }
}

/** Magnitudes and both norms of every neuron of an FF layer, in one pass; differentiable. */
export const magnitudesOf = (params: Params.ParamMap, ffLayer: Topology.FFLayer | number): Magnitudes =>
  tf.tidy(() => {
    const layer = typeof ffLayer === "number" ? layerOf(params, ffLayer) : ffLayer
    const inSquares = tf.sum(tf.square(param(params, layer.win)), 0)
    const inNorm = tf.sqrt(
      layer.gate === undefined ? inSquares : tf.add(inSquares, tf.sum(tf.square(param(params, layer.gate)), 0))
    ) as tf.Tensor1D
    const outNorm = tf.sqrt(tf.sum(tf.square(param(params, layer.wout)), 1)) as tf.Tensor1D
    return { magnitude: tf.mul<tf.Tensor1D>(inNorm, outNorm), inNorm, outNorm }
  })
