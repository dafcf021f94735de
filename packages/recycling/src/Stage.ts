/**
 * A recycling stage: when it fires, which neurons it chooses, how it reinitializes them and what
 * happens to their optimizer state. The schedule fires at step s (the number of updates done so
 * far, 0-based) when s >= from, (s - from) % every == 0, s <= until and fewer than `times`
 * firings happened; it runs before that step's update.
 */
import type { Criterion, Reinitializer } from "@rekindle/core"
import { Schemas } from "@rekindle/core"
import { Schema } from "effect"
const { PositiveInt, NonNegativeInt } = Schemas

/** When a stage fires, in optimizer steps. */
export const StageSchedule = Schema.Struct({
  every: PositiveInt,
  from: NonNegativeInt,
  until: Schema.optionalKey(NonNegativeInt),
  times: Schema.optionalKey(PositiveInt)
})
/** When a stage fires (type). */
export type StageSchedule = typeof StageSchedule.Type

/** What happens to the optimizer slots of recycled neurons. */
export const OptimizerStatePolicy = Schema.Literals(["keep", "zero-moments", "zero-moments-and-step"])
/** What happens to the optimizer slots of recycled neurons (type). */
export type OptimizerStatePolicy = typeof OptimizerStatePolicy.Type

/** A built stage, with its plugin parts instantiated. */
export interface Stage {
  readonly index: number
  readonly schedule: StageSchedule
  readonly criterion: { readonly id: string; readonly criterion: Criterion<any> }
  /** Fraction of each layer's neurons (per-layer scope) or of all neurons (global scope). */
  readonly fraction: number
  readonly scope: "per-layer" | "global"
  readonly reinit: { readonly id: string; readonly reinitializer: Reinitializer }
  readonly optimizerState: OptimizerStatePolicy
  /** Rounds during which a recycled neuron cannot be chosen again (0 = none). */
  readonly immunity: number
  /** Criteria that choose without acting; their overlap with the real choice is recorded. */
  readonly shadow: ReadonlyArray<{ readonly id: string; readonly criterion: Criterion<any> }>
}

/** What `make` needs: the criterion and the reinitializer as `[id, part]`; every other field may be left out. */
export interface StageFields {
  readonly criterion: readonly [string, Criterion<any>]
  readonly reinit: readonly [string, Reinitializer]
  readonly index?: number
  readonly schedule?: Partial<StageSchedule>
  readonly fraction?: number
  readonly scope?: Stage["scope"]
  readonly optimizerState?: Stage["optimizerState"]
  readonly immunity?: number
  readonly shadow?: ReadonlyArray<readonly [string, Criterion<any>]>
}

/**
 * A stage from its parts, with defaults for the rest (index 0, every 10 steps from 0, 25% per
 * layer, zero-moments, no immunity, no shadows): for hosts and tests that build stages by hand.
 */
export const make = (fields: StageFields): Stage => ({
  index: fields.index ?? 0,
  schedule: { every: 10, from: 0, ...fields.schedule },
  criterion: { id: fields.criterion[0], criterion: fields.criterion[1] },
  fraction: fields.fraction ?? 0.25,
  scope: fields.scope ?? "per-layer",
  reinit: { id: fields.reinit[0], reinitializer: fields.reinit[1] },
  optimizerState: fields.optimizerState ?? "zero-moments",
  immunity: fields.immunity ?? 0,
  shadow: (fields.shadow ?? []).map(([id, c]) => ({ id, criterion: c }))
})

/** Whether the schedule fires at step `s`, given how many times it already fired. */
export const fires = (schedule: StageSchedule, s: number, firedSoFar: number): boolean =>
  s >= schedule.from &&
  (s - schedule.from) % schedule.every === 0 &&
  (schedule.until === undefined || s <= schedule.until) &&
  (schedule.times === undefined || firedSoFar < schedule.times)

/** Every step in [0, steps) at which the schedule fires. */
export const firingSteps = (schedule: StageSchedule, steps: number): Array<number> => {
  const out: Array<number> = []
  for (let s = schedule.from; s < steps; s += schedule.every) {
    if (!fires(schedule, s, out.length)) break
    out.push(s)
  }
  return out
}
