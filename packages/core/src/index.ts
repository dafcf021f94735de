/**
 * @rekindle/core: the contracts every other package and every plugin is written against.
 * Data and types only; no training logic lives here.
 */
export type * from "./Backend.ts"
export * as Batch from "./Batch.ts"
export * as Errors from "./Errors.ts"
export { formatUserError, PluginError, RunError, UserError } from "./Errors.ts"
export * as Event from "./Event.ts"
export * as Key from "./Key.ts"
export * as Optimizer from "./Optimizer.ts"
export * as Params from "./Params.ts"
export * as Plugin from "./Plugin.ts"
export * as Selection from "./Selection.ts"
export * as Slices from "./Slices.ts"
export * as Topology from "./Topology.ts"
export type * from "./Criterion.ts"
export type * from "./Probe.ts"
export type * from "./Reinitializer.ts"
export type * from "./Signals.ts"
export type * as Signal from "./Signal.ts"
export type * from "./Sink.ts"
export { RunDir } from "./RunDir.ts"
export * as Schemas from "./Schemas.ts"
