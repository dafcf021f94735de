/**
 * Small Schemas every config section uses, defined once so their error messages and JSON Schema
 * renderings are the same everywhere.
 */
import { Schema } from "effect"

/** An integer > 0. */
export const PositiveInt = Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))

/** An integer >= 0. */
export const NonNegativeInt = Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))

/** A finite number in [0, 1]. */
export const Probability = Schema.Finite.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1 })))

/** A reference to a plugin part: `{ use: "namespace/id", ...its options }` (options decoded by the part's own schema). */
export const PartRef = Schema.StructWithRest(
  Schema.Struct({
    use: Schema.String.pipe(Schema.annotate({ description: "The part, as namespace/id (see `rekindle plugins`)" }))
  }),
  [Schema.Record(Schema.String, Schema.Unknown)]
)
/** A part ref (decoded). */
export type PartRef = typeof PartRef.Type
