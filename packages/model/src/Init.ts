/**
 * Initial values, one distribution per parameter, drawn deterministically from a key:
 * - FF weights: U(±sqrt(3 / fan_in)) (variance 1/fan_in: the gain-1 form of Kaiming-uniform, as in
 *   the reference study's code), fan_in = dModel for `ff.win` and `ff.wgate`, dFF for `ff.wout`;
 * - embeddings, attention weights and the head weight: normal(0, 0.02);
 * - every bias (attention, FF, head): 0; LayerNorm gain 1, bias 0.
 * Values are generated in JS from `Key.uniform` / `Key.normal`, so they do not depend on the
 * TF.js version or backend. Each parameter draws from `Key.split(key, name)`: adding a parameter
 * never changes another's values.
 */
import { Key } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"

/** The standard deviation of the normal init of embeddings, attention and head weights. */
export const normalStd = 0.02

/** One parameter's init distribution. */
export type Distribution =
  | { readonly kind: "normal"; readonly std: number }
  | { readonly kind: "uniform"; readonly bound: number }
  | { readonly kind: "constant"; readonly value: number }

/** The init distribution of a parameter, from its name and shape. */
export const distributionOf = (name: string, shape: ReadonlyArray<number>): Distribution => {
  if (name.endsWith(".ff.win") || name.endsWith(".ff.wout") || name.endsWith(".ff.wgate")) {
    const fanIn = shape[0] ?? 1
    return { kind: "uniform", bound: Math.sqrt(3 / fanIn) }
  }
  if (name.endsWith(".gain")) return { kind: "constant", value: 1 }
  if (name.startsWith("embed.") || /\.attn\.w[qkvo]$/.test(name) || name === "head.w") {
    return { kind: "normal", std: normalStd }
  }
  return { kind: "constant", value: 0 }
}

/** Fills a Float32Array of `size` from a distribution, deterministically for the key. */
export const sample = (dist: Distribution, size: number, key: Key.Key): Float32Array => {
  const out = new Float32Array(size)
  switch (dist.kind) {
    case "constant":
      if (dist.value !== 0) out.fill(dist.value)
      return out
    case "uniform": {
      const next = Key.uniformBlocks(key)
      const block = new Float64Array(Math.min(size, 4096))
      const b = dist.bound
      for (let i = 0; i < size; i += block.length) {
        const u = size - i >= block.length ? block : block.subarray(0, size - i)
        next(u)
        for (let j = 0; j < u.length; j++) out[i + j] = (2 * u[j]! - 1) * b
      }
      return out
    }
    case "normal": {
      const n = Key.normal(key)
      for (let i = 0; i < size; i++) out[i] = n() * dist.std
      return out
    }
  }
}

/** A fresh tensor drawn from the parameter's distribution, using `key` as is (no further split). */
export const draw = (name: string, shape: ReadonlyArray<number>, key: Key.Key): tf.Tensor => {
  const size = shape.reduce((a, b) => a * b, 1)
  return tf.tensor(sample(distributionOf(name, shape), size, key), [...shape], "float32")
}
