/**
 * Option schemas of the selection criteria. Every option has a description and a decoding
 * default, so a bare `{ use: "select/dormant" }` works; the stage's `fraction` is not a criterion
 * option (the host passes it in the SelectRequest).
 */
import { Schemas } from "@rekindle/core"
import { Effect, Schema } from "effect"

const { PositiveInt } = Schemas

const NonNegative = Schema.Finite.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))
const Unit = Schema.Finite.pipe(Schema.check(Schema.isBetween({ minimum: 0, maximum: 1 })))
const Decay = Schema.Finite.pipe(
  Schema.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMaximum: true }, { expected: "a decay in [0, 1)" }))
)

/** Criteria without options (magnitude, random, Bernoulli). */
export const NoOptions = Schema.Struct({})

const cap = Schema.Boolean.pipe(
  Schema.annotate({ description: "Choose at most the stage's k, lowest scores first (false: every neuron that passes)" }),
  Schema.withDecodingDefaultKey(Effect.succeed(true))
)

/** Options of `select/dormant`. */
export const DormantOptions = Schema.Struct({
  tau: NonNegative.pipe(
    Schema.annotate({ description: "Dormancy threshold τ ≥ 0: chosen when E|h_i| / mean_j E|h_j| ≤ τ" }),
    Schema.withDecodingDefaultKey(Effect.succeed(0.1))
  ),
  cap
})

/** Options of `select/firing-rate`. */
export const FiringRateOptions = Schema.Struct({
  threshold: Unit.pipe(
    Schema.annotate({ description: "Chosen when the fraction of probe tokens with h_i > 0 is below this, in [0, 1]" }),
    Schema.withDecodingDefaultKey(Effect.succeed(0.01))
  ),
  cap
})

/** Options of `select/utility`. */
export const UtilityOptions = Schema.Struct({
  decay: Decay.pipe(
    Schema.annotate({ description: "Running-average decay η of the contribution utility, in [0, 1)" }),
    Schema.withDecodingDefaultKey(Effect.succeed(0.99))
  ),
  every: PositiveInt.pipe(
    Schema.annotate({ description: "Observe (one probe forward pass) before every step s with s % every == 0" }),
    Schema.withDecodingDefaultKey(Effect.succeed(10))
  )
})
