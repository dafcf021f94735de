/**
 * What every conformance suite does first: decode a part's options the way the host does (with a
 * clear error when the part's schema comes from another copy of `effect` than rekindle's, which
 * cannot decode it) and build the part, or call a factory; plus the suites' one way to fail.
 */
import { type Plugin, Schemas } from "@rekindle/core"
import { Effect, Schema } from "effect"

/** Fails a check with a message (every suite's checks throw plain Errors). */
export const fail = (message: string): never => {
  throw new Error(message)
}

/** Decodes `options` with the part's schema (defaults filled in); `what` names the caller in errors. */
export const decodeOptions = (what: string, schema: Schema.Top, options: unknown): unknown => {
  if (Schemas.fromOtherEffect(schema)) throw new Error(`${what}: ${Schemas.otherEffectFix}`)
  return Schema.decodeUnknownSync(schema as Schema.Codec<unknown, unknown>)(options)
}

/** Whether a suite's source is a plugin part (rather than a factory). */
export const isPart = <K extends Plugin.PartKind>(source: Plugin.Part<K, any, any> | (() => unknown)): source is Plugin.Part<K, any, any> =>
  typeof source === "object" && "make" in source && "options" in source

/**
 * Builds what a suite tests from a part (decoding `options`, `make` run synchronously with a
 * context of `totalSteps` 1000) or by calling a factory; `what` names the caller in errors.
 */
export const build = <K extends Plugin.PartKind>(
  what: string,
  source: Plugin.Part<K, any, any> | (() => Plugin.PartProducts[K]),
  options: unknown = {}
): Plugin.PartProducts[K] => {
  if (!isPart(source)) return source()
  const decoded = decodeOptions(what, source.options, options)
  return Effect.runSync(source.make(decoded, { totalSteps: 1000 }) as Effect.Effect<Plugin.PartProducts[K], unknown>)
}
