/** The plugin parts of `select`: each decodes its options and builds its criterion. */
import { Plugin } from "@rekindle/core"
import { Effect } from "effect"
import { dormant } from "./Dormant.ts"
import { firingRate } from "./FiringRate.ts"
import { magnitudeLargest, magnitudeSmallest } from "./Magnitude.ts"
import { DormantOptions, FiringRateOptions, GradientOptions, NoOptions, UtilityOptions } from "./Options.ts"
import { random, randomBernoulli } from "./Random.ts"
import { snip } from "./Snip.ts"
import { taylor } from "./Taylor.ts"
import { utility } from "./Utility.ts"

/** `select/magnitude-smallest`. */
export const magnitudeSmallestPart = Plugin.part<"criteria">()({
  description: "The k neurons with the smallest ‖W_in[:,i]‖·‖W_out[i,:]‖ (rank: exactly k)",
  options: NoOptions,
  make: () => Effect.sync(magnitudeSmallest)
})

/** `select/magnitude-largest`. */
export const magnitudeLargestPart = Plugin.part<"criteria">()({
  description: "The k neurons with the largest ‖W_in[:,i]‖·‖W_out[i,:]‖ (rank: exactly k; a control)",
  options: NoOptions,
  make: () => Effect.sync(magnitudeLargest)
})

/** `select/random`. */
export const randomPart = Plugin.part<"criteria">()({
  description: "k uniformly random eligible neurons (rank: exactly k)",
  options: NoOptions,
  make: () => Effect.sync(random)
})

/** `select/random-bernoulli`. */
export const randomBernoulliPart = Plugin.part<"criteria">()({
  description: "Each eligible neuron independently with probability p = the stage fraction (bernoulli: Binomial(eligible, p))",
  options: NoOptions,
  make: () => Effect.sync(randomBernoulli)
})

/** `select/dormant`. */
export const dormantPart = Plugin.part<"criteria">()({
  description: "ReDo dormant neurons: E|h_i| / mean_j E|h_j| ≤ τ on the probe batch (threshold; at most k unless cap is false)",
  options: DormantOptions,
  make: (options) => Effect.sync(() => dormant(options))
})

/** `select/firing-rate`. */
export const firingRatePart = Plugin.part<"criteria">()({
  description: "Neurons positive on fewer than `threshold` of probe tokens (threshold; at most k unless cap is false)",
  options: FiringRateOptions,
  make: (options) => Effect.sync(() => firingRate(options))
})

/** `select/utility`. */
export const utilityPart = Plugin.part<"criteria">()({
  description: "Continual-Backprop contribution utility, running average of E|h_i|·Σ_j|W_out[i,j]| (rank: the k lowest)",
  options: UtilityOptions,
  make: (options) => Effect.sync(() => utility(options))
})

/** `select/taylor`. */
export const taylorPart = Plugin.part<"criteria">()({
  description: "First-order Taylor importance |mean_t h_i·∂L/∂h_i| from the training steps' own backward pass, averaged since the last firing (rank: the k lowest)",
  options: GradientOptions,
  make: (options) => Effect.sync(() => taylor(options))
})

/** `select/snip`. */
export const snipPart = Plugin.part<"criteria">()({
  description: "SNIP gradient saliency Σ|θ ⊙ ∂L/∂θ| over each neuron's parameters, from the training steps' own gradients (rank: the k lowest)",
  options: GradientOptions,
  make: (options) => Effect.sync(() => snip(options))
})
