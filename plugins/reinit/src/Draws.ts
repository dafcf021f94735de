/** Random tensors drawn in JS from a key (backend-independent, like the model's init). */
import { Key } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"

/** Standard-normal values of a shape, deterministic for the key. */
export const normal = (shape: ReadonlyArray<number>, key: Key.Key): tf.Tensor => {
  const n = Key.normal(key)
  const size = shape.reduce((a, b) => a * b, 1)
  return tf.tensor(Float32Array.from({ length: size }, () => n()), [...shape], "float32")
}

/** The shape of the chosen slices: the parameter's shape with `shape[axis] = k`. */
export const sliceShape = (t: tf.Tensor, axis: number, k: number): Array<number> => t.shape.map((d, a) => (a === axis ? k : d))
