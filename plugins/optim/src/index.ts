/**
 * @rekindle/plugin-optim: Optax-style optimizers (SGD, Adam, AdamW) as chains of pure gradient
 * transformations with named, role-tagged slots (reset by core's `Slots.resetSlices`);
 * learning-rate schedules; global-norm clipping; and the plugin value `optim`.
 */
import { Plugin } from "@rekindle/core"
import { adamPart, adamwPart, sgdPart } from "./Parts.ts"

export { adamSlots, scaleByAdam, type AdamOptions as ScaleByAdamOptions } from "./Adam.ts"
export { clipByGlobalNorm, globalNorm } from "./Clip.ts"
export { scaleByLearningRate } from "./LearningRate.ts"
export { scaleByMomentum, trace, traceSlot, type TraceOptions } from "./Momentum.ts"
export * from "./Optimizers.ts"
export * as Options from "./Options.ts"
export * as Schedules from "./Schedules.ts"
export { defaultSchedule, fromSpec as scheduleFromSpec, ScheduleSpec, type ScheduleInput } from "./ScheduleSpec.ts"
export { chain, toOptimizer, type SlotMaps, type Transform } from "./Transform.ts"
export { addDecayedWeights, type DecayMask, decays } from "./WeightDecay.ts"

/** The optimizer plugin (namespace `optim`): `optim/sgd`, `optim/adam`, `optim/adamw`. */
export const optim = Plugin.make({
  meta: { name: "@rekindle/plugin-optim", version: "0.1.0", namespace: "optim", core: "^0.1.0" },
  optimizers: { sgd: sgdPart, adam: adamPart, adamw: adamwPart }
})
