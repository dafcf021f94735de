/**
 * One benchmark configuration end to end: the framework's step loop (Trainer + TrainLoop + an
 * optimizer plugin, events to memory), a breakdown of a step (forward, backward, optimizer), the
 * bare TF.js loop, the best plain matMul rate of the backend, memory and live tensors.
 */
import "@rekindle/engine/Gradients"
import { Key } from "@rekindle/core"
import { Model } from "@rekindle/model"
import { adam } from "@rekindle/plugin-optim/Optimizers"
import { Events, Trainer, TrainLoop } from "@rekindle/training"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import * as BareLoop from "./BareLoop.ts"
import type { BenchConfig } from "./Configs.ts"
import { type Summary, summarize, time } from "./Stats.ts"
import * as Synthetic from "./Synthetic.ts"

/** Repetitions of each measurement. */
export interface BenchOptions {
  readonly steps: number
  readonly warmup: number
}

/** What one configuration measured (all times in ms, medians unless named). */
export interface BenchResult {
  readonly config: string
  readonly backend: string
  readonly threads: number
  readonly parameters: number
  readonly tokensPerStep: number
  readonly tokensPerSec: number
  readonly stepMs: Summary
  readonly forwardMs: number
  readonly backwardMs: number
  readonly optimizerMs: number
  readonly bareStepMs: Summary
  readonly overhead: number
  readonly effectiveGflops: number
  readonly matmulGflops: number
  readonly effectiveVsMatmul: number
  readonly peakRssMb: number
  readonly tensorsAlive: number
}

const gflops = (flop: number, ms: number) => flop / (ms / 1000) / 1e9

/** Best GFLOP/s of a plain NN matMul shaped like the model's FF input layer. */
const matmulRate = (c: BenchConfig, options: BenchOptions): number => {
  const m = c.batchSize * c.model.seqLen, k = c.model.dModel, n = Math.max(c.model.dFF, c.model.dModel)
  const a = tf.randomNormal([m, k]), b = tf.randomNormal([k, n])
  const s = time(() => tf.tidy(() => void tf.matMul(a, b).dataSync()), options.steps, options.warmup)
  tf.dispose([a, b])
  return gflops(2 * m * k * n, s.min)
}

/** Runs one configuration on the current backend. */
export const run = (c: BenchConfig, options: BenchOptions, backend: { name: string; threads: number }) =>
  Effect.gen(function*() {
    const model = Model.make(c.model)
    const stream = Synthetic.stream(c.batchSize, c.model.seqLen, c.model.vocabSize)
    const probe = Model.toTensors(stream.next())
    const targets = probe.targetIds.shape[0]
    const tokens = c.batchSize * c.model.seqLen
    const flop = Model.flops(c.model, c.batchSize, targets).forwardBackward

    // the framework: Trainer over TrainLoop with an Adam from the optim plugin, events in memory
    const loop = TrainLoop.make(model, adam({ lr: 1e-3 }), model.init(Key.make(1)))
    const { bus, events } = Events.memory()
    const cfg = { batchSize: c.batchSize, evalEvery: 0, evalBatches: 1, logEvery: 1, checkpointEvery: 0 }
    yield* Trainer.train({ loop, stream, evalSet: [], config: { ...cfg, steps: options.warmup } })
      .pipe(Effect.provideService(Events, bus))
    events.length = 0
    yield* Trainer.train({ loop, stream, evalSet: [], config: { ...cfg, steps: options.warmup + options.steps }, from: options.warmup })
      .pipe(Effect.provideService(Events, bus))
    const stepMs = summarize(events.flatMap((e) => (e._tag === "TrainStep" ? [e.ms] : [])))

    // breakdown: forward alone, forward + backward, the rest is the optimizer and assignment
    const vars = Object.values(loop.params)
    const fwd = time(() => tf.tidy(() => void model.loss(loop.params, probe).dataSync()), options.steps, 1)
    const fb = time(() => tf.tidy(() => {
      const { value } = tf.variableGrads(() => model.loss(loop.params, probe), vars)
      value.dataSync()
    }), options.steps, 1)
    loop.dispose()

    // the bare loop
    const bare = BareLoop.make(model, Key.make(1))
    const bareStepMs = time(() => {
      const b = Model.toTensors(stream.next())
      bare.step(b)
      Model.disposeBatch(b)
    }, options.steps, options.warmup)
    bare.dispose()
    Model.disposeBatch(probe)

    const mm = matmulRate(c, options)
    const eff = gflops(flop, stepMs.median)
    const result: BenchResult = {
      config: c.name,
      backend: backend.name,
      threads: backend.threads,
      parameters: model.parameterCount,
      tokensPerStep: tokens,
      tokensPerSec: tokens / (stepMs.median / 1000),
      stepMs,
      forwardMs: fwd.median,
      backwardMs: Math.max(0, fb.median - fwd.median),
      optimizerMs: Math.max(0, stepMs.median - fb.median),
      bareStepMs,
      overhead: stepMs.median / bareStepMs.median - 1,
      effectiveGflops: eff,
      matmulGflops: mm,
      effectiveVsMatmul: eff / mm,
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      tensorsAlive: tf.memory().numTensors
    }
    return result
  })
