/**
 * Neuron recycling: the pure engines (schedule, selection, reinitialization, immunity, lineage,
 * invariants, smooth-reinit blends, signal measurement) and the `Recycler` that ties them
 * together for the trainer. See README.md in this folder for the call protocol.
 */
export { Blends, type LayerBlendJson } from "./Blends.ts"
export * as Immunity from "./Immunity.ts"
export * as Invariants from "./Invariants.ts"
export * as Lineage from "./Lineage.ts"
export * as MagnitudesAfter from "./MagnitudesAfter.ts"
export * as Recycler from "./Recycler.ts"
export type { RecyclerOptions, RecyclerSnapshot, RunInput, RunResult } from "./Recycler.ts"
export * as Apply from "./Apply.ts"
export * as RecyclingSchedule from "./RecyclingSchedule.ts"
export * as Selector from "./Selector.ts"
export { hook, state } from "./Service.ts"
export * as Stage from "./Stage.ts"
export { firingSteps, neverFires, type OptimizerStatePolicy, type StageSchedule } from "./Stage.ts"
export * as SignalConsumers from "./signals/Consumers.ts"
export * as SignalHook from "./signals/Hook.ts"
export * as SignalHost from "./signals/Host.ts"
