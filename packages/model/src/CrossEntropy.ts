/**
 * Softmax cross-entropy over the vocabulary at target positions only. The training loss has a
 * hand-written gradient, (softmax − onehot) / M, computed from the softmax saved in the forward
 * pass: one softmax per step (a vectorised kernel on wasm) instead of logSumExp's scalar exp.
 */
import * as tf from "@tensorflow/tfjs-core"

/** Probabilities below this are clamped before the log (keeps a saturated loss finite). */
export const minProbability = 1e-37

/** p[r, targets[r]] for every row r, read from the flattened `[M, V]` probabilities. */
const pick = (p: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D => {
  const [m, v] = p.shape
  const flat = tf.add(tf.range(0, m * v, v, "int32"), targets)
  return tf.gather(tf.reshape(p, [-1]), flat) as tf.Tensor1D
}

/** −log p of each target, clamped at `minProbability`. */
const negLogPicked = (p: tf.Tensor2D, targets: tf.Tensor1D): tf.Tensor1D =>
  tf.neg(tf.log(tf.maximum(pick(p, targets), minProbability)))

/** The fused kernels (registered by `@rekindle/engine` on wasm, in wasm SIMD). */
export const fusedKernels = { forward: "RekindleSoftmaxCrossEntropy", grad: "RekindleSoftmaxCrossEntropyGrad" } as const

/** Whether the current backend has the fused softmax cross-entropy. */
export const hasFused = (): boolean =>
  tf.getKernel(fusedKernels.forward, tf.getBackend()) !== undefined && tf.getKernel(fusedKernels.grad, tf.getBackend()) !== undefined

/** Per-row −log p[target] and the probabilities, from the fused kernel. */
const fusedRows = (logits: tf.Tensor2D, targets: tf.Tensor1D): [tf.Tensor1D, tf.Tensor2D] =>
  tf.engine().runKernel(
    fusedKernels.forward,
    { logits, targets } as unknown as tf.NamedTensorMap,
    { minProbability }
  ) as unknown as [tf.Tensor1D, tf.Tensor2D]

/** meanLoss through the fused kernels: one pass forward (softmax, pick, log), one backward. */
const meanLossFused = (logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar => {
  const m = logits.shape[0]
  const f = tf.customGrad<tf.Scalar>((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor2D
    const save = args[1] as tf.GradSaveFunc
    const [rows, p] = fusedRows(x, targets)
    save([p])
    return {
      value: tf.mean(rows) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => [
        tf.engine().runKernel(
          fusedKernels.grad,
          { p: saved[0]!, targets, dy } as unknown as tf.NamedTensorMap,
          { divisor: m }
        ) as tf.Tensor
      ]
    }
  })
  return f(logits)
}

/**
 * Mean cross-entropy of `logits` `[M, V]` against `targets` `[M]` (int32), with a custom gradient;
 * through the fused kernels where the backend has them (same math; exp and log there are
 * polynomials, equal to float32 rounding).
 */
export const meanLoss = (logits: tf.Tensor2D, targets: tf.Tensor1D): tf.Scalar => {
  const [m, v] = logits.shape
  if (m === 0) return tf.mul(tf.sum(logits), 0)
  if (logits.dtype === "float32" && hasFused()) return meanLossFused(logits, targets)
  const f = tf.customGrad<tf.Scalar>((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor2D
    const save = args[1] as tf.GradSaveFunc
    const p = tf.softmax(x)
    save([p])
    return {
      value: tf.mean(negLogPicked(p, targets)) as tf.Scalar,
      gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
        // int32 one-hot, then cast: tfjs-backend-wasm 4.22's OneHot ignores a float32 dtype (writes int bits)
        const onehot = tf.cast(tf.oneHot(targets, v), "float32")
        return [tf.mul(tf.sub(saved[0]!, onehot), tf.div(dy, m))]
      }
    }
  })
  return f(logits)
}

/** Summed cross-entropy and the number of argmax hits (no gradient needed). */
export const evalStats = (logits: tf.Tensor2D, targets: tf.Tensor1D): { lossSum: tf.Scalar; correct: tf.Scalar } => {
  if (logits.shape[0] === 0) return { lossSum: tf.scalar(0), correct: tf.scalar(0) }
  const hits = tf.equal(tf.argMax(logits, -1), targets)
  const rows = logits.dtype === "float32" && hasFused() ? fusedRows(logits, targets)[0] : negLogPicked(tf.softmax(logits), targets)
  return { lossSum: tf.sum(rows), correct: tf.sum(tf.cast(hits, "float32")) }
}
