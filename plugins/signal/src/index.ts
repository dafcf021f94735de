/**
 * @rekindle/plugin-signal: per-neuron signals criteria, probes and hooks can ask for — weight
 * norms and magnitude, activation statistics, first-order Taylor importance, gradient norm, SNIP
 * saliency, the optimizer's second moment — as plain functions and as the plugin value `signal`.
 */
import { Plugin } from "@rekindle/core"
import {
  activationVariancePart,
  firingRatePart,
  gradNormPart,
  inNormPart,
  magnitudePart,
  meanAbsPart,
  outL1Part,
  outNormPart,
  secondMomentPart,
  snipPart,
  taylorPart
} from "./Parts.ts"

export { activationVariance, firingRate, meanAbs, type Source } from "./Activations.ts"
export { gradNorm, snip, taylor } from "./Gradients.ts"
export { secondMoment } from "./Optimizer.ts"
export * as Options from "./Options.ts"
export * as Reduce from "./Reduce.ts"
export { inNorm, inNormOf, magnitude, outL1, outNorm, outNormOf } from "./Weights.ts"

/** The signal plugin: `signal/<id>` for every built-in signal. */
export const signal = Plugin.make({
  meta: { name: "@rekindle/plugin-signal", version: "0.1.0", namespace: "signal", core: "^0.1.0" },
  signals: {
    "in-norm": inNormPart,
    "out-norm": outNormPart,
    magnitude: magnitudePart,
    "out-l1": outL1Part,
    "mean-abs": meanAbsPart,
    "firing-rate": firingRatePart,
    "activation-variance": activationVariancePart,
    taylor: taylorPart,
    "grad-norm": gradNormPart,
    snip: snipPart,
    "second-moment": secondMomentPart
  }
})
