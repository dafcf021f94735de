/**
 * @rekindle/plugin-select: selection criteria for neuron recycling, as plain functions over
 * `Signals` and as the plugin value `select` (namespace `select`).
 */
import { Plugin } from "@rekindle/core"
import {
  dormantPart,
  firingRatePart,
  magnitudeLargestPart,
  magnitudeSmallestPart,
  randomBernoulliPart,
  randomPart,
  snipPart,
  taylorPart,
  utilityPart
} from "./Parts.ts"

export { dormant, type DormantOptions, normalizedActivation } from "./Dormant.ts"
export { firingRate, type FiringRateOptions } from "./FiringRate.ts"
export { magnitudeLargest, magnitudeSmallest } from "./Magnitude.ts"
export * as Options from "./Options.ts"
export { draws, random, randomBernoulli } from "./Random.ts"
export { snip } from "./Snip.ts"
export { type GradientCriterionOptions, taylor } from "./Taylor.ts"
export { chooseBelow } from "./Threshold.ts"
export { valuesOf } from "./Values.ts"
export { instantaneous, utilities, utility, type UtilityOptions, type UtilityState } from "./Utility.ts"

/** The selection-criterion plugin: `select/<id>` for every built-in criterion. */
export const select = Plugin.make({
  meta: { name: "@rekindle/plugin-select", version: "0.1.0", namespace: "select", core: "^0.1.0" },
  criteria: {
    "magnitude-smallest": magnitudeSmallestPart,
    "magnitude-largest": magnitudeLargestPart,
    random: randomPart,
    "random-bernoulli": randomBernoulliPart,
    dormant: dormantPart,
    "firing-rate": firingRatePart,
    utility: utilityPart,
    taylor: taylorPart,
    snip: snipPart
  }
})
