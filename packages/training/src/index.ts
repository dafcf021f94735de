/**
 * @rekindle/training: the trainer, the experiment that runs a plan end to end, run folders and
 * events, and (in `recycling/`) the recycling services.
 */
export { Events } from "./Events.ts"
export * as Experiment from "./Experiment.ts"
export * as Experiments from "./experiments/index.ts"
export * as Recycling from "./recycling/index.ts"
export * as RunFolder from "./RunFolder.ts"
export type { BackendRequest, RunPlan } from "./RunPlan.ts"
export * as Stage from "./Stage.ts"
export * as TrainConfig from "./TrainConfig.ts"
export * as Trainer from "./Trainer.ts"
export * as TrainLoop from "./TrainLoop.ts"
