/**
 * @rekindle/training: the step loop (TrainLoop: one update in a tidy; Trainer: hooks, events,
 * evaluation, checkpoints), the probe hook, and the runner that composes a run from a RunPlan
 * (Runner, Session). Step hooks are plugin parts (see @rekindle/plugin-hooks).
 */
export * as ProbeHook from "./probes/Hook.ts"
export type { BackendRequest, RunPlan } from "./RunPlan.ts"
export { RunEvents } from "./RunEvents.ts"
export * as Runner from "./Runner.ts"
export * as Session from "./Session.ts"
export { RunSession } from "./Session.ts"
export { StepHooks } from "./StepHooks.ts"
export { TrainConfig, Trainer, TrainLoop } from "@rekindle/loop"
export { Workload } from "./Workload.ts"
