/**
 * The signals criteria read, measured on device and read back in one transfer: per FF layer the
 * norms ‖W_in[:, i]‖₂, ‖W_out[i, :]‖₂, their product M_i and ‖W_out[i, :]‖₁, plus (when a probe
 * batch is given) mean |h_i| and the firing rate on it. Only [dFF] vectors leave the device.
 */
import type { Params, Signals, Topology } from "@rekindle/core"
import type { BatchTensors, ForwardOptions, Transformer } from "@rekindle/model"
import * as tf from "@tensorflow/tfjs-core"

/** What `measure` needs from the model: its topology and activation statistics. */
export type Measurable = Pick<Transformer.Transformer, "topology" | "activationStats">

const weightVectors = (params: Params.ParamMap, layer: Topology.FFLayer): Array<tf.Tensor1D> => {
  const win = params[layer.win]
  const wout = params[layer.wout]
  if (win === undefined || wout === undefined) throw new Error(`recycling: parameters ${layer.win} / ${layer.wout} are missing`)
  const inNorm = tf.sqrt(tf.sum(tf.square(win), 0)) as tf.Tensor1D
  const outNorm = tf.sqrt(tf.sum(tf.square(wout), 1)) as tf.Tensor1D
  return [inNorm, outNorm, tf.mul(inNorm, outNorm), tf.sum(tf.abs(wout), 1) as tf.Tensor1D]
}

/** Per-layer weight signals, and activation statistics on `probe` when given. */
export const measure = (
  model: Measurable,
  params: Params.ParamMap,
  step: number,
  probe?: BatchTensors,
  forward?: ForwardOptions
): Signals => {
  const layers = model.topology.layers
  if (layers.length === 0) return { step, layers: [] }
  const flat = tf.tidy(() => {
    const parts = layers.flatMap((l) => weightVectors(params, l))
    if (probe !== undefined) {
      const stats = model.activationStats(params, probe, forward)
      for (const s of stats) parts.push(s.meanAbs, s.firingRate)
    }
    return tf.concat(parts).dataSync() as Float32Array
  })
  let offset = 0
  const take = (n: number) => {
    const out = flat.slice(offset, offset + n)
    offset += n
    return out
  }
  const weights = layers.map((l) => ({ inNorm: take(l.dFF), outNorm: take(l.dFF), magnitude: take(l.dFF), outL1: take(l.dFF) }))
  return {
    step,
    layers: layers.map((l, p) => ({
      layer: l.layer,
      dFF: l.dFF,
      ...weights[p]!,
      ...(probe !== undefined ? { activations: { meanAbs: take(l.dFF), firingRate: take(l.dFF) } } : {})
    }))
  }
}

/** Per layer, the magnitudes M_i only (one transfer). */
export const magnitudes = (topology: Topology.Topology, params: Params.ParamMap): Array<Float32Array> => {
  if (topology.layers.length === 0) return []
  const flat = tf.tidy(() => tf.concat(topology.layers.map((l) => weightVectors(params, l)[2]!)).dataSync() as Float32Array)
  let offset = 0
  return topology.layers.map((l) => {
    const out = flat.slice(offset, offset + l.dFF)
    offset += l.dFF
    return out
  })
}
