/**
 * The transformer as a value: its config, parameter names and shapes, FF topology, init, and pure
 * functions of a named parameter map (loss, evaluation, magnitudes, activation statistics). No
 * state lives here: parameters are passed in, so `tf.variableGrads` / `tf.grads` differentiate
 * `loss` directly. Every function runs its work in `tf.tidy`; only the returned tensors survive.
 */
import { Bug, Key, type Params, type Topology } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import "./Gradients.ts"
import { type BatchTensors, targetCount } from "./BatchTensors.ts"
import * as CrossEntropy from "./CrossEntropy.ts"
import { type ForwardOptions, hiddenStates, targetLogits } from "./Forward.ts"
import * as Init from "./Init.ts"
import type { ModelConfig } from "./ModelConfig.ts"
import * as Names from "./Names.ts"
import * as Neurons from "./Neurons.ts"

export type { Blend, ForwardOptions } from "./Forward.ts"

/** A transformer of one configuration. */
export interface Transformer {
  readonly config: ModelConfig
  /** Per FF layer: W_in / W_out names and the slices that make up each neuron (b_in too with ffBias). */
  readonly topology: Topology.Topology
  /** Every parameter's shape by name. */
  readonly shapes: Readonly<Record<string, Array<number>>>
  /** Total number of scalars over all parameters. */
  readonly parameterCount: number
  /** Initial values for every parameter; deterministic for the key (parameter p draws from `Key.split(key, p)`). */
  readonly init: (key: Key.Key) => Record<string, tf.Tensor>
  /** A fresh draw of one parameter from its init distribution; equals `init(key)[name]`. */
  readonly initParam: (name: string, key: Key.Key) => tf.Tensor
  /** Mean cross-entropy over target positions; pure in params; works under `tf.variableGrads` / `tf.grads`. */
  readonly loss: (params: Params.ParamMap, batch: BatchTensors, options?: ForwardOptions) => tf.Scalar
  /** Summed loss and number of correct argmax predictions over the targets (`count` of them). */
  readonly evaluate: (
    params: Params.ParamMap,
    batch: BatchTensors,
    options?: ForwardOptions
  ) => { lossSum: tf.Scalar; correct: tf.Scalar; count: number }
  /** Per FF layer: M_i = ‖win[:, i]‖·‖wout[i, :]‖ and both norms, each `[dFF]`; differentiable. */
  readonly magnitudes: (params: Params.ParamMap) => Array<Neurons.Magnitudes>
  /** Per FF layer on a batch: mean |h_i| and the fraction of tokens with h_i > 0, each `[dFF]`. */
  readonly activationStats: (
    params: Params.ParamMap,
    batch: BatchTensors,
    options?: ForwardOptions
  ) => Array<{ meanAbs: tf.Tensor1D; firingRate: tf.Tensor1D }>
}

/** Builds the transformer of a (decoded, valid) config. */
export const make = (config: ModelConfig): Transformer => {
  if (config.dModel % config.heads !== 0) throw new Bug(`Model: dModel (${config.dModel}) must be divisible by heads (${config.heads})`)
  const shapes = Names.shapes(config)
  const topology = Names.topology(config)
  const parameterCount = Object.values(shapes).reduce((n, s) => n + s.reduce((a, b) => a * b, 1), 0)

  const initParam = (name: string, key: Key.Key): tf.Tensor => {
    const shape = shapes[name]
    if (shape === undefined) throw new Bug(`Model: no parameter named "${name}"`)
    return Init.draw(name, shape, Key.split(key, name))
  }

  return {
    config,
    topology,
    shapes,
    parameterCount,
    init: (key) => {
      const out: Record<string, tf.Tensor> = {}
      for (const name of Object.keys(shapes)) out[name] = initParam(name, key)
      return out
    },
    initParam,
    loss: (params, batch, options) =>
      tf.tidy(() => CrossEntropy.meanLoss(targetLogits(config, params, batch, options), batch.targetIds)),
    evaluate: (params, batch, options) => {
      const stats = tf.tidy(() => CrossEntropy.evalStats(targetLogits(config, params, batch, options), batch.targetIds))
      return { ...stats, count: targetCount(batch) }
    },
    magnitudes: (params) => topology.layers.map((l) => Neurons.magnitudesOf(params, l)),
    activationStats: (params, batch, options) =>
      tf.tidy(() => {
        const stats: Array<{ meanAbs: tf.Tensor1D; firingRate: tf.Tensor1D }> = []
        hiddenStates(config, params, batch, options, (l, h) => {
          stats[l] = {
            meanAbs: tf.mean(tf.abs(h), 0) as tf.Tensor1D,
            firingRate: tf.mean(tf.cast(tf.greater(h, 0), "float32"), 0) as tf.Tensor1D
          }
        })
        return stats
      })
  }
}
