/**
 * `select/snip` (gradient saliency after SNIP, Lee et al. 2019): the k neurons with the smallest
 * Σ over the neuron's parameter scalars of |θ ⊙ ∂L/∂θ| (W_in column, W_out row, biases, GLU gate),
 * from the signal `signal/snip`: the training step's own gradients, every `every` steps, folded
 * over the window as for `select/taylor`. Rank count: exactly k per layer or in total.
 */
import { type Criterion, Selection } from "@rekindle/core"
import { type GradientCriterionOptions, windowOf } from "./Taylor.ts"
import { valuesOf } from "./Values.ts"

/** `select/snip`. */
export const snip = (options: GradientCriterionOptions): Criterion<void> => ({
  needs: { activations: false },
  signals: { saliency: { use: "signal/snip", window: windowOf(options), every: options.every } },
  count: "rank",
  init: () => undefined,
  observe: (state) => state,
  select: (_state, signals, request) =>
    Selection.byRank(signals.layers.map((l) => valuesOf(l, "saliency", "select/snip")), request, "lowest")
})
