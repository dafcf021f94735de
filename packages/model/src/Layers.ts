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

/** The activations the fused kernels run (the non-gated FF activations). */
export type ActivationName = "relu" | "gelu"

/** SiLU (swish): x · sigmoid(x), the gate activation of SwiGLU. */
export const silu = <T extends tf.Tensor>(x: T): T => tf.mul(x, tf.sigmoid(x))

/** The FF activation named in the config; for GLU variants, the activation of the gate (SiLU or GELU). */
export const activation = (name: "relu" | "gelu" | "swiglu" | "geglu"): (<T extends tf.Tensor>(x: T) => T) =>
  name === "relu" ? relu : name === "swiglu" ? silu : gelu


/**
 * Names of the fused kernels `@rekindle/engine` registers on wasm (in wasm SIMD), with their
 * gradients registered there too; the model uses each where the current backend has it and the
 * TF.js composition elsewhere.
 */
export const fusedKernels = {
  addLayerNorm: "RekindleAddLayerNorm",
  activation: "RekindleActivation",
  biasActivation: "RekindleBiasActivation",
  softmax: "RekindleSoftmax"
} as const

/** Whether the current backend registers the kernel `name`. */
export const hasKernel = (name: string): boolean => tf.getKernel(name, tf.getBackend()) !== undefined

const runFused = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): Array<tf.Tensor> => {
  const out = tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as unknown
  return Array.isArray(out) ? out as Array<tf.Tensor> : [out as tf.Tensor]
}

/** x · W (+ b) on 2-D x; the bias add is one fused kernel where registered. */
export const dense = (x: tf.Tensor2D, w: tf.Tensor, b?: tf.Tensor): tf.Tensor2D => {
  const y = tf.matMul(x, w as tf.Tensor2D) as tf.Tensor2D
  if (b === undefined) return y
  if (y.dtype === "float32" && hasKernel(fusedKernels.biasActivation)) {
    return runFused(fusedKernels.biasActivation, { x: y, bias: b }, { activation: "linear" })[0] as tf.Tensor2D
  }
  return tf.add<tf.Tensor2D>(y, b)
}

/** act(x · W (+ b)): the bias and the activation in one fused kernel where registered. */
export const denseActivation = (x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor | undefined, act: ActivationName): tf.Tensor2D => {
  const kernel = b === undefined ? fusedKernels.activation : fusedKernels.biasActivation
  if (x.dtype !== "float32" || !hasKernel(kernel)) return activation(act)(b === undefined ? tf.matMul(x, w as tf.Tensor2D) : tf.add<tf.Tensor2D>(tf.matMul(x, w as tf.Tensor2D), b))
  const y = tf.matMul(x, w as tf.Tensor2D) as tf.Tensor2D
  return runFused(kernel, b === undefined ? { x: y } : { x: y, bias: b }, { activation: act })[0] as tf.Tensor2D
}

/**
 * The residual add followed by the next LayerNorm: `[s, layerNorm(s)]` with s = x + r, in one
 * fused kernel where registered.
 */
export const addLayerNorm = (x: tf.Tensor2D, r: tf.Tensor2D, gain: tf.Tensor, bias: tf.Tensor): [tf.Tensor2D, tf.Tensor2D] => {
  if (x.dtype === "float32" && x.rank === 2 && hasKernel(fusedKernels.addLayerNorm)) {
    const [s, y] = runFused(fusedKernels.addLayerNorm, { x, r, gain, bias }, { eps: layerNormEps })
    return [s as tf.Tensor2D, y as tf.Tensor2D]
  }
  const s = tf.add<tf.Tensor2D>(x, r)
  return [s, layerNorm(s, gain, bias)]
}

/**
 * Attention weights `softmax(scores·scale + mask)` over the last axis of `[.., T, T]` scores (the
 * causal mask hides later keys; `keyLengths`, int32 `[B]` with values in [1, T], hides the padding
 * keys of each sequence: sequence b sees keys 0..keyLengths[b]−1, the scores' rows split evenly
 * over the B sequences, as `[B·H, T, T]`): one fused kernel where registered, masked weights
 * exactly 0 there (the composition's −1e9 gives e^−1e9 = 0 as well).
 */
export const attentionSoftmax = <T extends tf.Tensor>(scores: T, scale: number, causal: boolean, keyLengths?: tf.Tensor1D): T => {
  if (scores.dtype === "float32" && hasKernel(fusedKernels.softmax)) {
    return runFused(fusedKernels.softmax, { x: scores, ...(keyLengths === undefined ? {} : { keyLengths }) }, { scale, causal })[0] as T
  }
  const scaled = tf.mul(scores, scale)
  const t = scores.shape[scores.rank - 1]!
  const masked = causal ? tf.add(scaled, causalMask(t)) : scaled
  return tf.softmax(keyLengths === undefined ? masked : tf.add(masked, tf.reshape(paddingMask(keyLengths, scores.size / t, t), scores.shape))) as T
}

/**
 * The additive key padding mask for `rows` score rows of `t` keys split evenly over the sequences
 * of `keyLengths`: `[rows, t]`, 0 for keys before the sequence's length, −1e9 from it on.
 */
const paddingMask = (keyLengths: tf.Tensor1D, rows: number, t: number): tf.Tensor2D =>
  tf.tidy(() => {
    const b = keyLengths.shape[0]
    const visible = tf.less(tf.reshape(tf.range(0, t, 1, "int32"), [1, t]), tf.reshape(keyLengths, [b, 1]))
    const mask = tf.where(visible, tf.zeros([b, t]), tf.fill([b, t], -1e9))
    return tf.reshape(tf.tile(tf.reshape(mask, [b, 1, t]), [1, rows / b, 1]), [rows, t])
  })

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
