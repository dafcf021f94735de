/**
 * `reinit/zero`: every slice of the chosen neurons (incoming, outgoing, bias) is set to 0. With a
 * ReLU/GELU FF a zeroed neuron gets no gradient through either weight, so it stays silent: this is
 * pruning expressed as a reinitializer, useful as a control.
 */
import { type Reinitializer, Slices } from "@rekindle/core"
import { targets } from "./Slices.ts"
import type * as tf from "@tensorflow/tfjs-core"

/** `reinit/zero`. */
export const zero = (): Reinitializer => ({
  slicesOnly: true,
  apply: (ctx) => {
    const out: Record<string, tf.Tensor> = {}
    for (const t of targets(ctx)) {
      const current = out[t.slice.param] ?? ctx.params[t.slice.param]!
      out[t.slice.param] = Slices.fillAlong(current, t.slice.axis, t.indices, 0)
    }
    return out
  }
})
