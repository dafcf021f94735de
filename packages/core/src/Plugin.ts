/**
 * Plugins are imported values (ESLint flat-config style): `meta` plus named parts by kind. Each
 * part has a description, an options Schema and an effectful `make`. Pipelines refer to parts as
 * `namespace/id`. Nothing registers itself by import; the host builds a registry from the plugin
 * values it is given.
 */
import { Effect, type Schema } from "effect"
import type { BackendProvider } from "./Backend.ts"
import type { Criterion } from "./Criterion.ts"
import { PluginError } from "./Errors.ts"
import type { HookPart } from "./Hook.ts"
import type { Optimizer } from "./Optimizer.ts"
import type { Probe } from "./Probe.ts"
import type { Reinitializer } from "./Reinitializer.ts"
import type { Sink } from "./Sink.ts"

/** The version of the plugin contract this core implements (plugins declare a range over it). */
export const coreVersion = "0.1.0"

/** The kinds of part and what each one's `make` produces. */
export interface PartProducts {
  readonly criteria: Criterion<any>
  readonly reinitializers: Reinitializer
  readonly optimizers: Optimizer
  readonly sinks: Sink
  readonly probes: Probe
  readonly backends: BackendProvider
  readonly hooks: HookPart
}

/** A kind of part. */
export type PartKind = keyof PartProducts

/** All part kinds, in a fixed order. */
export const partKinds: ReadonlyArray<PartKind> = ["criteria", "reinitializers", "optimizers", "sinks", "probes", "backends", "hooks"]

/** What the host tells a part's `make` about the run it is built for. */
export interface BuildContext {
  /** Total optimizer steps of the run (schedules default to it). */
  readonly totalSteps: number
  /** FF neurons per layer of the run's model (0 = no FF sublayer); given by the pipeline compiler. */
  readonly dFF?: number
  /** The run's optimizer as a ref (`{ use, ...options }`), for parts that build a fresh copy of it. */
  readonly optimizer?: { readonly use: string; readonly [option: string]: unknown }
  /**
   * Builds another part from a ref through the run's registry (a hook choosing neurons with a
   * criterion). `path` names the option holding the ref, for error messages.
   */
  readonly part?: <K extends Exclude<PartKind, "sinks" | "hooks">>(
    kind: K,
    ref: { readonly use: string; readonly [option: string]: unknown },
    path: string
  ) => Effect.Effect<PartProducts[K], PluginError>
}

/** A build context with everything the pipeline compiler gives (hooks need all of it). */
export type RunBuildContext = Required<BuildContext>

/** The context as a `RunBuildContext`, or a PluginError when a host built the part outside a pipeline. */
export const runContext = (context: BuildContext): Effect.Effect<RunBuildContext, PluginError> =>
  context.dFF !== undefined && context.optimizer !== undefined && context.part !== undefined
    ? Effect.succeed(context as RunBuildContext)
    : Effect.fail(new PluginError({ part: "", message: "this part is built by the pipeline compiler (its context lacks dFF, optimizer or part)" }))

/** One named part: its options schema and how to build it. `R` = services `make` needs. */
export interface Part<K extends PartKind, S extends Schema.Top = Schema.Top, R = never> {
  readonly description: string
  readonly options: S
  readonly make: (options: S["Type"], context: BuildContext) => Effect.Effect<PartProducts[K], PluginError, R>
}

/** Plugin identity. */
export interface PluginMeta<NS extends string = string> {
  /** Package name, e.g. `@rekindle/plugin-select`. */
  readonly name: string
  readonly version: string
  /** Prefix of the plugin's part ids in pipelines (`select` in `select/magnitude-smallest`). */
  readonly namespace: NS
  /** Semver range of `coreVersion` the plugin supports, e.g. `^0.1.0`. */
  readonly core: string
}

/** The parts of a plugin, by kind then id. */
export type Parts = {
  readonly [K in PartKind]?: Readonly<Record<string, Part<K, any, any>>>
}

/** A plugin value. */
export type Plugin<NS extends string = string, P extends Parts = Parts> = {
  readonly meta: PluginMeta<NS>
} & P

/** Builds a plugin value, keeping literal ids and option types for `definePipeline`. */
export const make = <const NS extends string, const P extends Parts>(
  plugin: { readonly meta: PluginMeta<NS> } & P
): Plugin<NS, P> => plugin

/** Declares one part with its types inferred from the options schema. */
export const part = <K extends PartKind>() =>
<S extends Schema.Top, R = never>(p: Part<K, S, R>): Part<K, S, R> => p
