/**
 * Multi-head self-attention on 2-D activations `[B·T, d]`, with biases on Q, K, V and O. Heads
 * are formed by one reshape + transpose to `[B·H, T, d/H]` and attended with batched matMuls (no
 * per-head splits); where the backend registers `RekindleHeadMatMul` (wasm), the batched products
 * read and write the heads in place in the `[B, T, d]` layout instead (no transposes on the
 * native-BLAS path; the same bits on every path). The scores' scale 1/sqrt(d/H) and, with `causal`, the mask that hides later
 * positions are applied inside the softmax (`Layers.attentionSoftmax`: one fused kernel on wasm).
 * Where the engine's fused Q/K/V path is available (a native BLAS; `QkvAttention` there), q, k and v
 * come from one product h·[Wq|Wk|Wv] into `[B·T, 3d]` that the head products read in place (the
 * parameters stay separate: the engine gathers the weights per call).
 */
import { QkvAttention } from "@rekindle/engine"
import * as tf from "@tensorflow/tfjs-core"
import { attentionSoftmax, dense, hasKernel } from "./Layers.ts"

/** The per-head product kernel `@rekindle/engine` registers on wasm (see HeadMatMulKernel.ts there). */
export const headMatMulKernel = "RekindleHeadMatMul"

/** `op(a)·op(b)` per head; `*Heads`: that operand (or the output) is `[B, T, H·D]`, else `[B·H, R, C]`. */
const headMatMul = (
  a: tf.Tensor3D,
  b: tf.Tensor3D,
  attrs: { heads: number; transposeB: boolean; aHeads: boolean; bHeads: boolean; outHeads: boolean }
): tf.Tensor3D =>
  tf.engine().runKernel(headMatMulKernel, { a, b } as unknown as tf.NamedTensorMap, { ...attrs, transposeA: false }) as tf.Tensor3D

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
  if (h.dtype === "float32" && QkvAttention.available()) {
    const qkv = QkvAttention.project(h, [w.wq, w.wk, w.wv], [w.bq, w.bk, w.bv])
    const context = QkvAttention.attend(tf.reshape(qkv, [b, t, 3 * d]), heads, 1 / Math.sqrt(dh), s.causal)
    return dense(tf.reshape<tf.Rank.R2>(context, [n, d]), w.wo, w.bo)
  }
  if (h.dtype === "float32" && hasKernel(headMatMulKernel)) {
    const layout = (x: tf.Tensor2D): tf.Tensor3D => tf.reshape(x, [b, t, d])
    const q = layout(dense(h, w.wq, w.bq))
    const k = layout(dense(h, w.wk, w.bk))
    const v = layout(dense(h, w.wv, w.bv))
    const scores = headMatMul(q, k, { heads, transposeB: true, aHeads: true, bHeads: true, outHeads: false })
    const weights = attentionSoftmax(scores, 1 / Math.sqrt(dh), s.causal)
    const context = headMatMul(weights, v, { heads, transposeB: false, aHeads: false, bHeads: true, outHeads: true })
    return dense(tf.reshape<tf.Rank.R2>(context, [n, d]), w.wo, w.bo)
  }
  const split = (x: tf.Tensor2D): tf.Tensor3D =>
    tf.reshape(tf.transpose(tf.reshape(x, [b, t, heads, dh]), [0, 2, 1, 3]), [b * heads, t, dh])
  const q = split(dense(h, w.wq, w.bq))
  const k = split(dense(h, w.wk, w.bk))
  const v = split(dense(h, w.wv, w.bv))
  const scores: tf.Tensor3D = tf.matMul(q, k, false, true)
  const context = tf.matMul(attentionSoftmax(scores, 1 / Math.sqrt(dh), s.causal), v)
  const merged = tf.reshape<tf.Rank.R2>(tf.transpose(tf.reshape(context, [b, heads, t, dh]), [0, 2, 1, 3]), [n, d])
  return dense(merged, w.wo, w.bo)
}
