/**
 * The numeric building blocks of the transformer as plain TF.js functions on 2-D activations
 * (`[tokens, features]`): LayerNorm, activations, dense layers and the causal mask. All are
 * differentiable with TF.js's own gradients and allocate no state.
 */
import * as tf from "@tensorflow/tfjs-core"

/** LayerNorm epsilon (PyTorch's default). */
export const layerNormEps = 1e-5

/** LayerNorm over the last axis: (x − mean) / sqrt(var + eps) · gain + bias. */
export const layerNorm = (x: tf.Tensor2D, gain: tf.Tensor, bias: tf.Tensor): tf.Tensor2D => {
  const { mean, variance } = tf.moments(x, -1, true)
  return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, layerNormEps))), gain), bias)
}

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

/** The FF activation named in the config. */
export const activation = (name: "relu" | "gelu"): (<T extends tf.Tensor>(x: T) => T) => name === "relu" ? relu : gelu

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
