/**
 * The JSON Schema of pipelines for a registry: the pipeline Schema with every part ref replaced by
 * the union of the registered parts of that kind (`use` constant plus that part's options), so
 * editors can complete and check `.json`/`.yaml` pipelines too. Best effort: the decoder stays
 * the authority (cross-field rules are not expressible here).
 */
import type { Plugin } from "@rekindle/core"
import { Schema } from "effect"
import type { Entry, Registry } from "./Registry.ts"
import { PartRef, PipelineSpec, SelectRef, StageSection } from "./Spec.ts"

type Fields = Schema.Struct.Fields

const refOf = (entries: ReadonlyArray<Entry>, extra: Fields, fallback: Schema.Top): Schema.Top => {
  if (entries.length === 0) return fallback
  const members = entries.map((e) => {
    const use = Schema.Literal(e.id).annotate({ description: e.part.description })
    const fields = (e.part.options as { readonly fields?: Fields }).fields
    return fields !== undefined
      ? Schema.Struct({ use, ...extra, ...fields })
      : Schema.StructWithRest(Schema.Struct({ use, ...extra }), [Schema.Record(Schema.String, Schema.Unknown)])
  })
  return members.length === 1 ? members[0]! : Schema.Union(members)
}

const optional = (s: Schema.Top) => Schema.optionalKey(s)

/** The pipeline Schema with part refs typed by the registry's parts (for JSON Schema only). */
export const pipelineSchema = (registry: Registry): Schema.Top => {
  const of = (k: Plugin.PartKind) => registry.ofKind(k)
  const criterion = refOf(of("criteria"), {}, PartRef)
  const stage = Schema.Struct({
    ...StageSection.fields,
    select: refOf(of("criteria"), { fraction: SelectRef.schema.fields.fraction }, SelectRef),
    reinit: optional(refOf(of("reinitializers"), {}, PartRef)),
    shadow: optional(Schema.Array(criterion))
  })
  const names = Schema.Literals(registry.backendNames as [string, ...Array<string>])
  return Schema.Struct({
    ...PipelineSpec.fields,
    backend: optional(Schema.Union([names, Schema.Struct({ name: names, threads: Schema.optionalKey(Schema.Int) })])),
    optimizer: optional(refOf(of("optimizers"), {}, PartRef)),
    recycling: optional(Schema.Array(stage)),
    hooks: optional(Schema.Array(refOf(of("hooks"), {}, PartRef))),
    probes: optional(Schema.Array(refOf(of("probes"), {}, PartRef))),
    log: optional(Schema.Array(refOf(of("sinks"), {}, PartRef)))
  }).annotate({ title: "rekindle pipeline", description: "A rekindle pipeline (see docs/pipelines.md)" })
}

/**
 * The JSON Schema of pipelines for a registry, as a standalone draft 2020-12 schema (the
 * document's definitions under `$defs`), ready for an editor's `$schema` / `yaml.schemas`.
 */
export const document = (registry: Registry): Record<string, unknown> => {
  const doc = Schema.toJsonSchemaDocument(pipelineSchema(registry), { onExcessProperty: "error" })
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    ...doc.schema,
    ...(Object.keys(doc.definitions).length > 0 ? { $defs: doc.definitions } : {})
  }
}
