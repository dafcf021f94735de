/**
 * Decoding a part's options the way the host does, with a clear error when the part's schema
 * comes from another copy of `effect` than rekindle's (which cannot decode it).
 */
import { Schemas } from "@rekindle/core"
import { Schema } from "effect"

/** Decodes `options` with the part's schema (defaults filled in); `what` names the caller in errors. */
export const decodeOptions = (what: string, schema: Schema.Top, options: unknown): unknown => {
  if (Schemas.fromOtherEffect(schema)) throw new Error(`${what}: ${Schemas.otherEffectFix}`)
  return Schema.decodeUnknownSync(schema as Schema.Codec<unknown, unknown>)(options)
}
