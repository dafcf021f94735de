/**
 * Magnitude criteria: score M_i = ‖W_in[:, i]‖₂ · ‖W_out[i, :]‖₂ (read from `Signals`), choose
 * the k smallest (the classic recycling target) or the k largest (a control). Rank count: exactly
 * k per layer (per-layer scope) or in total (global scope), fewer only when fewer are eligible.
 */
import { type Criterion, Selection } from "@rekindle/core"

const byMagnitude = (order: "lowest" | "highest"): Criterion<void> => ({
  needs: { activations: false },
  count: "rank",
  init: () => undefined,
  observe: (state) => state,
  select: (_state, signals, request) => Selection.byRank(signals.layers.map((l) => l.magnitude), request, order)
})

/** `select/magnitude-smallest`: the k neurons with the smallest magnitude. */
export const magnitudeSmallest = (): Criterion<void> => byMagnitude("lowest")

/** `select/magnitude-largest`: the k neurons with the largest magnitude. */
export const magnitudeLargest = (): Criterion<void> => byMagnitude("highest")
