/**
 * `reinit/initial`: the chosen neurons' slices get a fresh draw from the model's own init
 * distribution (`ctx.initial(param, Key.fold(key, layer))`, the slices cut from the full draw).
 * `reinit/zero-outgoing`: the same for incoming weights and biases, with the outgoing row zeroed:
 * right after the reset the new neurons contribute nothing (the network computes what it would
 * with the chosen neurons pruned), and their outgoing weights grow from 0 by gradient.
 */
import type { Reinitializer, ReinitContext } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { rewrite, type Target, type Values } from "./Slices.ts"

/** A fresh init draw of the target's parameter (full shape; only the chosen slices are used). */
export const fresh = (ctx: ReinitContext, t: Target): Values => ({ full: ctx.initial(t.slice.param, t.key) })

/** `reinit/initial`. */
export const initial = (): Reinitializer => ({
  slicesOnly: true,
  apply: (ctx) => rewrite(ctx, (t) => fresh(ctx, t))
})

/** `reinit/zero-outgoing`. */
export const zeroOutgoing = (): Reinitializer => ({
  slicesOnly: true,
  apply: (ctx) => rewrite(ctx, (t, current) => (t.slice.role === "out" ? { full: tf.zerosLike(current) } : fresh(ctx, t)))
})
