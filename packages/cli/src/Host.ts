/**
 * What every command needs before it can act: the plugin registry (built-ins, then
 * `rekindle.config.ts` in the working directory, then the pipeline file's own plugins) and the
 * pipeline or study from a file with `--set` overrides applied (on a study, `--set seeds=[1, 2]`
 * sets its seeds; every other override applies to each variant).
 */
import { UserError } from "@rekindle/core/Errors"
import type { Registry, Study, Variant } from "@rekindle/pipeline"
import { Effect, type FileSystem, type Path } from "effect"
import * as Lazy from "./Lazy.ts"
import * as Copies from "./Copies.ts"
import * as Overrides from "./Overrides.ts"

/**
 * Fails when a second copy of `effect` or `@tensorflow/tfjs-core` has been loaded (recorded by the
 * bin's resolution hook, see Copies.ts): the message names every copy's folder and the fix.
 */
export const singleCopies = Effect.suspend(() => {
  const found = Copies.duplicates()
  return found.length === 0 ? Effect.void : Effect.fail(new UserError({ message: Copies.message(found) }))
})

/** `load`, but when it fails and a second copy was loaded meanwhile, the second copy is the error. */
const loading = <A, R>(load: Effect.Effect<A, UserError, R>): Effect.Effect<A, UserError, R> =>
  load.pipe(Effect.catch((e) => Effect.andThen(singleCopies, Effect.fail(e))), Effect.tap(() => singleCopies))

/** Builds the registry from the built-ins, the working directory's config and extra plugins. */
export const registry = (extra: ReadonlyArray<Registry.AnyPlugin> = []) =>
  Effect.gen(function*() {
    const { Load, Registry } = yield* Lazy.pipeline
    const { builtins } = yield* Lazy.builtins
    const config = yield* loading(Load.loadConfig(process.cwd()))
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
    const { Load, Studies } = yield* Lazy.pipeline
    const overrides = yield* Overrides.parse(sets)
    const loaded = yield* loading(Load.loadFile(file))
    const reg = yield* registry(loaded.plugins)
    if (loaded._tag === "Pipeline") {
      return { _tag: "Pipeline", file, registry: reg, pipeline: yield* Overrides.apply(loaded.pipeline, overrides) } as const
    }
    // `--set seeds=[...]` sets the study's seeds (every scheduler of its cells passes the same --set); the rest apply to every variant
    const seeds = overrides.filter((o) => o.path === "seeds").at(-1)
    const study = seeds === undefined ? loaded.study : { ...loaded.study, seeds: seeds.value as ReadonlyArray<number> }
    const variants = yield* Studies.variants(study).pipe(Effect.mapError((e) => (seeds === undefined ? e : within("--set seeds", e))))
    const rest = overrides.filter((o) => o.path !== "seeds")
    const applied = yield* Effect.forEach(variants, (v) =>
      Effect.map(Overrides.apply(v.pipeline, rest), (pipeline) => ({ ...v, pipeline })))
    return { _tag: "Study", file, registry: reg, study, variants: applied } as const
  })

/** The same error, its message prefixed with where it happened. */
export const within = (where: string, e: UserError): UserError =>
  new UserError({ message: `${where}: ${e.message}`, ...(e.problems !== undefined ? { problems: e.problems } : {}) })
