/**
 * The Trainer: the step loop. Pulls batches, runs hooks before each update (recycling, probes),
 * steps the optimizer, reports TrainStep events every `logEvery` steps and Eval events every
 * `evalEvery` steps (and once before the first step, so every curve starts at the untrained
 * model) and at the end, and stops with a RunError on a non-finite loss.
 */
import { type Batch, Event, EventBus, isRunError, RunError, type StepHook, type StepOptions } from "@rekindle/core"
import type { BatchStream } from "@rekindle/data"
import { Model } from "@rekindle/model"
import type { BatchTensors, ForwardOptions } from "@rekindle/model"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import type { TrainerState } from "@rekindle/run"
import type { TrainConfig } from "./TrainConfig.ts"
import type { TrainLoop } from "./TrainLoop.ts"

/** How a training run ended. */
export interface TrainResult {
  readonly steps: number
  /** Mean training loss over the last logged window. */
  readonly finalLoss: number
  readonly finalEvalLoss?: number
}

/** Why a checkpoint is written: on schedule, or because the run is being interrupted. */
export type CheckpointReason = "scheduled" | "interrupt"

/** Everything the loop needs. */
export interface TrainInput {
  readonly loop: TrainLoop
  readonly stream: BatchStream
  readonly evalSet: ReadonlyArray<BatchTensors>
  readonly config: TrainConfig
  readonly hooks?: ReadonlyArray<StepHook>
  /** Steps already done (resume); the loop runs from here to `config.steps`. */
  readonly from?: number
  /** The trainer state saved with the checkpoint at `from` (resume). */
  readonly state?: TrainerState
  /**
   * Writes a checkpoint after `done` steps: every `config.checkpointEvery` steps and after the
   * last step (reason `scheduled`, when checkpointEvery > 0), and when the loop is interrupted
   * (SIGINT/SIGTERM) after a step not yet saved (reason `interrupt`).
   */
  readonly checkpoint?: (done: number, state: TrainerState, reason: CheckpointReason) => Effect.Effect<void, RunError, EventBus>
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
  const observers = present.flatMap((o) => o.observers ?? [])
  return {
    ...(trainable !== undefined ? { trainable } : {}),
    ...(Object.keys(masks).length > 0 ? { masks } : {}),
    ...(decoupled.length > 0 ? { decoupled } : {}),
    ...(observers.length > 0 ? { observers } : {})
  }
}

export type { StepHook, TrainerState }

/** Runs the step loop. */
export const train = (input: TrainInput) =>
  Effect.gen(function*() {
    const events = yield* EventBus
    const { loop, stream, evalSet, config } = input
    const hooks = input.hooks ?? []
    let windowLosses: Array<tf.Scalar> = (input.state?.windowLosses ?? []).map((l) => tf.scalar(l, "float32"))
    let windowTokens = input.state?.windowTokens ?? 0
    let windowStart = performance.now()
    let lastLoss = input.state?.lastLoss ?? Number.NaN
    let lastEval: number | undefined = input.state?.lastEval
    let lastEvalStep = input.state?.lastEvalStep ?? -1

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
    const from = input.from ?? 0
    /** The step of the last checkpoint (or of the start). */
    let saved = from
    const snapshot = (): TrainerState => ({
      windowLosses: windowLosses.map((l) => l.dataSync()[0]!),
      windowTokens,
      lastLoss,
      ...(lastEval !== undefined ? { lastEval } : {}),
      lastEvalStep
    })
    const iteration = (s: number) => Effect.gen(function*() {
      const hookOptions: Array<ForwardOptions | undefined> = []
      for (const hook of hooks) hookOptions.push(yield* hook.before(s, loop))
      options = mergeOptions(hookOptions)
      const stepOptions = mergeStepOptions(hooks.map((h) => h.stepOptions?.(s, loop)))
      const batch = stream.next()
      const tensors = Model.toTensors(batch)
      const loss = yield* Effect.try({
        try: () => loop.step(tensors, options, stepOptions),
        catch: (e) => (isRunError(e) ? e : new RunError({ step: s + 1, message: String(e) }))
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
      if ((config.evalEvery > 0 && done % config.evalEvery === 0) || done === config.steps) {
        yield* evaluate(done, options)
        windowStart = performance.now()
      }
      if (input.checkpoint !== undefined && config.checkpointEvery > 0 && (done % config.checkpointEvery === 0 || done === config.steps)) {
        yield* input.checkpoint(done, snapshot(), "scheduled")
        saved = done
      }
    })
    if (from === 0 && config.evalEvery > 0) yield* evaluate(0, undefined)
    const steps = Effect.gen(function*() {
      for (let s = from; s < config.steps; s++) {
        // A macrotask boundary per step, so SIGINT/SIGTERM handlers run between steps; each step
        // (hooks, update, events, checkpoint) is uninterruptible, so an interruption always finds
        // a consistent state to checkpoint.
        yield* Effect.yieldNow
        yield* Effect.uninterruptible(iteration(s))
      }
    })
    yield* steps.pipe(
      Effect.onInterrupt(() => {
        const done = loop.stepsDone()
        if (input.checkpoint === undefined || done <= saved) return Effect.void
        return input.checkpoint(done, snapshot(), "interrupt").pipe(
          Effect.catchCause((cause) => Effect.logError("could not write a checkpoint on interruption", cause))
        )
      }),
      Effect.ensuring(Effect.sync(() => {
        for (const l of windowLosses) l.dispose()
        windowLosses = []
      }))
    )
    if (lastEvalStep !== config.steps) yield* evaluate(config.steps, options)
    const result: TrainResult = {
      steps: config.steps,
      finalLoss: lastLoss,
      ...(lastEval !== undefined ? { finalEvalLoss: lastEval } : {})
    }
    return result
  })
