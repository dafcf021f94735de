/**
 * `select/taylor` (Molchanov et al. 2017, first-order Taylor importance): the k neurons with the
 * smallest |mean over tokens of h_i · ∂L/∂h_i|, the estimated loss change when neuron i is removed.
 * It reads the signal `signal/taylor`, measured inside training steps from the step's own backward
 * pass (every `every` steps) and averaged over the window: the steps since the stage last fired
 * (`mean`), an EMA, or the last observation. Rank count: exactly k per layer or in total.
 */
import { type Criterion, Selection, type Signal } from "@rekindle/core"
import { valuesOf } from "./Values.ts"

/** Options of `select/taylor` and `select/snip`. */
export interface GradientCriterionOptions {
  /** Observe the signal in every step s with s % every == 0. */
  readonly every: number
  /** How observations are folded: mean since the last firing, EMA, or the last one. */
  readonly window: "mean" | "ema" | "last"
  /** EMA decay (window `ema` only). */
  readonly decay: number
}

/** The window of a gradient criterion's signal request. */
export const windowOf = (o: GradientCriterionOptions): Signal.Window =>
  o.window === "ema" ? { kind: "ema", decay: o.decay } : { kind: o.window }

/** `select/taylor`. */
export const taylor = (options: GradientCriterionOptions): Criterion<void> => ({
  needs: { activations: false },
  signals: { taylor: { use: "signal/taylor", window: windowOf(options), every: options.every } },
  count: "rank",
  init: () => undefined,
  observe: (state) => state,
  select: (_state, signals, request) =>
    Selection.byRank(signals.layers.map((l) => valuesOf(l, "taylor", "select/taylor")), request, "lowest")
})
