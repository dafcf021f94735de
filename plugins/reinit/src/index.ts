/**
 * @rekindle/plugin-reinit: reinitializers for recycled neurons, as plain functions and as the
 * plugin value `reinit` (namespace `reinit`).
 */
import { Plugin } from "@rekindle/core"
import { copyPart, currentDistributionPart, initialPart, smoothPart, zeroOutgoingPart, zeroPart } from "./Parts.ts"

export { copy, type CopyOptions, sources } from "./Copy.ts"
export { currentDistribution } from "./CurrentDistribution.ts"
export { normal, sliceShape } from "./Draws.ts"
export { fresh, initial, zeroOutgoing } from "./Initial.ts"
export * as Options from "./Options.ts"
export { paramOf, rewrite, type Target, targets, type Values } from "./Slices.ts"
export { smooth, type SmoothOptions } from "./Smooth.ts"
export { zero } from "./Zero.ts"

/** The reinitializer plugin: `reinit/<id>` for every built-in reinitializer. */
export const reinit = Plugin.make({
  meta: { name: "@rekindle/plugin-reinit", version: "0.1.0", namespace: "reinit", core: "^0.1.0" },
  reinitializers: {
    initial: initialPart,
    "current-distribution": currentDistributionPart,
    zero: zeroPart,
    "zero-outgoing": zeroOutgoingPart,
    copy: copyPart,
    smooth: smoothPart
  }
})
