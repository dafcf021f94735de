/**
 * `reinit/initial`: the chosen neurons' slices get a fresh draw from the model's own init
 * distribution (`ctx.initial(param, Key.fold(key, layer))`, the slices cut from the full draw).
 * `reinit/zero-outgoing`: the same for incoming weights and biases, with the outgoing row zeroed:
 * right after the reset the new neurons contribute nothing (the network computes what it would
 * with the chosen neurons pruned), and their outgoing weights grow from 0 by gradient.
 */
import { type Reinitializer, Slices } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { rewrite, type Target } from "./Slices.ts"

/** The chosen slices of a fresh init draw of the target's parameter. */
export const freshSlices = (ctx: Parameters<Reinitializer["apply"]>[0], t: Target): tf.Tensor =>
  tf.tidy(() => Slices.gatherAlong(ctx.initial(t.slice.param, t.key), t.slice.axis, t.indices))

/** `reinit/initial`. */
export const initial = (): Reinitializer => ({
  slicesOnly: true,
  apply: (ctx) => rewrite(ctx, (t) => freshSlices(ctx, t))
})

/** `reinit/zero-outgoing`. */
export const zeroOutgoing = (): Reinitializer => ({
  slicesOnly: true,
  apply: (ctx) =>
    rewrite(ctx, (t, current) =>
      t.slice.role === "out" ? tf.zeros(current.shape.map((d, a) => (a === t.slice.axis ? t.indices.length : d))) : freshSlices(ctx, t)
    )
})
