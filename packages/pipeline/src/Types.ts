/**
 * Type-level view of pipelines: the input type of a pipeline given the plugins in scope, so that
 * `use` ids and each part's options are completed and checked by the editor. Nothing here exists
 * at runtime.
 */
import type { Plugin } from "@rekindle/core"
import type { Schema } from "effect"
import type { AnyPlugin } from "./Registry.ts"
import type { PipelineSpec, StageSection } from "./Spec.ts"

/** Flattens an intersection for readable hovers. */
type Simplify<T> = { [K in keyof T]: T[K] } & {}

/** A ref to a part no plugin in scope describes (any id, any options). */
export type AnyRef<Extra = {}> = Simplify<{ readonly use: string } & Extra> & { readonly [option: string]: unknown }

type RefsOfPlugin<P, K extends Plugin.PartKind, Extra> = P extends
  { readonly meta: { readonly namespace: infer NS extends string } } & { readonly [k in K]: infer Parts }
  ? {
    [Id in keyof Parts & string]: Parts[Id] extends { readonly options: infer S extends Schema.Top }
      ? Simplify<{ readonly use: `${NS}/${Id}` } & Extra & S["Encoded"]>
      : never
  }[keyof Parts & string]
  : never

/**
 * A part ref of kind `K` given plugins `Ps`: `{ use: "ns/id", ...that part's options }`, a
 * union over every part of that kind. Falls back to `AnyRef` when no plugin in scope has one.
 */
export type RefOf<Ps extends ReadonlyArray<AnyPlugin>, K extends Plugin.PartKind, Extra = {}> = [
  RefsOfPlugin<Ps[number], K, Extra>
] extends [never] ? AnyRef<Extra> : RefsOfPlugin<Ps[number], K, Extra>

/** Every part id of kind `K` in `Ps`. */
export type IdOf<Ps extends ReadonlyArray<AnyPlugin>, K extends Plugin.PartKind> = RefsOfPlugin<Ps[number], K, {}>["use"]

type BackendIds<P> = P extends { readonly backends: infer B } ? keyof B & string : never

/** Backend names a pipeline may use with plugins `Ps`. */
export type BackendName<Ps extends ReadonlyArray<AnyPlugin>> = "auto" | "wasm" | "cpu" | BackendIds<Ps[number]>

type SpecInput = typeof PipelineSpec.Encoded
type StageEncoded = typeof StageSection.Encoded

/** One recycling stage as written in a pipeline. */
export type StageInput<Ps extends ReadonlyArray<AnyPlugin>> = Simplify<
  Omit<StageEncoded, "select" | "reinit" | "shadow"> & {
    /** The acting criterion, its options, and the fraction of neurons to recycle. */
    readonly select: RefOf<Ps, "criteria", { readonly fraction: number }>
    /** How chosen neurons get new weights (default `reinit/initial`). */
    readonly reinit?: RefOf<Ps, "reinitializers">
    /** Criteria that choose without acting; their overlap with the real choice is recorded. */
    readonly shadow?: ReadonlyArray<RefOf<Ps, "criteria">>
  }
>

/** A pipeline as written (before defaults), for plugins `Ps`. */
export type PipelineInput<Ps extends ReadonlyArray<AnyPlugin>> = Simplify<
  Omit<SpecInput, "backend" | "optimizer" | "recycling" | "hooks" | "probes" | "log"> & {
    /** `auto` (default), `wasm`, `cpu`, a plugin's backend, or `{ name, threads }`. */
    readonly backend?: BackendName<Ps> | { readonly name: BackendName<Ps>; readonly threads?: number }
    /** The optimizer (default `optim/adamw` with its defaults). */
    readonly optimizer?: RefOf<Ps, "optimizers">
    /** Recycling stages (default none). */
    readonly recycling?: ReadonlyArray<StageInput<Ps>>
    /** Step hooks, run in order around every step (default none). */
    readonly hooks?: ReadonlyArray<RefOf<Ps, "hooks">>
    /** Probes (default none). */
    readonly probes?: ReadonlyArray<RefOf<Ps, "probes">>
    /** Event sinks (default `log/console` and `log/jsonl`). */
    readonly log?: ReadonlyArray<RefOf<Ps, "sinks">>
    /** Plugins this pipeline needs besides the built-ins (.ts pipelines only). */
    readonly plugins?: ReadonlyArray<AnyPlugin>
  }
>

/** Any pipeline value (whatever plugins it was written against). */
export type AnyPipeline = {
  readonly name: string
  readonly seed?: number
  readonly optimizer?: unknown
  readonly recycling?: ReadonlyArray<unknown>
  readonly plugins?: ReadonlyArray<AnyPlugin>
}
