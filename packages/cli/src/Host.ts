/**
 * What every command needs before it can act: the plugin registry (built-ins, then
 * `rekindle.config.ts` in the working directory, then the pipeline file's own plugins) and the
 * pipeline or study from a file with `--set` overrides applied.
 */
import { UserError } from "@rekindle/core"
import { builtins } from "@rekindle/builtins"
import { Load, Registry, Studies, type Study, type Variant } from "@rekindle/pipeline"
import { Effect, type FileSystem, type Path } from "effect"
import * as Overrides from "./Overrides.ts"

/** Builds the registry from the built-ins, the working directory's config and extra plugins. */
export const registry = (extra: ReadonlyArray<Registry.AnyPlugin> = []) =>
  Effect.gen(function*() {
    const config = yield* Load.loadConfig(process.cwd())
    return yield* Registry.make([...builtins, ...(config.plugins ?? []), ...extra])
  })

/** A loaded file with overrides applied. */
export type Prepared =
  | { readonly _tag: "Pipeline"; readonly file: string; readonly registry: Registry.Registry; readonly pipeline: unknown }
  | {
    readonly _tag: "Study"
    readonly file: string
    readonly registry: Registry.Registry
    readonly study: Study
    readonly variants: ReadonlyArray<Variant>
  }

/** Loads a pipeline file, builds the registry and applies `--set` overrides. */
export const prepare = (
  file: string,
  sets: ReadonlyArray<string>
): Effect.Effect<Prepared, UserError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const overrides = yield* Overrides.parse(sets)
    const loaded = yield* Load.loadFile(file)
    const reg = yield* registry(loaded.plugins)
    if (loaded._tag === "Pipeline") {
      return { _tag: "Pipeline", file, registry: reg, pipeline: yield* Overrides.apply(loaded.pipeline, overrides) } as const
    }
    const variants = yield* Studies.variants(loaded.study)
    const applied = yield* Effect.forEach(variants, (v) =>
      Effect.map(Overrides.apply(v.pipeline, overrides), (pipeline) => ({ ...v, pipeline })))
    return { _tag: "Study", file, registry: reg, study: loaded.study, variants: applied } as const
  })

/** The same error, its message prefixed with where it happened. */
export const within = (where: string, e: UserError): UserError =>
  new UserError({ message: `${where}: ${e.message}`, ...(e.problems !== undefined ? { problems: e.problems } : {}) })
