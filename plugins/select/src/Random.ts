/**
 * Random criteria, all randomness from the selection key. Each layer draws one uniform per neuron
 * from `Key.fold(key, layer)` (ineligible neurons draw too, so eligibility never shifts the
 * stream); the draw is the neuron's score.
 * - `random`: the k eligible neurons with the smallest draws (rank count: exactly k).
 * - `random-bernoulli`: every eligible neuron whose draw is below p = the stage fraction, so each
 *   is chosen independently with probability p (bernoulli count: Binomial(eligible, p)).
 */
import { type Criterion, Key, Selection, type Signals } from "@rekindle/core"

/** One uniform draw per neuron of every layer. */
export const draws = (signals: Signals, key: Key.Key): Array<Float32Array> =>
  signals.layers.map((l, position) => {
    const u = Key.uniform(Key.fold(key, position))
    const out = new Float32Array(l.dFF)
    for (let i = 0; i < out.length; i++) out[i] = u()
    return out
  })

/** `select/random`: exactly k uniformly random eligible neurons. */
export const random = (): Criterion<void> => ({
  needs: { activations: false },
  count: "rank",
  init: () => undefined,
  observe: (state) => state,
  select: (_state, signals, request, key) => Selection.byRank(draws(signals, key), request, "lowest")
})

/** `select/random-bernoulli`: each eligible neuron independently with probability p = the stage fraction. */
export const randomBernoulli = (): Criterion<void> => ({
  needs: { activations: false },
  count: "bernoulli",
  init: () => undefined,
  observe: (state) => state,
  select: (_state, signals, request, key) => Selection.where(draws(signals, key), request, (u) => u < request.fraction)
})
