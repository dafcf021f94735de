/**
 * @rekindle/training: the probe hook and the runner that composes a run from a RunPlan (Runner,
 * Session) around the step loop of @rekindle/loop (TrainLoop: one update in a tidy; Trainer:
 * hooks, events, evaluation, checkpoints), re-exported here. Step hooks are plugin parts (see
 * @rekindle/plugin-hooks).
 */
export * as ProbeHook from "./probes/Hook.ts"
export type { BackendRequest, RunPlan } from "./RunPlan.ts"
export * as Runner from "./Runner.ts"
export * as Session from "./Session.ts"
export { TrainConfig, Trainer, TrainLoop } from "@rekindle/loop"
