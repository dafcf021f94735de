/**
 * `select/firing-rate`: score = the fraction of probe tokens on which the neuron's activation is
 * positive; chosen when it is below `threshold`. Threshold count: every eligible neuron below the
 * threshold, at most k (the lowest rates first) unless `cap` is false.
 */
import type { Criterion } from "@rekindle/core"
import { activationsOf } from "./Activations.ts"
import { chooseBelow } from "./Threshold.ts"

/** Options of `firing-rate`. */
export interface FiringRateOptions {
  /** A neuron firing on fewer than this fraction of tokens is chosen, in [0, 1]. */
  readonly threshold: number
  /** At most the requested k (true) or every neuron below the threshold (false). */
  readonly cap: boolean
}

/** The low-firing-rate criterion. */
export const firingRate = (options: FiringRateOptions): Criterion<void> => ({
  needs: { activations: true },
  count: "threshold",
  init: () => undefined,
  observe: (state) => state,
  select: (_state, signals, request) => {
    // rates are float32: compare against the float32 threshold, so a rate equal to it is not below it
    const threshold = Math.fround(options.threshold)
    return chooseBelow(
      signals.layers.map((l) => activationsOf(l, "select/firing-rate").firingRate),
      request,
      (r) => r < threshold,
      options.cap
    )
  }
})
