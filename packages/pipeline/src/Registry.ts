/**
 * The plugin registry: built once at startup from the plugin values the host passes in (the
 * built-ins, a pipeline file's `plugins`, `rekindle.config.ts`). Every part is addressed as
 * `namespace/id`. Building fails with a UserError when two plugins claim a namespace or an id,
 * when a plugin does not support this core version, or when a part's options schema is unusable.
 */
import { Plugin, type UserError } from "@rekindle/core"
import type { Problem } from "@rekindle/core"
import { Effect, Schema, SchemaAST } from "effect"
import semver from "semver"
import { userError } from "./Problems.ts"
import { closest } from "./Suggest.ts"

/** Any plugin value. */
export type AnyPlugin = Plugin.Plugin<string, Plugin.Parts>

/** One registered part. */
export interface Entry<K extends Plugin.PartKind = Plugin.PartKind> {
  /** `namespace/id`. */
  readonly id: string
  readonly kind: K
  readonly plugin: Plugin.PluginMeta
  readonly part: Plugin.Part<K, Schema.Top, any>
  /** Names of the options the part accepts (its options schema is an object). */
  readonly optionNames: ReadonlyArray<string>
}

/** What a kind of part is called in messages. */
export const kindNoun: Record<Plugin.PartKind, string> = {
  criteria: "criterion",
  reinitializers: "reinitializer",
  optimizers: "optimizer",
  sinks: "sink",
  probes: "probe",
  backends: "backend"
}

/** "a criterion", "an optimizer". */
export const withArticle = (noun: string): string => (/^[aeiou]/.test(noun) ? `an ${noun}` : `a ${noun}`)

/** Backends every host has without plugins. */
export const builtinBackends: ReadonlyArray<string> = ["auto", "wasm", "cpu"]

/** The registry. */
export interface Registry {
  readonly plugins: ReadonlyArray<AnyPlugin>
  /** Every part, in registration order. */
  readonly entries: ReadonlyArray<Entry>
  /** The part with this full id, of any kind. */
  readonly get: (id: string) => Entry | undefined
  /** Every part of one kind. */
  readonly ofKind: <K extends Plugin.PartKind>(kind: K) => ReadonlyArray<Entry<K>>
  /**
   * Looks up a part of `kind`; on failure, a message naming the closest known ids (or saying
   * which kind the id is, when it exists under another kind).
   */
  readonly lookup: <K extends Plugin.PartKind>(kind: K, id: string) => Entry<K> | string
  /** Backend names a pipeline may use: `auto`, `wasm`, `cpu` and every backend part's id. */
  readonly backendNames: ReadonlyArray<string>
}

const NAME = /^[a-z][a-z0-9-]*$/

const optionNamesOf = (schema: Schema.Top): ReadonlyArray<string> | undefined => {
  const ast = SchemaAST.toType(schema.ast)
  return SchemaAST.isObjects(ast) ? ast.propertySignatures.map((p) => String(p.name)) : undefined
}

/**
 * Checks one part's options schema: a Schema of an object whose every option can be described
 * as JSON Schema (pipelines are JSON/YAML too, and `rekindle schema` documents them).
 */
const checkOptions = (id: string, options: unknown): string | undefined => {
  if (!Schema.isSchema(options)) return `${id}: "options" is not a Schema`
  if (optionNamesOf(options) === undefined) {
    return `${id}: options must be a Schema.Struct (options are written inline next to "use")`
  }
  let properties: Record<string, unknown>
  try {
    const doc = Schema.toJsonSchemaDocument(options).schema as { properties?: Record<string, unknown> }
    properties = doc.properties ?? {}
  } catch (e) {
    return `${id}: options schema cannot be described as JSON Schema (${e instanceof Error ? e.message : String(e)})`
  }
  const ast = SchemaAST.toEncoded(options.ast)
  if (SchemaAST.isObjects(ast)) {
    for (const p of ast.propertySignatures) {
      const json = properties[String(p.name)]
      const opaque = SchemaAST.isDeclaration(SchemaAST.toEncoded(p.type)) &&
        (json === undefined || (typeof json === "object" && json !== null && Object.keys(json).length === 0))
      if (opaque) return `${id}: options schema cannot be described as JSON Schema (option "${String(p.name)}" is an opaque declared type)`
    }
  }
  return undefined
}

