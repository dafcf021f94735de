/**
 * Neuron recycling: the pure engines (schedule, selection, reinitialization, immunity, lineage,
 * invariants, smooth-reinit blends, signal measurement) and the `Recycler` that ties them
 * together for the trainer. See README.md in this folder for the call protocol.
 */
export { Blends, type LayerBlendJson } from "./Blends.ts"
export * as Immunity from "./Immunity.ts"
export * as Invariants from "./Invariants.ts"
export * as Lineage from "./Lineage.ts"
export * as Measure from "./Measure.ts"
export * as Recycler from "./Recycler.ts"
export type { RecyclerOptions, RecyclerSnapshot, RunInput, RunResult } from "./Recycler.ts"
export * as Apply from "./Apply.ts"
export * as RecyclingSchedule from "./RecyclingSchedule.ts"
export * as Selector from "./Selector.ts"
export { hook, Recycling, state } from "./Service.ts"
export * as Snapshot from "./Snapshot.ts"
export * as Stage from "./Stage.ts"
export { firingSteps, type OptimizerStatePolicy, type StageSchedule } from "./Stage.ts"
