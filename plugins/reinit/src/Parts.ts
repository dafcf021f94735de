/** The plugin parts of `reinit`: each decodes its options and builds its reinitializer. */
import { Plugin } from "@rekindle/core"
import { Effect } from "effect"
import { copy } from "./Copy.ts"
import { currentDistribution } from "./CurrentDistribution.ts"
import { initial, zeroOutgoing } from "./Initial.ts"
import { CopyOptions, NoOptions, SmoothOptions } from "./Options.ts"
import { smooth } from "./Smooth.ts"
import { zero } from "./Zero.ts"

/** `reinit/initial`. */
export const initialPart = Plugin.part<"reinitializers">()({
  description: "Fresh draw from the model's init distribution for every slice of the chosen neurons",
  options: NoOptions,
  make: () => Effect.sync(initial)
})

/** `reinit/current-distribution`. */
export const currentDistributionPart = Plugin.part<"reinitializers">()({
  description: "Normal(mean, std) of each parameter's current values (per matrix) for the chosen slices",
  options: NoOptions,
  make: () => Effect.sync(currentDistribution)
})

/** `reinit/zero`. */
export const zeroPart = Plugin.part<"reinitializers">()({
  description: "Every slice of the chosen neurons set to 0 (the neurons stay silent: pruning as a control)",
  options: NoOptions,
  make: () => Effect.sync(zero)
})

/** `reinit/zero-outgoing`. */
export const zeroOutgoingPart = Plugin.part<"reinitializers">()({
  description: "Fresh incoming weights and bias, outgoing weights 0 (new neurons contribute nothing until trained)",
  options: NoOptions,
  make: () => Effect.sync(zeroOutgoing)
})

/** `reinit/copy`. */
export const copyPart = Plugin.part<"reinitializers">()({
  description: "Copy of a random surviving neuron of the same layer plus noise × the parameter's std",
  options: CopyOptions,
  make: (options) => Effect.sync(() => copy(options))
})

/** `reinit/smooth`. */
export const smoothPart = Plugin.part<"reinitializers">()({
  description: "Fresh init weights blended in: output (1−α)·old + α·new, α rising 0→1 over `steps` steps",
  options: SmoothOptions,
  make: (options) => Effect.sync(() => smooth(options))
})
