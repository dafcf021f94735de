/**
 * Attention on one fused `[B, T, 3·H·D]` projection `[q | k | v]` (one sgemm h·[Wq|Wk|Wv] instead of
 * three; the model builds it where {@link available}): the head products read q, k and v in place
 * (`RekindleHeadMatMul` with parts) and the backward writes dq, dk, dv into one `[B, T, 3·H·D]`
 * buffer (`RekindleQkvGrad`), whose one product with `[Wq|Wk|Wv]ᵀ` is the input's gradient.
 * The same kernels and forms as attention on separate q, k, v (the same bits for everything up to
 * dq, dk, dv). Native BLAS only: the pure-wasm path keeps separate projections and its bits.
 */
import * as tf from "@tensorflow/tfjs-core"
import * as HeadMatMulKernel from "./HeadMatMulKernel.ts"
import * as NativeBlas from "./NativeBlas.ts"
import * as QkvGradKernel from "./QkvGradKernel.ts"
import * as SoftmaxKernel from "./SoftmaxKernel.ts"

const has = (name: string): boolean => tf.getKernel(name, tf.getBackend()) !== undefined

/**
 * Whether {@link attend} runs now: a native BLAS is active and the current backend registers the
 * kernels (the wasm overrides with `fusedQkv`, `headProducts` and the SIMD softmax).
 */
export const available = (): boolean =>
  NativeBlas.active() !== undefined && has(QkvGradKernel.kernelName) && has(HeadMatMulKernel.kernelName) &&
  has(SoftmaxKernel.forwardName) && has(SoftmaxKernel.gradName)

const kernel = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): tf.Tensor =>
  tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor

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