/** Builds a registry from plugin values; the same plugin value passed twice is registered once. */
export const make = (plugins: ReadonlyArray<AnyPlugin>): Effect.Effect<Registry, UserError> =>
  Effect.suspend(() => {
    const problems: Array<Problem> = []
    const unique = [...new Set(plugins)]
    const namespaces = new Map<string, Plugin.PluginMeta>()
    const entries: Array<Entry> = []
    const byId = new Map<string, Entry>()
    for (const [i, plugin] of unique.entries()) {
      const meta = (plugin as { meta?: Plugin.PluginMeta }).meta
      const where = `plugins.${i}`
      if (meta === undefined || typeof meta.namespace !== "string" || typeof meta.name !== "string") {
        problems.push({ path: where, message: "not a plugin value (expected { meta: { name, version, namespace, core }, ...parts })" })
        continue
      }
      const label = `${meta.name}@${meta.version}`
      if (!NAME.test(meta.namespace)) {
        problems.push({ path: where, message: `${label}: namespace "${meta.namespace}" must be lowercase letters, digits and dashes` })
        continue
      }
      if (semver.validRange(meta.core) === null) {
        problems.push({ path: where, message: `${label}: "core" must be a semver range, got ${JSON.stringify(meta.core)}` })
        continue
      }
      if (!semver.satisfies(Plugin.coreVersion, meta.core)) {
        problems.push({
          path: where,
          message: `${label} supports @rekindle/core ${meta.core}, but this is core ${Plugin.coreVersion}`
        })
        continue
      }
      const owner = namespaces.get(meta.namespace)
      if (owner !== undefined) {
        problems.push({
          path: where,
          message: `duplicate namespace "${meta.namespace}": claimed by ${owner.name} and ${meta.name}`
        })
        continue
      }
      namespaces.set(meta.namespace, meta)
      for (const kind of Plugin.partKinds) {
        const parts = (plugin as Plugin.Parts)[kind]
        if (parts === undefined) continue
        for (const [local, part] of Object.entries(parts)) {
          const id = `${meta.namespace}/${local}`
          if (!NAME.test(local)) {
            problems.push({ path: where, message: `${id}: part id "${local}" must be lowercase letters, digits and dashes` })
            continue
          }
          const previous = byId.get(id)
          if (previous !== undefined) {
            problems.push({ path: where, message: `duplicate id "${id}": ${withArticle(kindNoun[previous.kind])} and ${withArticle(kindNoun[kind])}` })
            continue
          }
          const bad = checkOptions(id, (part as { options?: unknown }).options)
          if (bad !== undefined) {
            problems.push({ path: where, message: bad })
            continue
          }
          if (typeof part.make !== "function") {
            problems.push({ path: where, message: `${id}: "make" is not a function` })
            continue
          }
          const entry: Entry = { id, kind, plugin: meta, part: part as Plugin.Part<typeof kind, Schema.Top, any>, optionNames: optionNamesOf(part.options)! }
          entries.push(entry)
          byId.set(id, entry)
        }
      }
    }
    if (problems.length > 0) return Effect.fail(userError("invalid plugins:", problems))

    const ofKind = <K extends Plugin.PartKind>(kind: K) => entries.filter((e): e is Entry<K> => e.kind === kind)
    const backendNames = [...builtinBackends, ...ofKind("backends").map((e) => e.id.slice(e.id.indexOf("/") + 1))]
    const registry: Registry = {
      plugins: unique,
      entries,
      get: (id) => byId.get(id),
      ofKind,
      backendNames,
      lookup: (kind, id) => {
        const e = byId.get(id)
        if (e !== undefined && e.kind === kind) return e as Entry<typeof kind>
        if (e !== undefined) return `"${id}" is ${withArticle(kindNoun[e.kind])}, not ${withArticle(kindNoun[kind])}`
        const known = ofKind(kind).map((x) => x.id)
        const near = closest(id, known)
        return `unknown ${kindNoun[kind]} "${id}"` + (
          near.length > 0
            ? `; did you mean ${near.map((n) => JSON.stringify(n)).join(" or ")}?`
            : known.length > 0
            ? `; known: ${known.join(", ")}`
            : `; no plugin provides ${withArticle(kindNoun[kind])}`
        )
      }
    }
    return Effect.succeed(registry)
  })
