/**
 * `trace` (alias `scaleByMomentum`): SGD momentum as in Optax and PyTorch (no dampening):
 * `t <- g + decay * t`; the update is `t`, or `g + decay * t` with Nesterov. One slot,
 * `momentum.trace` (role `moment`, reset 0).
 */
import { Params } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { slot, type Transform } from "./Transform.ts"

/** Momentum options: `decay` in [0, 1), Nesterov look-ahead off by default. */
export interface TraceOptions {
  readonly decay: number
  readonly nesterov?: boolean
}

/** Slot name of `trace`. */
export const traceSlot = "momentum.trace"

/** Heavy-ball (or Nesterov) momentum. The update may be the new trace tensor itself (no copy). */
export const trace = (options: TraceOptions): Transform => {
  const { decay } = options
  const nesterov = options.nesterov ?? false
  return {
    name: `trace(decay=${decay}${nesterov ? ", nesterov" : ""})`,
    slots: { [traceSlot]: { role: "moment", reset: 0 } },
    init: (params) => ({ [traceSlot]: Params.map(params, (p) => tf.zerosLike(p)) }),
    update: (updates, slots) => {
      const out: Record<string, tf.Tensor> = {}
      const next: Record<string, tf.Tensor> = {}
      for (const name of Object.keys(updates)) {
        const g = updates[name]!
        const t = tf.add(g, tf.mul(slot(slots, traceSlot, name), decay))
        next[name] = t
        out[name] = nesterov ? tf.add(g, tf.mul(t, decay)) : t
      }
      return [out, { [traceSlot]: next }]
    }
  }
}

/**
 * Same as `trace` (Optax's other name for it).
 * @alias
 */
export const scaleByMomentum = trace
