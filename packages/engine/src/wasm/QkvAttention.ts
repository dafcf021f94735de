/**
 * Attention's Q/K/V on one fused `[n, 3d]` projection `[q | k | v]`, for a native BLAS (the model
 * uses it where {@link available}; the parameters stay separate):
 *  - {@link project}: one sgemm x·[Wq|Wk|Wv] with the biases folded in (`RekindleQkvProject`); its
 *    gradient one sgemm with K = 3d for the input and one for the three weights (`RekindleQkvProjectGrad`);
 *  - {@link attend}: the head products read q, k and v in place (`RekindleHeadMatMul` with parts)
 *    and the backward writes dq, dk, dv into one `[B, T, 3·H·D]` buffer (`RekindleQkvGrad`), with
 *    the products of the head products' own gradient (the same bits up to dq, dk, dv).
 * The pure-wasm path keeps separate projections and its bits. Not bit for bit with the separate
 * projections on the BLAS either (sgemm's bits depend on the output's width): float32 rounding.
 */
import * as tf from "@tensorflow/tfjs-core"
import * as HeadMatMulKernel from "./HeadMatMulKernel.ts"
import * as NativeBlas from "./NativeBlas.ts"
import * as QkvGradKernel from "./QkvGradKernel.ts"
import * as QkvProjectKernel from "./QkvProjectKernel.ts"
import * as SoftmaxKernel from "./SoftmaxKernel.ts"

const has = (name: string): boolean => tf.getKernel(name, tf.getBackend()) !== undefined

/**
 * Whether {@link attend} runs now: a native BLAS is active and the current backend registers the
 * kernels (the wasm overrides with `fusedQkv`, `headProducts` and the SIMD softmax).
 */
export const available = (): boolean =>
  NativeBlas.active() !== undefined && has(QkvGradKernel.kernelName) && has(HeadMatMulKernel.kernelName) &&
  has(QkvProjectKernel.forwardName) && has(QkvProjectKernel.gradName) &&
  has(SoftmaxKernel.forwardName) && has(SoftmaxKernel.gradName)

const kernel = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): tf.Tensor =>
  tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor

/**
 * `x·[Wq|Wk|Wv] + [bq|bk|bv]`, `[n, 3d]`, for `x` `[n, d]` and the separate `[d, d]` weights and
 * `[d]` biases: one product (`RekindleQkvProject`), differentiable (`RekindleQkvProjectGrad`: the
 * input's gradient one product with K = 3d, the weights' one product split in three).
 */
export const project = (x: tf.Tensor2D, w: readonly [tf.Tensor, tf.Tensor, tf.Tensor], b: readonly [tf.Tensor, tf.Tensor, tf.Tensor]): tf.Tensor2D => {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, wq, wk, wv, bq, bk, bv] = args as Array<tf.Tensor>
    const save = args[7] as tf.GradSaveFunc
    save([xi!, wq!, wk!, wv!])
    return {
      value: kernel(QkvProjectKernel.forwardName, { x: xi!, wq: wq!, wk: wk!, wv: wv!, bq: bq!, bk: bk!, bv: bv! }, {}),
      gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
        const [sx, sq, sk, sv] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]
        return tf.engine().runKernel(QkvProjectKernel.gradName, { dy, x: sx, wq: sq, wk: sk, wv: sv } as unknown as tf.NamedTensorMap, {}) as unknown as Array<tf.Tensor>
      }
    }
  })
  return f(x, ...w, ...b) as tf.Tensor2D
}

/**
 * The context `[B, T, H·D]` of `heads`-head attention on `qkv` `[B, T, 3·H·D]`: softmax(q·kᵀ·scale
 * (+ causal mask))·v per head, differentiable (one gradient, `[B, T, 3·H·D]`).
 */
export const attend = (qkv: tf.Tensor3D, heads: number, scale: number, causal: boolean): tf.Tensor3D => {
  const head = (a: tf.Tensor, b: tf.Tensor, attrs: Record<string, unknown>) =>
    kernel(HeadMatMulKernel.kernelName, { a, b }, { heads, transposeA: false, aHeads: true, bHeads: true, outHeads: false, ...attrs })
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor3D
    const save = args[1] as tf.GradSaveFunc
    const scores = head(x, x, { transposeB: true, aPart: 0, aParts: 3, bPart: 1, bParts: 3 })
    const p = kernel(SoftmaxKernel.forwardName, { x: scores }, { scale, causal })
    scores.dispose()
    const context = head(p, x, { transposeB: false, aHeads: false, bPart: 2, bParts: 3, outHeads: true }) as tf.Tensor3D
    save([x, p])
    return {
      value: context,
      gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
        const [sx, sp] = saved as [tf.Tensor, tf.Tensor]
        const dp = head(dy, sx, { transposeB: true, bPart: 2, bParts: 3 })
        const ds = kernel(SoftmaxKernel.gradName, { y: sp, dy: dp }, { scale })
        dp.dispose()
        const dqkv = kernel(QkvGradKernel.kernelName, { ds, p: sp, dctx: dy, qkv: sx }, { heads })
        ds.dispose()
        return [dqkv]
      }
    }
  })
  return f(qkv) as tf.Tensor3D
}
