/**
 * The Trainer: the step loop. Pulls batches, runs hooks before each update (recycling, probes),
 * steps the optimizer, reports TrainStep events every `logEvery` steps and Eval events every
 * `evalEvery` steps (and once before the first step, so every curve starts at the untrained
 * model) and at the end, and stops with a RunError on a non-finite loss.
 */
import { type Batch, Event, RunError } from "@rekindle/core"
import type { BatchStream } from "@rekindle/data"
import { Model } from "@rekindle/model"
import type { BatchTensors, ForwardOptions } from "@rekindle/model"
import * as tf from "@tensorflow/tfjs-core"
import { Context, Effect } from "effect"
import { Events } from "./Events.ts"
import type { TrainConfig } from "./TrainConfig.ts"
import type { StepOptions, TrainLoop } from "./TrainLoop.ts"

/** Work done before a step's update (recycling, probes); may return forward options for the step. */
export interface StepHook {
  readonly before: (step: number, loop: TrainLoop) => Effect.Effect<ForwardOptions | undefined, RunError, Events>
  /**
   * Changes to step s's update (frozen parameters, gradient masks, decoupled updates), asked after
   * every hook's `before`. Hooks' options are merged: `trainable` lists intersect, `masks` merge
   * by parameter (a later hook wins), `decoupled` updates concatenate.
   */
  readonly stepOptions?: (step: number, loop: TrainLoop) => StepOptions | undefined
}

/** How a training run ended. */
export interface TrainResult {
  readonly steps: number
  /** Mean training loss over the last logged window. */
  readonly finalLoss: number
  readonly finalEvalLoss?: number
}

/** Everything the loop needs. */
export interface TrainInput {
  readonly loop: TrainLoop
  readonly stream: BatchStream
  readonly evalSet: ReadonlyArray<BatchTensors>
  readonly config: TrainConfig
  readonly hooks?: ReadonlyArray<StepHook>
  /** Steps already done (resume); the loop runs from here to `config.steps`. */
  readonly from?: number
}

const tokensOf = (b: Batch.Batch) => b.batchSize * b.seqLen

const mergeOptions = (all: ReadonlyArray<ForwardOptions | undefined>): ForwardOptions | undefined => {
  const present = all.filter((o): o is ForwardOptions => o !== undefined)
  if (present.length === 0) return undefined
  return Object.assign({}, ...present) as ForwardOptions
}

/** Merges hooks' step options (see `StepHook.stepOptions`); undefined when none has any. */
export const mergeStepOptions = (all: ReadonlyArray<StepOptions | undefined>): StepOptions | undefined => {
  const present = all.filter((o): o is StepOptions => o !== undefined)
  if (present.length === 0) return undefined
  if (present.length === 1) return present[0]
  let trainable: Array<string> | undefined
  for (const o of present) {
    if (o.trainable !== undefined) trainable = trainable === undefined ? [...o.trainable] : trainable.filter((n) => o.trainable!.includes(n))
  }
  const masks = Object.assign({}, ...present.map((o) => o.masks ?? {})) as Record<string, tf.Tensor>
  const decoupled = present.flatMap((o) => o.decoupled ?? [])
  return {
    ...(trainable !== undefined ? { trainable } : {}),
    ...(Object.keys(masks).length > 0 ? { masks } : {}),
    ...(decoupled.length > 0 ? { decoupled } : {})
  }
}

/** Runs the step loop. */
export const train = (input: TrainInput) =>
  Effect.gen(function*() {
    const events = yield* Events
    const { loop, stream, evalSet, config } = input
    const hooks = input.hooks ?? []
    let windowLosses: Array<tf.Scalar> = []
    let windowTokens = 0
    let windowStart = performance.now()
    let lastLoss = Number.NaN
    let lastEval: number | undefined
    let lastEvalStep = -1

    const evaluate = (step: number, options: ForwardOptions | undefined) =>
      Effect.gen(function*() {
        const r = loop.evaluate(evalSet, options)
        lastEval = r.loss
        lastEvalStep = step
        yield* events.emit(Event.Eval.make({
          step,
          loss: r.loss,
          accuracy: r.accuracy,
          batches: evalSet.length,
          tokens: evalSet.reduce((n, b) => n + b.batchSize * b.seqLen, 0)
        }))
      })

    let options: ForwardOptions | undefined
    if ((input.from ?? 0) === 0 && config.evalEvery > 0) yield* evaluate(0, undefined)
    for (let s = input.from ?? 0; s < config.steps; s++) {
      const hookOptions: Array<ForwardOptions | undefined> = []
      for (const hook of hooks) hookOptions.push(yield* hook.before(s, loop))
      options = mergeOptions(hookOptions)
      const stepOptions = mergeStepOptions(hooks.map((h) => h.stepOptions?.(s, loop)))
      const batch = stream.next()
      const tensors = Model.toTensors(batch)
      const loss = yield* Effect.try({
        try: () => loop.step(tensors, options, stepOptions),
        catch: (e) => (e instanceof RunError ? e : new RunError({ step: s + 1, message: String(e) }))
      }).pipe(Effect.ensuring(Effect.sync(() => Model.disposeBatch(tensors))))
      windowLosses.push(loss)
      windowTokens += tokensOf(batch)
      const done = s + 1
      if (done % config.logEvery === 0 || done === config.steps) {
        const mean = tf.tidy(() => tf.div(tf.addN(windowLosses), windowLosses.length).dataSync()[0]!)
        for (const l of windowLosses) l.dispose()
        const ms = performance.now() - windowStart
        const n = windowLosses.length
        windowLosses = []
        lastLoss = mean
        yield* events.emit(Event.TrainStep.make({
          step: done,
          loss: mean,
          // the rate of the step just done, by the current optimizer's own count (a swapped-in optimizer restarts it)
          lr: loop.optimizer.learningRate(loop.optState().count - 1),
          tokens: windowTokens,
          ms: ms / n,
          tokensPerSec: windowTokens / Math.max(1e-9, ms / 1000)
        }))
        windowTokens = 0
        windowStart = performance.now()
      }
      if (config.evalEvery > 0 && done % config.evalEvery === 0) {
        yield* evaluate(done, options)
        windowStart = performance.now()
      }
    }
    if (lastEvalStep !== config.steps) yield* evaluate(config.steps, options)
    const result: TrainResult = {
      steps: config.steps,
      finalLoss: lastLoss,
      ...(lastEval !== undefined ? { finalEvalLoss: lastEval } : {})
    }
    return result
  })

/** The Trainer as a service (so hosts and tests can swap the loop). */
export class Trainer extends Context.Service<Trainer, {
  readonly train: (input: TrainInput) => Effect.Effect<TrainResult, RunError, Events>
}>()("@rekindle/training/Trainer") {
  /** The default step loop. */
  static readonly make = Trainer.of({ train })
}
