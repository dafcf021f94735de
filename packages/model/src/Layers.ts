/**
 * The numeric building blocks of the transformer as plain TF.js functions on 2-D activations
 * (`[tokens, features]`): LayerNorm, activations, dense layers and the causal mask. All are
 * differentiable with TF.js's own gradients and allocate no state.
 */
import * as tf from "@tensorflow/tfjs-core"

/** LayerNorm epsilon (PyTorch's default). */
export const layerNormEps = 1e-5

/** LayerNorm written with TF.js ops (the reference; every backend). */
export const layerNormComposed = (x: tf.Tensor2D, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor2D => {
  const { mean, variance } = tf.moments(x, -1, true)
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, layerNormEps))), gain), bias)
}

/** Names of the fused LayerNorm kernels (registered by `@rekindle/engine`'s wasm overrides). */
export const layerNormKernels = { forward: "RekindleLayerNorm", grad: "RekindleLayerNormGrad" } as const

/** Whether the current backend has the fused LayerNorm kernels. */
export const hasFusedLayerNorm = (): boolean =>
  tf.getKernel(layerNormKernels.forward, tf.getBackend()) !== undefined &&
  tf.getKernel(layerNormKernels.grad, tf.getBackend()) !== undefined

/** LayerNorm through the fused kernels: one pass forward, one backward (same math, float64 row statistics). */
export const layerNormFused = (x: tf.Tensor2D, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor2D => {
  const f = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xi, g, b] = args as [tf.Tensor2D, tf.Tensor, tf.Tensor]
    const save = args[3] as tf.GradSaveFunc
    const [y, mean, rstd] = tf.engine().runKernel(
      layerNormKernels.forward,
      { x: xi, gain: g, bias: b } as unknown as tf.NamedTensorMap,
      { eps: layerNormEps }
    ) as unknown as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D]
    save([xi, g, mean, rstd])
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: Array<tf.Tensor>) => {
        const [sx, sg, sm, sr] = saved as [tf.Tensor, tf.Tensor, tf.Tensor, tf.Tensor]
        return tf.engine().runKernel(
          layerNormKernels.grad,
          { dy, x: sx, gain: sg, mean: sm, rstd: sr } as unknown as tf.NamedTensorMap,
          {}
        ) as unknown as Array<tf.Tensor>
      }
    }
  })
  return f(x, gain, bias) as tf.Tensor2D
}

/**
 * LayerNorm over the last axis: (x − mean) / sqrt(var + eps) · gain + bias. Uses the fused kernels
 * where the backend has them (wasm), the TF.js composition elsewhere.
 */
export const layerNorm = (x: tf.Tensor2D, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor2D =>
  x.dtype === "float32" && x.rank === 2 && hasFusedLayerNorm() ? layerNormFused(x, gain, bias) : layerNormComposed(x, gain, bias)

/** sqrt(8/π): GELU's tanh approximation written through sigmoid, 0.5(1 + tanh(z)) = sigmoid(2z). */
const geluScale = 1.5957691216057308

/**
 * GELU (tanh approximation) as x · sigmoid(1.5957691 · (x + 0.044715 x³)): sigmoid runs in a
 * vectorised kernel on wasm where tanh, pow and erf are scalar loops.
 */
export const gelu = <T extends tf.Tensor>(x: T): T => {
  const x3 = tf.mul(tf.mul(x, x), x)
  return tf.mul(x, tf.sigmoid(tf.mul(tf.add(x, tf.mul(x3, 0.044715)), geluScale)))
}

/** ReLU. */
export const relu = <T extends tf.Tensor>(x: T): T => tf.relu(x)

/** SiLU (swish): x · sigmoid(x), the gate activation of SwiGLU. */
export const silu = <T extends tf.Tensor>(x: T): T => tf.mul(x, tf.sigmoid(x))

/** The FF activation named in the config; for GLU variants, the activation of the gate (SiLU or GELU). */
export const activation = (name: "relu" | "gelu" | "swiglu" | "geglu"): (<T extends tf.Tensor>(x: T) => T) =>
  name === "relu" ? relu : name === "swiglu" ? silu : gelu

/** x · W (+ b) on 2-D x. */
export const dense = (x: tf.Tensor2D, w: tf.Tensor, b?: tf.Tensor): tf.Tensor2D => {
  const y = tf.matMul(x, w as tf.Tensor2D) as tf.Tensor2D
  return b === undefined ? y : tf.add<tf.Tensor2D>(y, b)
}

const maskCache = new Map<number, Float32Array>()

/**
 * The additive causal mask `[T, T]`: 0 where key position ≤ query position, −1e9 above the
 * diagonal. The values are cached per T; the tensor is made fresh on every call (cheap).
 */
export const causalMask = (t: number): tf.Tensor2D => {
  let data = maskCache.get(t)
  if (data === undefined) {
    data = new Float32Array(t * t)
    for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) data[i * t + j] = -1e9
    maskCache.set(t, data)
  }
  return tf.tensor2d(data, [t, t])
}
