/**
 * Options schemas of the plugin parts `optim/sgd`, `optim/adam`, `optim/adamw`. Every field has a
 * description and a decoding default (except `clipNorm`, absent = no clipping), so
 * `{ use: "optim/adamw", lr: 1e-3 }` is a complete optimizer section.
 */
import { Effect, Schema } from "effect"
import { ScheduleSpec } from "./ScheduleSpec.ts"

const PositiveFinite = Schema.Finite.pipe(Schema.check(Schema.isGreaterThan(0)))
const UnitInterval = Schema.Finite.pipe(
  Schema.check(Schema.isBetween({ minimum: 0, maximum: 1, exclusiveMaximum: true }))
)

const common = (defaultLr: number) => ({
  lr: PositiveFinite.pipe(
    Schema.annotate({ description: "Peak learning rate (finite, > 0), shaped by schedule" }),
    Schema.withDecodingDefaultKey(Effect.succeed(defaultLr))
  ),
  schedule: ScheduleSpec.pipe(
    Schema.annotate({ description: "Learning-rate schedule, by kind (default { kind: \"constant\" })" }),
    Schema.withDecodingDefaultKey(Effect.succeed({ kind: "constant" as const }))
  ),
  clipNorm: Schema.optionalKey(
    PositiveFinite.pipe(Schema.annotate({ description: "Clip gradients to this global L2 norm first (absent: no clipping)" }))
  )
})

const adamFields = {
  betas: Schema.Tuple([UnitInterval, UnitInterval]).pipe(
    Schema.annotate({ description: "Adam's [b1, b2], each in [0, 1)" }),
    Schema.withDecodingDefaultKey(Effect.succeed([0.9, 0.999] as const))
  ),
  eps: PositiveFinite.pipe(
    Schema.annotate({ description: "Denominator epsilon (finite, > 0)" }),
    Schema.withDecodingDefaultKey(Effect.succeed(1e-8))
  )
}

/** Options of `optim/sgd`. */
export const SgdOptions = Schema.Struct({
  ...common(0.01),
  momentum: UnitInterval.pipe(
    Schema.annotate({ description: "Momentum in [0, 1); 0 = plain SGD (no slot)" }),
    Schema.withDecodingDefaultKey(Effect.succeed(0))
  ),
  nesterov: Schema.Boolean.pipe(
    Schema.annotate({ description: "Nesterov momentum (only with momentum > 0)" }),
    Schema.withDecodingDefaultKey(Effect.succeed(false))
  )
})

/** Options of `optim/adam`. */
export const AdamOptions = Schema.Struct({ ...common(1e-3), ...adamFields })

/** Options of `optim/adamw`. */
export const AdamWOptions = Schema.Struct({
  ...common(1e-3),
  ...adamFields,
  weightDecay: Schema.Finite.pipe(
    Schema.check(Schema.isGreaterThanOrEqualTo(0)),
    Schema.annotate({ description: "Decoupled weight decay (>= 0), multiplied by the scheduled lr" }),
    Schema.withDecodingDefaultKey(Effect.succeed(0.01))
  ),
  decayMask: Schema.Literals(["matrices", "all"]).pipe(
    Schema.annotate({
      description: "Which params decay: matrices = rank >= 2 (not biases or LayerNorm gains); all = every param"
    }),
    Schema.withDecodingDefaultKey(Effect.succeed("matrices" as const))
  )
})
