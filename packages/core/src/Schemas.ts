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

/** The class every schema AST node of one copy of `effect` extends (the root of its prototype chain). */
const astRoot = (ast: unknown): unknown => {
  let proto: unknown = typeof ast === "object" && ast !== null ? Object.getPrototypeOf(ast) : null
  while (proto !== null && Object.getPrototypeOf(proto) !== Object.prototype) proto = Object.getPrototypeOf(proto)
  return proto
}

const ours = astRoot(Schema.String.ast)

/**
 * Whether `schema` was built by another copy of `effect` than rekindle's (a plugin package that
 * depends on its own `effect` instead of sharing rekindle's as a peer): such a schema cannot be
 * decoded or described by rekindle's copy.
 */
export const fromOtherEffect = (schema: { readonly ast: unknown }): boolean => astRoot(schema.ast) !== ours

/** What to tell the author of a plugin whose schemas come from another copy of `effect`. */
export const otherEffectFix =
  `its options schema was built by a second copy of "effect" (the plugin package's own dependency); ` +
  `list "effect" under "peerDependencies" of the plugin package (not "dependencies"), with the version rekindle uses, and reinstall`
