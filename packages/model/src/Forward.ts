/**
 * The forward pass up to the final hidden states, on 2-D activations `[B·T, d]`: embeddings,
 * pre-LayerNorm blocks (attention, then FF = act(x·W_in (+b_in))·W_out (+b_out)), optional final
 * LayerNorm. FF hidden units can be masked (gradual pruning) or blended with old weights (smooth
 * reinitialization), and an observer sees every FF layer's hidden activations.
 */
import type { Blend, ForwardOptions, Params } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { selfAttention } from "./Attention.ts"
import type { BatchTensors } from "./BatchTensors.ts"
import { activation, dense, layerNorm } from "./Layers.ts"
import type { ModelConfig } from "./ModelConfig.ts"
import * as Names from "./Names.ts"

export type { Blend, ForwardOptions }

/** Called with each FF layer's hidden activations `[B·T, dFF]` (after activation and mask). */
export type Observer = (ffLayer: number, hidden: tf.Tensor2D) => void

/** A parameter by name, or a clear error naming it. */
export const param = (params: Params.ParamMap, name: string): tf.Tensor => {
  const t = params[name]
  if (t === undefined) throw new Error(`Model: parameter "${name}" is missing from the parameter map`)
  return t
}

/** Token + position embeddings of a batch, `[B·T, d]`. */
const embed = (c: ModelConfig, params: Params.ParamMap, batch: BatchTensors): tf.Tensor2D => {
  const { batchSize: b, seqLen: t } = batch
  if (t > c.seqLen) throw new Error(`Model: batch seqLen ${t} exceeds the model's seqLen ${c.seqLen}`)
  const n = b * t
  const d = c.dModel
  const tokens = tf.gather(param(params, Names.tokenEmbedding), tf.reshape(batch.inputIds, [n]))
  const positionTable = param(params, Names.positionEmbedding)
  const positions = t === c.seqLen ? positionTable : tf.slice(positionTable, [0, 0], [t, d])
  return tf.reshape(tf.add(tf.reshape(tokens, [b, t, d]), positions), [n, d])
}

/** The FF sublayer's output (before the residual add). */
const feedForward = (
  c: ModelConfig,
  params: Params.ParamMap,
  l: number,
  x: tf.Tensor2D,
  options: ForwardOptions | undefined,
  observe: Observer | undefined
): tf.Tensor2D => {
  const n = Names.block(l)
  const act = activation(c.activation)
  const h = layerNorm(x, param(params, n.ln2Gain), param(params, n.ln2Bias))
  const mask = options?.ffMask?.[l]
  let hidden = act(dense(h, param(params, n.win), c.ffBias ? param(params, n.bin) : undefined))
  if (mask !== undefined) hidden = tf.mul(hidden, mask)
  observe?.(l, hidden)
  const wout = param(params, n.wout) as tf.Tensor2D
  const blend = options?.blend?.[l]
  let y: tf.Tensor2D
  if (blend === undefined) {
    y = tf.matMul(hidden, wout)
  } else {
    let old = act(dense(h, blend.oldWin, blend.oldBin))
    if (mask !== undefined) old = tf.mul(old, mask)
    y = tf.add(
      tf.matMul(tf.mul(hidden, blend.alpha), wout),
      tf.matMul(tf.mul(old, tf.sub(1, blend.alpha)), blend.oldWout)
    )
  }
  return c.ffBias ? tf.add(y, param(params, n.bout)) : y
}

/** Final hidden states `[B·T, d]` (after the final LayerNorm when configured). */
export const hiddenStates = (
  c: ModelConfig,
  params: Params.ParamMap,
  batch: BatchTensors,
  options?: ForwardOptions,
  observe?: Observer
): tf.Tensor2D => {
  let x = embed(c, params, batch)
  const shape = { batchSize: batch.batchSize, seqLen: batch.seqLen, heads: c.heads, causal: c.causal }
  for (let l = 0; l < c.layers; l++) {
    const n = Names.block(l)
    const h = layerNorm(x, param(params, n.ln1Gain), param(params, n.ln1Bias))
    x = tf.add(x, selfAttention(h, {
      wq: param(params, n.wq),
      wk: param(params, n.wk),
      wv: param(params, n.wv),
      wo: param(params, n.wo),
      bq: param(params, n.bq),
      bk: param(params, n.bk),
      bv: param(params, n.bv),
      bo: param(params, n.bo)
    }, shape))
    if (c.dFF > 0) x = tf.add(x, feedForward(c, params, l, x, options, observe))
  }
  return c.finalLayerNorm ? layerNorm(x, param(params, Names.finalGain), param(params, Names.finalBias)) : x
}

/** Logits `[M, V]` at the batch's target positions only (gather first, then project). */
export const targetLogits = (c: ModelConfig, params: Params.ParamMap, batch: BatchTensors, options?: ForwardOptions): tf.Tensor2D => {
  const x = hiddenStates(c, params, batch, options)
  const atTargets = tf.gather(x, batch.targetPositions)
  return dense(atTargets, param(params, Names.headWeight), param(params, Names.headBias))
}
