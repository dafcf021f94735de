/**
 * The ready-made optimizers, as chains of the building blocks:
 * - `sgd`:   [clip] -> [trace(momentum, nesterov)] -> scale_by_learning_rate
 * - `adam`:  [clip] -> scale_by_adam -> scale_by_learning_rate
 * - `adamw`: [clip] -> scale_by_adam -> add_decayed_weights(wd, mask) -> scale_by_learning_rate
 * (the Adam blocks as one transform, `AdamTail.ts`: one fused kernel per parameter on wasm)
 */
import type { Optimizer } from "@rekindle/core"
import { adamWithTail } from "./AdamTail.ts"
import { clipByGlobalNorm } from "./Clip.ts"
import { scaleByLearningRate } from "./LearningRate.ts"
import { trace } from "./Momentum.ts"
import { defaultSchedule, fromSpec, label, type ScheduleInput } from "./ScheduleSpec.ts"
import { chain, toOptimizer, type Transform } from "./Transform.ts"
import type { DecayMask } from "./WeightDecay.ts"

/** Options every optimizer takes. */
export interface CommonOptions {
  /** Peak learning rate (shaped by `schedule`), or a schedule function used as is. */
  readonly lr: number | Optimizer.Schedule
  /** Learning-rate schedule (default constant); ignored when `lr` is a function. */
  readonly schedule?: ScheduleInput
  /** Length of decaying schedules that do not give `steps` (the run's total steps). */
  readonly totalSteps?: number
  /** Clip gradients to this global L2 norm first (absent: no clipping). */
  readonly clipNorm?: number
}

/** Options of `sgd`. */
export interface SgdOptions extends CommonOptions {
  /** Momentum in [0, 1) (default 0: plain SGD, no slot). */
  readonly momentum?: number
  /** Nesterov momentum (default false). */
  readonly nesterov?: boolean
}

/** Options of `adam`. */
export interface AdamOptions extends CommonOptions {
  /** [b1, b2] (default [0.9, 0.999]). */
  readonly betas?: readonly [number, number]
  /** Denominator epsilon (default 1e-8). */
  readonly eps?: number
}

/** Options of `adamw`. */
export interface AdamWOptions extends AdamOptions {
  /** Decoupled weight decay (default 0.01), multiplied by the scheduled lr. */
  readonly weightDecay?: number
  /** Which parameters decay (default `matrices`: rank >= 2; biases and LayerNorm gains do not). */
  readonly decayMask?: DecayMask
}

/** `tail(schedule)`: the blocks after clipping, ending with the learning-rate scale. */
const build = (
  kind: string,
  options: CommonOptions,
  tail: (schedule: Optimizer.Schedule) => ReadonlyArray<Transform>,
  extra: string
): Optimizer.Optimizer => {
  const schedule = typeof options.lr === "function"
    ? options.lr
    : fromSpec(options.schedule ?? defaultSchedule, options.lr, options.totalSteps)
  const lrLabel = typeof options.lr === "function" ? "fn" : `${options.lr} ${label(options.schedule ?? defaultSchedule)}`
  const clip = options.clipNorm === undefined ? [] : [clipByGlobalNorm(options.clipNorm)]
  const transform = chain(...clip, ...tail(schedule))
  const clipLabel = options.clipNorm === undefined ? "" : `, clip=${options.clipNorm}`
  return toOptimizer(transform, { name: `${kind}(lr=${lrLabel}${extra}${clipLabel})`, learningRate: schedule })
}

/** SGD with optional (Nesterov) momentum. */
export const sgd = (options: SgdOptions): Optimizer.Optimizer => {
  const momentum = options.momentum ?? 0
  const nesterov = options.nesterov ?? false
  const middle = momentum > 0 ? [trace({ decay: momentum, nesterov })] : []
  return build("sgd", options, (s) => [...middle, scaleByLearningRate(s)], momentum > 0 ? `, momentum=${momentum}${nesterov ? " nesterov" : ""}` : "")
}

/** Adam with per-element bias correction. */
export const adam = (options: AdamOptions): Optimizer.Optimizer => {
  const [b1, b2] = options.betas ?? [0.9, 0.999]
  return build("adam", options, (s) => [adamWithTail({ b1, b2, eps: options.eps ?? 1e-8 }, undefined, s)], `, betas=[${b1}, ${b2}]`)
}

/** AdamW: Adam plus decoupled weight decay on the masked parameters. */
export const adamw = (options: AdamWOptions): Optimizer.Optimizer => {
  const [b1, b2] = options.betas ?? [0.9, 0.999]
  const wd = options.weightDecay ?? 0.01
  const mask = options.decayMask ?? "matrices"
  return build(
    "adamw",
    options,
    (s) => [adamWithTail({ b1, b2, eps: options.eps ?? 1e-8 }, { weightDecay: wd, mask }, s)],
    `, betas=[${b1}, ${b2}], wd=${wd}${typeof mask === "string" ? ` ${mask}` : ""}`
  )
}
