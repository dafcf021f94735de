/**
 * @rekindle/training: the step loop (TrainLoop: one update in a tidy; Trainer: hooks, events,
 * evaluation, checkpoints) and the runner that composes a run from a RunPlan (Runner, Session).
 */
export * as Experiments from "./experiments/index.ts"
export * as ProbeHook from "./probes/Hook.ts"
export type { BackendRequest, RunPlan } from "./RunPlan.ts"
export * as Runner from "./Runner.ts"
export * as Session from "./Session.ts"
export * as TrainConfig from "./TrainConfig.ts"
export * as Trainer from "./Trainer.ts"
export * as TrainLoop from "./TrainLoop.ts"
export { MidpointLossConfig } from "./experiments/MidpointLoss.ts"
export { prunedCount, PruningSchedule, targetFraction, updateSteps } from "./experiments/Pruning.ts"
export { countFor, RetrainSettings, runLength, subsetCriteria } from "./experiments/Retrain.ts"
