/**
 * The signals criteria read, measured on device and read back in one transfer: per FF layer the
 * norms ‖W_in[:, i]‖₂, ‖W_out[i, :]‖₂, their product M_i and ‖W_out[i, :]‖₁, plus (when a probe
 * batch is given) mean |h_i| and the firing rate on it. Only [dFF] vectors leave the device.
 * Readbacks leave their tidy scopes through `Tensors.tidyValue`: `tf.tidy` would walk a returned
 * typed array element by element looking for tensors (~0.4 µs per element).
 */
import type { BatchTensors, ForwardOptions, HookModel, Params, Signals, Topology } from "@rekindle/core"
import { Tensors } from "@rekindle/engine"
import * as tf from "@tensorflow/tfjs-core"
import { param } from "./Forward.ts"
import { magnitudesOf } from "./Neurons.ts"

/** Takes consecutive pieces of one flat readback: each call returns the next `n` values (a copy). */
const reader = (flat: Float32Array) => {
  let offset = 0
  return (n: number): Float32Array => {
    const out = flat.slice(offset, offset + n)
    offset += n
    return out
  }
}

/** What `measure` needs from the model: its topology and activation statistics. */
export type Measurable = HookModel

/** inNorm, outNorm, magnitude (GLU: the gate column counts as input, see `Neurons.magnitudesOf`) and ‖W_out[i, :]‖₁. */
const weightVectors = (params: Params.ParamMap, layer: Topology.FFLayer): Array<tf.Tensor1D> => {
  const { inNorm, outNorm, magnitude } = magnitudesOf(params, layer)
  return [inNorm, outNorm, magnitude, tf.sum(tf.abs(params[layer.wout]!), 1) as tf.Tensor1D]
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
  const flat = Tensors.tidyValue(() => {
    const parts = layers.flatMap((l) => weightVectors(params, l))
    if (probe !== undefined) {
      const stats = model.activationStats(params, probe, forward)
      for (const s of stats) parts.push(s.meanAbs, s.firingRate)
    }
    return tf.concat(parts).dataSync() as Float32Array
  })
  const take = reader(flat)
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
  const flat = Tensors.tidyValue(() => tf.concat(topology.layers.map((l) => weightVectors(params, l)[2]!)).dataSync() as Float32Array)
  const take = reader(flat)
  return topology.layers.map((l) => take(l.dFF))
}

/**
 * Per layer, the magnitudes M_i of the neurons at `indices[p]` only, in that order (one transfer).
 * A neuron's magnitude depends on its own slices alone, and every reduction behind it (the column
 * sums of W_in / W_gate squares, the row sums of W_out squares) adds one neuron's elements in the
 * same order whichever other neurons are present, so the values are bit for bit those of
 * {@link magnitudes} at the same indices (packages/model/test/Measure.test.ts checks this on wasm
 * and cpu).
 */
export const magnitudesAt = (
  topology: Topology.Topology,
  params: Params.ParamMap,
  indices: ReadonlyArray<ReadonlyArray<number>>
): Array<Float32Array> => {
  const picked = topology.layers.map((l, p) => ({ layer: l, at: indices[p] ?? [] })).filter((x) => x.at.length > 0)
  const flat = picked.length === 0 ? new Float32Array(0) : Tensors.tidyValue(() => {
    const parts = picked.map(({ layer, at }) => {
      const idx = tf.tensor1d(Int32Array.from(at), "int32")
      const sub: Record<string, tf.Tensor> = {
        [layer.win]: tf.gather(param(params, layer.win), idx, 1),
        [layer.wout]: tf.gather(param(params, layer.wout), idx, 0),
        ...(layer.gate !== undefined ? { [layer.gate]: tf.gather(param(params, layer.gate), idx, 1) } : {})
      }
      return magnitudesOf(sub, { ...layer, dFF: at.length }).magnitude
    })
    return tf.concat(parts).dataSync() as Float32Array
  })
  const take = reader(flat)
  return topology.layers.map((_, p) => take(indices[p]?.length ?? 0))
}
