/**
 * Pipelines as values: `definePipeline` (typed by the plugins in scope), composition helpers
 * (`withStage`, `withOptimizer`, `override`) and `defineConfig` for `rekindle.config.ts`.
 */
import type { InScope } from "@rekindle/core"
import * as Paths from "./Paths.ts"
import type { AnyPlugin } from "./Registry.ts"
import type { AnyPipeline, PipelineInput, RefOf, StageInput } from "./Types.ts"

/**
 * The built-in plugins' types, as registered in core's `InScope` by `@rekindle/builtins` (import
 * the builtins package once in a program, for their ids and options to complete).
 */
export type Builtins = InScope extends { readonly builtins: infer P extends ReadonlyArray<AnyPlugin> } ? P : readonly []

/** `definePipeline` for a given set of plugins in scope. */
export interface Define<Ps extends ReadonlyArray<AnyPlugin>> {
  /**
   * Checks a pipeline against the plugins in scope, plus the ones it lists in `plugins` (their
   * types are inferred from that list), and returns it.
   */
  <const More extends ReadonlyArray<AnyPlugin> = readonly []>(
    pipeline: PipelineInput<readonly [...Ps, ...More]> & { readonly plugins?: More }
  ): PipelineInput<readonly [...Ps, ...More]>
  /**
   * Brings more plugins into scope: their parts are completed and checked, and the pipeline
   * value carries them (`plugins`) so the runner registers them.
   */
  readonly with: <const More extends ReadonlyArray<AnyPlugin>>(plugins: More) => Define<readonly [...Ps, ...More]>
}

const makeDefine = <Ps extends ReadonlyArray<AnyPlugin>>(extra: ReadonlyArray<AnyPlugin>): Define<Ps> => {
  const define = (pipeline: PipelineInput<Ps>): PipelineInput<Ps> =>
    extra.length === 0 ? pipeline : { ...pipeline, plugins: [...extra, ...(pipeline.plugins ?? [])] }
  return Object.assign(define as Define<Ps>, {
    with: <const More extends ReadonlyArray<AnyPlugin>>(plugins: More) =>
      makeDefine<readonly [...Ps, ...More]>([...extra, ...plugins])
  })
}

/**
 * Declares a pipeline. Part refs (`use` and their options) are checked against the built-in
 * plugins and those listed in the pipeline's `plugins`; `definePipeline.with([myPlugin])({...})`
 * brings plugins into scope for several pipelines at once.
 */
export const definePipeline: Define<Builtins> = makeDefine<Builtins>([])

/** The stage type of a pipeline type. */
export type StageOf<P extends AnyPipeline> = NonNullable<P["recycling"]>[number]

/** Appends a recycling stage. */
export const withStage = <P extends AnyPipeline>(pipeline: P, stage: StageOf<P>): P =>
  ({ ...pipeline, recycling: [...(pipeline.recycling ?? []), stage] })

/** Replaces the optimizer. */
export const withOptimizer = <P extends AnyPipeline>(pipeline: P, optimizer: NonNullable<P["optimizer"]>): P =>
  ({ ...pipeline, optimizer })

/**
 * Sets one field deep inside a pipeline (`override(p, "recycling.0.select.fraction", 0.05)`).
 * The path and the value's type are checked against the pipeline's type.
 */
export const override = <P extends AnyPipeline, const K extends Paths.Path<P>>(
  pipeline: P,
  path: K,
  value: Paths.PathValue<P, K>
): P => Paths.set(pipeline, path, value)

/** Contents of `rekindle.config.ts` (in the working directory): extra plugins for every run. */
export interface Config {
  readonly plugins?: ReadonlyArray<AnyPlugin>
}

/** Declares `rekindle.config.ts`. */
export const defineConfig = (config: Config): Config => config

/** Shorthand: a stage for the built-in plugins. */
export type Stage = StageInput<Builtins>
/** Shorthand: an optimizer ref for the built-in plugins. */
export type OptimizerRef = RefOf<Builtins, "optimizers">
