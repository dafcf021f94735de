/**
 * The plugin parts: each decodes its options with the schemas in `Options.ts` and builds the
 * optimizer for the run (decaying schedules default their length to `context.totalSteps`).
 */
import { Plugin } from "@rekindle/core"
import { Effect } from "effect"
import { AdamOptions, AdamWOptions, SgdOptions } from "./Options.ts"
import { adam, adamw, sgd } from "./Optimizers.ts"

/** `optim/sgd`. */
export const sgdPart = Plugin.part<"optimizers">()({
  description: "SGD with optional (Nesterov) momentum; slot momentum.trace (moment) when momentum > 0",
  options: SgdOptions,
  make: (options, context) => Effect.sync(() => sgd({ ...options, totalSteps: context.totalSteps }))
})

/** `optim/adam`. */
export const adamPart = Plugin.part<"optimizers">()({
  description: "Adam with per-element bias correction; slots adam.mu, adam.nu (moment), adam.bc1, adam.bc2 (step)",
  options: AdamOptions,
  make: (options, context) => Effect.sync(() => adam({ ...options, totalSteps: context.totalSteps }))
})

/** `optim/adamw`. */
export const adamwPart = Plugin.part<"optimizers">()({
  description: "AdamW: Adam plus decoupled weight decay (matrices only by default); same slots as optim/adam",
  options: AdamWOptions,
  make: (options, context) => Effect.sync(() => adamw({ ...options, totalSteps: context.totalSteps }))
})
