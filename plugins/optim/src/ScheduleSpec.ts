/**
 * Schedules as data: a tagged union on `kind` (decoded from pipelines) and `fromSpec`, which turns
 * a spec, the peak learning rate and the run's length into a `Schedule` function. Decaying kinds
 * default their length (`steps`) to the run's total steps.
 */
import { Bug, type Optimizer } from "@rekindle/core"
import { Effect, Schema } from "effect"
import * as Schedules from "./Schedules.ts"

const Steps = Schema.Int.pipe(Schema.check(Schema.isGreaterThanOrEqualTo(0)))

const WarmupSteps = Steps.pipe(
  Schema.annotate({ description: "Linear warm-up steps (lr ramps from lr/warmupSteps to lr)" })
)
const OptionalWarmupSteps = WarmupSteps.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0)))

const decayFields = {
  minLrFraction: Schema.Finite.pipe(
    Schema.check(Schema.isBetween({ minimum: 0, maximum: 1 })),
    Schema.annotate({ description: "Final learning rate as a fraction of lr, in [0, 1]" }),
    Schema.withDecodingDefaultKey(Effect.succeed(0))
  ),
  steps: Schema.optionalKey(
    Schema.Int.pipe(
      Schema.check(Schema.isGreaterThan(0)),
      Schema.annotate({ description: "Schedule length in steps, warm-up included (default: the run's total steps)" })
    )
  )
}

/** A learning-rate schedule, by `kind`. */
export const ScheduleSpec = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("constant") })
    .annotate({ description: "The same lr at every step" }),
  Schema.Struct({ kind: Schema.Literal("warmup"), warmupSteps: WarmupSteps })
    .annotate({ description: "Linear warm-up, then constant" }),
  Schema.Struct({ kind: Schema.Literal("cosine"), warmupSteps: OptionalWarmupSteps, ...decayFields })
    .annotate({ description: "Optional warm-up (default 0), then cosine decay to minLrFraction * lr" }),
  Schema.Struct({ kind: Schema.Literal("warmup-cosine"), warmupSteps: WarmupSteps, ...decayFields })
    .annotate({ description: "Linear warm-up, then cosine decay to minLrFraction * lr" }),
  Schema.Struct({ kind: Schema.Literal("linear"), warmupSteps: OptionalWarmupSteps, ...decayFields })
    .annotate({ description: "Optional warm-up (default 0), then linear decay to minLrFraction * lr" }),
  Schema.Struct({ kind: Schema.Literal("warmup-linear"), warmupSteps: WarmupSteps, ...decayFields })
    .annotate({ description: "Linear warm-up, then linear decay to minLrFraction * lr" })
]).pipe(Schema.toTaggedUnion("kind"))

/** A decoded schedule spec. */
export type ScheduleSpec = typeof ScheduleSpec.Type
/** A schedule spec as written by hand (defaults may be left out). */
export type ScheduleInput = typeof ScheduleSpec.Encoded

/** The default schedule: constant. */
export const defaultSchedule: ScheduleSpec = { kind: "constant" }

/** Short label for names, e.g. `warmup-cosine(100)`. */
export const label = (spec: ScheduleInput): string =>
  spec.kind === "constant" ? "constant" : `${spec.kind}(${spec.warmupSteps ?? 0})`

/**
 * The schedule a spec describes, peaking at `lr`. Decaying kinds need `steps` in the spec or
 * `totalSteps`; without either this throws.
 */
export const fromSpec = (spec: ScheduleInput, lr: number, totalSteps?: number): Optimizer.Schedule => {
  switch (spec.kind) {
    case "constant":
      return Schedules.constant(lr)
    case "warmup":
      return Schedules.warmup(lr, spec.warmupSteps)
    default: {
      const steps = spec.steps ?? totalSteps
      if (steps === undefined) throw new Bug(`schedule ${spec.kind}: no length (give schedule.steps or the run's total steps)`)
      const options = { lr, steps, warmupSteps: spec.warmupSteps ?? 0, minLrFraction: spec.minLrFraction ?? 0 }
      return spec.kind.endsWith("cosine") ? Schedules.cosineDecay(options) : Schedules.linearDecay(options)
    }
  }
}
