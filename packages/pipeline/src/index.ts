/**
 * @rekindle/pipeline: pipelines as typed data. The pipeline Schema, the plugin registry,
 * `definePipeline` and composition helpers, studies, loading pipeline files, and compiling a
 * pipeline into a RunPlan.
 */
export * as Compile from "./Compile.ts"
export { type Builtins, type Config, defineConfig, definePipeline, type Define, override, withOptimizer, withStage } from "./Define.ts"
export * as JsonSchema from "./JsonSchema.ts"
export * as Load from "./Load.ts"
export * as Paths from "./Paths.ts"
export * as Plan from "./Plan.ts"
export * as Problems from "./Problems.ts"
export * as Registry from "./Registry.ts"
export type { AnyPlugin } from "./Registry.ts"
export * as Resolve from "./Resolve.ts"
export * as Smoke from "./Smoke.ts"
export * as Suggest from "./Suggest.ts"
export * as Spec from "./Spec.ts"
export { type ArmsStudy, type GridStudy, isStudy, study, type Study, type Variant } from "./Study.ts"
export * as Studies from "./Study.ts"
export type { AnyPipeline, AnyRef, BackendName, IdOf, PipelineInput, RefOf, StageInput } from "./Types.ts"
