/**
 * `rekindle plugins`: every registered plugin and part, with descriptions and options
 * (type, default, description), read from the options schemas.
 */
import type { Registry } from "@rekindle/pipeline"
import { Console, Effect, Result, Schema } from "effect"
import { Command } from "effect/cli"
import * as Host from "../Host.ts"
import * as Lazy from "../Lazy.ts"

type JsonSchemaObject = {
  readonly type?: unknown
  readonly description?: unknown
  readonly properties?: Record<string, JsonSchemaObject>
  readonly required?: ReadonlyArray<string>
  readonly enum?: ReadonlyArray<unknown>
  readonly const?: unknown
  readonly anyOf?: ReadonlyArray<JsonSchemaObject>
  readonly items?: JsonSchemaObject
  readonly prefixItems?: ReadonlyArray<JsonSchemaObject>
  readonly minimum?: unknown
  readonly maximum?: unknown
  readonly exclusiveMinimum?: unknown
  readonly exclusiveMaximum?: unknown
}

/** A short type description of a JSON Schema, e.g. `number > 0`, `"a" | "b"`, `{ kind: "constant" } | ...`. */
export const typeOf = (s: JsonSchemaObject): string => {
  if (s.const !== undefined) return JSON.stringify(s.const)
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(" | ")
  if (Array.isArray(s.anyOf)) return s.anyOf.map(typeOf).join(" | ")
  if (s.type === "array") {
    if (Array.isArray(s.prefixItems)) return `[${s.prefixItems.map(typeOf).join(", ")}]`
    return s.items !== undefined ? `${typeOf(s.items)}[]` : "array"
  }
  if (s.type === "object" && s.properties !== undefined) {
    // name a tagged object by its literal fields ({ kind: "warmup" })
    const tags = Object.entries(s.properties).filter(([, p]) => p.const !== undefined || (Array.isArray(p.enum) && p.enum.length === 1))
    if (tags.length > 0) return `{ ${tags.map(([k, p]) => `${k}: ${typeOf(p)}`).join(", ")}${Object.keys(s.properties).length > tags.length ? ", ..." : ""} }`
  }
  const base = typeof s.type === "string" ? s.type : Array.isArray(s.type) ? s.type.join(" | ") : "value"
  const lo = typeof s.exclusiveMinimum === "number" ? { v: s.exclusiveMinimum, open: true }
    : typeof s.minimum === "number" && s.minimum > -9e15 ? { v: s.minimum, open: false } : undefined
  const hi = typeof s.exclusiveMaximum === "number" ? { v: s.exclusiveMaximum, open: true }
    : typeof s.maximum === "number" && s.maximum < 9e15 ? { v: s.maximum, open: false } : undefined
  if (lo !== undefined && hi !== undefined) return `${base} in ${lo.open ? "(" : "["}${lo.v}, ${hi.v}${hi.open ? ")" : "]"}`
  if (lo !== undefined) return `${base} ${lo.open ? ">" : "≥"} ${lo.v}`
  if (hi !== undefined) return `${base} ${hi.open ? "<" : "≤"} ${hi.v}`
  return base
}

/**
 * The decoding default of every option that has one. Each field is decoded from nothing on its
 * own, so one required option does not hide the defaults of the others.
 */
export const defaultsOf = (options: Schema.Top): Record<string, unknown> => {
  const fields = (options as { fields?: Record<string, Schema.Top> }).fields
  const out: Record<string, unknown> = {}
  for (const [name, field] of Object.entries(fields ?? {})) {
    const decoded = Schema.decodeUnknownResult(Schema.Struct({ [name]: field }) as unknown as Schema.Codec<unknown, unknown>)({})
    if (Result.isSuccess(decoded) && typeof decoded.success === "object" && decoded.success !== null && name in decoded.success) {
      out[name] = (decoded.success as Record<string, unknown>)[name]
    }
  }
  return out
}

/** Describes one part's options, one line each. */
export const describeOptions = (entry: Registry.Entry): Array<string> => {
  const doc = Schema.toJsonSchemaDocument(entry.part.options).schema as JsonSchemaObject
  const props = doc.properties ?? {}
  const defaults = defaultsOf(entry.part.options)
  const required = new Set(doc.required ?? [])
  return Object.entries(props).map(([name, s]) => {
    const d = name in defaults ? `default ${JSON.stringify(defaults[name])}` : required.has(name) ? "required" : "optional"
    const desc = typeof s.description === "string" ? ` — ${s.description}` : ""
    return `${name}: ${typeOf(s)} (${d})${desc}`
  })
}

/** Renders the registry as text. */
export const render = (registry: Registry.Registry, kindNoun: typeof Registry.kindNoun): string => {
  const lines: Array<string> = []
  for (const plugin of registry.plugins) {
    const { meta } = plugin
    lines.push(`${meta.name} ${meta.version} (namespace "${meta.namespace}", core ${meta.core})`)
    for (const e of registry.entries.filter((x) => x.plugin === meta)) {
      lines.push(`  ${e.id} [${kindNoun[e.kind]}] ${e.part.description}`)
      for (const o of describeOptions(e)) lines.push(`      ${o}`)
    }
  }
  lines.push(`backends: ${registry.backendNames.join(", ")}`)
  return lines.join("\n")
}

/** The `plugins` command. */
export const plugins = Command.make(
  "plugins",
  {},
  Effect.fn("plugins")(function*() {
    const { Registry } = yield* Lazy.pipeline
    yield* Console.log(render(yield* Host.registry(), Registry.kindNoun))
  })
).pipe(Command.withDescription("List plugins and their parts, with descriptions and options"))
