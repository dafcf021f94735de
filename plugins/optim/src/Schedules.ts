/**
 * Learning-rate schedules: functions of the step count (updates already applied, from 0).
 * Warm-up is linear and never starts at 0: `lr * (count + 1) / warmupSteps` for
 * `count < warmupSteps`, so the first step already moves and step `warmupSteps - 1` reaches the
 * peak. Decays (cosine, linear) then run from the peak at `count = warmupSteps` to
 * `minLrFraction * lr` at `count = steps` (Optax's convention), and stay there.
 */
import type { Optimizer } from "@rekindle/core"

/** Shape of a warm-up + decay schedule. */
export interface DecayOptions {
  /** Peak learning rate. */
  readonly lr: number
  /** Length of the schedule in steps, warm-up included (usually the run's total steps). */
  readonly steps: number
  /** Linear warm-up steps (default 0). */
  readonly warmupSteps?: number
  /** Final learning rate as a fraction of the peak (default 0). */
  readonly minLrFraction?: number
}

/** The same learning rate at every step. */
export const constant = (lr: number): Optimizer.Schedule => () => lr

const warmupFactor = (count: number, warmupSteps: number): number =>
  warmupSteps > 0 && count < warmupSteps ? (count + 1) / warmupSteps : 1

/** Linear warm-up over `warmupSteps`, then constant. */
export const warmup = (lr: number, warmupSteps: number): Optimizer.Schedule => (count) =>
  lr * warmupFactor(count, warmupSteps)

const decaySchedule = (options: DecayOptions, shape: (progress: number) => number): Optimizer.Schedule => {
  const w = options.warmupSteps ?? 0
  const floor = options.minLrFraction ?? 0
  const span = options.steps - w
  return (count) => {
    if (count < w) return options.lr * warmupFactor(count, w)
    const progress = span <= 0 ? 1 : Math.min(1, (count - w) / span)
    return options.lr * (floor + (1 - floor) * shape(progress))
  }
}

/** Optional linear warm-up, then cosine decay from `lr` to `minLrFraction * lr` at `steps`. */
export const cosineDecay = (options: DecayOptions): Optimizer.Schedule =>
  decaySchedule(options, (p) => 0.5 * (1 + Math.cos(Math.PI * p)))

/** Optional linear warm-up, then linear decay from `lr` to `minLrFraction * lr` at `steps`. */
export const linearDecay = (options: DecayOptions): Optimizer.Schedule =>
  decaySchedule(options, (p) => 1 - p)
