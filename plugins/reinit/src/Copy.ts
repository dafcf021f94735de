/**
 * `reinit/copy`: each chosen neuron becomes a copy of a surviving (not chosen) neuron of the same
 * layer, drawn uniformly with replacement, plus Gaussian noise of `noise` × the parameter's
 * current std on every slice (W_in column, W_out row, bias entry). When every neuron of a layer is
 * chosen there is nothing to copy and the layer falls back to a fresh init draw (`reinit/initial`).
 * Sources come from `Key.split(Key.fold(key, layer), "source")`, noise from `Key.split(…, param)`.
 */
import { Key, type Reinitializer, Slices } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { normal, sliceShape } from "./Draws.ts"
import { fresh } from "./Initial.ts"
import { paramOf, rewrite } from "./Slices.ts"

/** Options of `copy`. */
export interface CopyOptions {
  /** Noise std as a fraction of the parameter's current std (≥ 0). */
  readonly noise: number
}

/** For each chosen neuron of a layer, the surviving neuron it copies (empty when none survive). */
export const sources = (dFF: number, chosen: ReadonlyArray<number>, key: Key.Key): Array<number> => {
  const taken = new Set(chosen)
  const survivors = Array.from({ length: dFF }, (_, i) => i).filter((i) => !taken.has(i))
  if (survivors.length === 0) return []
  const u = Key.uniform(Key.split(key, "source"))
  return chosen.map(() => survivors[Math.floor(u() * survivors.length)]!)
}

/** `reinit/copy`. */
export const copy = (options: CopyOptions): Reinitializer => ({
  slicesOnly: true,
  apply: (ctx) =>
    rewrite(ctx, (t) => {
      const from = sources(t.layer.dFF, t.indices, t.key)
      if (from.length === 0) return fresh(ctx, t)
      return {
        slices: tf.tidy(() => {
          const whole = paramOf(ctx, t.slice.param)
          const copied = Slices.gatherAlong(whole, t.slice.axis, from)
          if (options.noise === 0) return copied
          const std = tf.sqrt(tf.moments(whole).variance)
          const z = normal(sliceShape(whole, t.slice.axis, t.indices.length), Key.split(t.key, t.slice.param))
          return tf.add(copied, tf.mul(z, tf.mul(std, options.noise)))
        })
      }
    })
})
