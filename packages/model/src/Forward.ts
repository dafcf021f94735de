/**
 * The forward pass up to the final hidden states, on 2-D activations `[B·T, d]`: embeddings,
 * pre-LayerNorm blocks (attention, then FF = act(x·W_in (+b_in))·W_out (+b_out), or for GLU
 * h = act(x·W_gate (+b_gate)) ⊙ (x·W_in (+b_in))), optional final LayerNorm. FF hidden units can be
 * masked (gradual pruning) or blended with old weights (smooth reinitialization); an observer sees
 * every FF layer's hidden activations, and a tap sees them with their gradient ∂L/∂h during the
 * backward pass of the same step (no extra forward or backward).
 */
import { type Blend, Bug, type ForwardOptions, type HiddenGradTap, type Params } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { selfAttention } from "./Attention.ts"
import type { BatchTensors } from "./BatchTensors.ts"
import { activation, addLayerNorm, dense, denseActivation, layerNorm } from "./Layers.ts"
import { isGated, type ModelConfig } from "./ModelConfig.ts"
import * as Names from "./Names.ts"

export type { Blend, ForwardOptions, HiddenGradTap }

/** h unchanged, with `tap(l, h, ∂L/∂h)` called when the gradient flows back through it. */
const tapped = (l: number, hidden: tf.Tensor2D, tap: HiddenGradTap): tf.Tensor2D =>
  tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const h = args[0] as tf.Tensor2D
    const save = args[1] as tf.GradSaveFunc
    save([h])
    return {
      value: tf.clone(h),
      gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
        tap(l, saved[0] as tf.Tensor2D, dy as tf.Tensor2D)
        return [dy]
      }
    }
  })(hidden) as tf.Tensor2D

/** Called with each FF layer's hidden activations `[B·T, dFF]` (after activation and mask). */
export type Observer = (ffLayer: number, hidden: tf.Tensor2D) => void

/** A parameter by name, or a clear error naming it. */
export const param = (params: Params.ParamMap, name: string): tf.Tensor => {
  const t = params[name]
  if (t === undefined) throw new Bug(`Model: parameter "${name}" is missing from the parameter map`)
  return t
}

/** Token + position embeddings of a batch, `[B·T, d]`. */
const embed = (c: ModelConfig, params: Params.ParamMap, batch: BatchTensors): tf.Tensor2D => {
  const { batchSize: b, seqLen: t } = batch
  if (t > c.seqLen) throw new Bug(`Model: batch seqLen ${t} exceeds the model's seqLen ${c.seqLen}`)
  const n = b * t
  const d = c.dModel
  const tokens = tf.gather(param(params, Names.tokenEmbedding), tf.reshape(batch.inputIds, [n]))
  const positionTable = param(params, Names.positionEmbedding)
  const positions = t === c.seqLen ? positionTable : tf.slice(positionTable, [0, 0], [t, d])
  return tf.reshape(tf.add(tf.reshape(tokens, [b, t, d]), positions), [n, d])
}

/** The FF sublayer's output (before the residual add), from its normalised input `h`. */
const feedForward = (
  c: ModelConfig,
  params: Params.ParamMap,
  l: number,
  h: tf.Tensor2D,
  options: ForwardOptions | undefined,
  observe: Observer | undefined
): tf.Tensor2D => {
  const n = Names.block(l)
  const gated = isGated(c)
  const mask = options?.ffMask?.[l]
  /** act(h·W_in + b_in), or gate(h·W_gate + b_gate) ⊙ (h·W_in + b_in) for GLU (bias and activation fused where registered). */
  const hiddenOf = (win: tf.Tensor, bin: tf.Tensor | undefined, wgate: tf.Tensor | undefined, bgate: tf.Tensor | undefined): tf.Tensor2D => {
    if (c.activation === "relu" || c.activation === "gelu") return denseActivation(h, win, bin, c.activation)
    const gate = c.activation === "geglu" ? denseActivation(h, wgate!, bgate, "gelu") : activation(c.activation)(dense(h, wgate!, bgate))
    return tf.mul<tf.Tensor2D>(gate, dense(h, win, bin))
  }
  let hidden = hiddenOf(
    param(params, n.win),
    c.ffBias ? param(params, n.bin) : undefined,
    gated ? param(params, n.wgate) : undefined,
    gated && c.ffBias ? param(params, n.bgate) : undefined
  )
  if (mask !== undefined) hidden = tf.mul(hidden, mask)
  if (options?.hiddenGrad !== undefined) hidden = tapped(l, hidden, options.hiddenGrad)
  observe?.(l, hidden)
  const wout = param(params, n.wout) as tf.Tensor2D
  const blend = options?.blend?.[l]
  let y: tf.Tensor2D
  if (blend === undefined) {
    y = tf.matMul(hidden, wout)
  } else {
    if (gated && blend.oldWgate === undefined) throw new Bug(`Model: the blend of GLU layer ${l} has no old W_gate`)
    let old = hiddenOf(blend.oldWin, blend.oldBin, blend.oldWgate, blend.oldBgate)
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
  const norm = (l: number): [tf.Tensor, tf.Tensor] | undefined => {
    if (l < c.layers) {
      const n = Names.block(l)
      return [param(params, n.ln1Gain), param(params, n.ln1Bias)]
    }
    return c.finalLayerNorm ? [param(params, Names.finalGain), param(params, Names.finalBias)] : undefined
  }
  /** x + r, and the LayerNorm `next` of the sum when there is one (fused where the backend has it). */
  const residual = (r: tf.Tensor2D, next: [tf.Tensor, tf.Tensor] | undefined): tf.Tensor2D | undefined => {
    if (next === undefined) {
      x = tf.add(x, r)
      return undefined
    }
    const [s, h] = addLayerNorm(x, r, next[0], next[1])
    x = s
    return h
  }
  const first = norm(0)
  let h = first === undefined ? undefined : layerNorm(x, first[0], first[1])
  for (let l = 0; l < c.layers; l++) {
    const n = Names.block(l)
    const attention = selfAttention(h!, {
      wq: param(params, n.wq),
      wk: param(params, n.wk),
      wv: param(params, n.wv),
      wo: param(params, n.wo),
      bq: param(params, n.bq),
      bk: param(params, n.bk),
      bv: param(params, n.bv),
      bo: param(params, n.bo)
    }, shape)
    if (c.dFF > 0) {
      const h2 = residual(attention, [param(params, n.ln2Gain), param(params, n.ln2Bias)])!
      h = residual(feedForward(c, params, l, h2, options, observe), norm(l + 1))
    } else {
      h = residual(attention, norm(l + 1))
    }
  }
  return h ?? x
}

/** Logits `[M, V]` at the batch's target positions only (gather first, then project). */
export const targetLogits = (c: ModelConfig, params: Params.ParamMap, batch: BatchTensors, options?: ForwardOptions): tf.Tensor2D => {
  const x = hiddenStates(c, params, batch, options)
  const atTargets = tf.gather(x, batch.targetPositions)
  return dense(atTargets, param(params, Names.headWeight), param(params, Names.headBias))
}
