/**
 * `reinit/current-distribution`: each chosen slice is drawn from Normal(mean, std) of its whole
 * parameter tensor as it is now (per matrix: W_in, W_out and the bias each use their own moments),
 * computed on device. Noise comes from `Key.split(Key.fold(key, layer), param)`.
 */
import type { Reinitializer } from "@rekindle/core"
import { Key } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { normal, sliceShape } from "./Draws.ts"
import { paramOf, rewrite } from "./Slices.ts"

/** `reinit/current-distribution`. */
export const currentDistribution = (): Reinitializer => ({
  slicesOnly: true,
  apply: (ctx) =>
    rewrite(ctx, (t) => ({
      slices: tf.tidy(() => {
        const whole = paramOf(ctx, t.slice.param)
        const { mean, variance } = tf.moments(whole)
        const z = normal(sliceShape(whole, t.slice.axis, t.indices.length), Key.split(t.key, t.slice.param))
        return tf.add(tf.mul(z, tf.sqrt(variance)), mean)
      })
    }))
})
