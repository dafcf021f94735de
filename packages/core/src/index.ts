/**
 * @rekindle/core: the contracts every other package and every plugin is written against.
 * Data and types only; no training logic lives here.
 */
export type * from "./Backend.ts"
export * as Batch from "./Batch.ts"
export * as Errors from "./Errors.ts"
export { asUserError, BackendError, Bug, formatUserError, isRunError, isUserError, PluginError, type Problem, RunError, SinkError, UserError } from "./Errors.ts"
export * as Event from "./Event.ts"
export * as Files from "./Files.ts"
export { EventBus } from "./EventBus.ts"
export type * from "./Hook.ts"
export * as FileErrors from "./FileErrors.ts"
export * as Folders from "./Folders.ts"
export * as Key from "./Key.ts"
export * as Optimizer from "./Optimizer.ts"
export * as Params from "./Params.ts"
export * as Plugin from "./Plugin.ts"
// the plugin types by name as well, so declaration emit can name them from the package root
export type { Part as PluginPart, Plugin as PluginValue, PluginMeta } from "./Plugin.ts"
export * as Selection from "./Selection.ts"
export * as Slices from "./Slices.ts"
export * as Snapshot from "./Snapshot.ts"
export * as Slots from "./Slots.ts"
export * as Stats from "./Stats.ts"
export * as Topology from "./Topology.ts"
export type * from "./Criterion.ts"
export type * from "./Probe.ts"
export type * from "./Reinitializer.ts"
export type * from "./Signals.ts"
export type * as Signal from "./Signal.ts"
export * as SignalViews from "./SignalViews.ts"
export * as SignalWindows from "./SignalWindows.ts"
export type * from "./Sink.ts"
export { RunLocation } from "./RunLocation.ts"
export * as Schemas from "./Schemas.ts"

/**
 * Plugins whose types are in scope for `definePipeline` without a pipeline listing them. The
 * package that assembles the built-in registry (`@rekindle/builtins`) fills it by declaration
 * merging (`declare module "@rekindle/core" { interface InScope { readonly builtins: ... } }`), so
 * the pipeline package itself imports no plugin. Empty until some program imports that package.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface InScope {}
