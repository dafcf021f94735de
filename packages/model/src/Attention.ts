/**
 * Multi-head self-attention on 2-D activations `[B·T, d]`, with biases on Q, K, V and O. The three
 * input projections run as one `[d, 3d]` product (the weights stay separate parameters and are
 * concatenated per call: one wide matMul instead of three, and in the backward pass one weight
 * gradient `xᵀ·g` with one transpose of `x` instead of three); heads are formed by one reshape +
 * transpose to `[B, 3H, T, d/H]` and a split, and attended with batched matMuls (no per-head splits).
 * `causal` adds the mask that hides later positions.
 */
import * as tf from "@tensorflow/tfjs-core"
import { causalMask, dense } from "./Layers.ts"

/** The weights of one attention sublayer. */
export interface AttentionWeights {
  readonly wq: tf.Tensor
  readonly wk: tf.Tensor
  readonly wv: tf.Tensor
  readonly wo: tf.Tensor
  readonly bq: tf.Tensor
  readonly bk: tf.Tensor
  readonly bv: tf.Tensor
  readonly bo: tf.Tensor
}

/** Sizes the attention needs to fold tokens back into sequences. */
export interface AttentionShape {
  readonly batchSize: number
  readonly seqLen: number
  readonly heads: number
  readonly causal: boolean
}

/** Self-attention of `h` `[B·T, d]`; returns `[B·T, d]` (after the output projection). */
export const selfAttention = (h: tf.Tensor2D, w: AttentionWeights, s: AttentionShape): tf.Tensor2D => {
  const [n, d] = h.shape
  const { batchSize: b, seqLen: t, heads } = s
  const dh = d / heads
  const qkv = dense(h, tf.concat([w.wq, w.wk, w.wv], 1), tf.concat([w.bq, w.bk, w.bv], 0))
  // [B, T, 3H, dh] -> [B, 3H, T, dh] (a rank-4 transpose: the rank-5 form is ~500x slower on wasm)
  const perHead = tf.transpose(tf.reshape(qkv, [b, t, 3 * heads, dh]), [0, 2, 1, 3])
  const [q, k, v] = tf.split(perHead, 3, 1).map((x, i) => {
    const x3 = tf.reshape<tf.Rank.R3>(x, [b * heads, t, dh])
    return i === 0 ? tf.mul(x3, 1 / Math.sqrt(dh)) : x3
  }) as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D]
  let scores: tf.Tensor3D = tf.matMul(q, k, false, true)
  if (s.causal) scores = tf.add(scores, causalMask(t))
  const context = tf.matMul(tf.softmax(scores), v)
  const merged = tf.reshape<tf.Rank.R2>(tf.transpose(tf.reshape(context, [b, heads, t, dh]), [0, 2, 1, 3]), [n, d])
  return dense(merged, w.wo, w.bo)
}
