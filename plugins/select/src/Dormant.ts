/**
 * `select/dormant` (ReDo, Sokar et al. 2023): neuron i of a layer is τ-dormant when its normalized
 * activation s_i = E|h_i| / mean_j E|h_j| is ≤ τ, expectations over the probe batch. The score is
 * s_i (0 for every neuron of a layer whose activations are all zero). Threshold count: every
 * eligible dormant neuron, at most k (the lowest scores first) unless `cap` is false.
 */
import type { Criterion } from "@rekindle/core"
import { activationsOf } from "./Activations.ts"
import { chooseBelow } from "./Threshold.ts"

/** Options of `dormant`. */
export interface DormantOptions {
  /** Dormancy threshold τ ≥ 0 on the normalized activation. */
  readonly tau: number
  /** At most the requested k (true) or every dormant neuron (false). */
  readonly cap: boolean
}

/** Per neuron of a layer: E|h_i| / mean_j E|h_j| (all zeros when the layer is silent). */
export const normalizedActivation = (meanAbs: Float32Array): Float32Array => {
  let sum = 0
  for (const x of meanAbs) sum += x
  const mean = sum / Math.max(1, meanAbs.length)
  return meanAbs.map((x) => (mean > 0 ? x / mean : 0))
}

/** The dormant-neuron criterion. */
export const dormant = (options: DormantOptions): Criterion<void> => ({
  needs: { activations: true },
  count: "threshold",
  init: () => undefined,
  observe: (state) => state,
  select: (_state, signals, request) => {
    // scores are float32: compare against the float32 τ, so a score equal to τ counts as dormant
    const tau = Math.fround(options.tau)
    return chooseBelow(
      signals.layers.map((l) => normalizedActivation(activationsOf(l, "select/dormant").meanAbs)),
      request,
      (s) => s <= tau,
      options.cap
    )
  }
})
