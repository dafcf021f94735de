/**
 * One benchmark configuration end to end: the framework's step loop (Trainer + TrainLoop + an
 * optimizer plugin, events to the real `log/jsonl` sink in a temporary run folder), a breakdown
 * of a step (forward, backward, optimizer update, logging, the rest), the bare TF.js loop, one
 * recycling event (magnitude-smallest 5% per layer + initial + zero-moments), one run of the
 * three probes at their default cadence, the end-to-end cost of gradient signals accumulated at
 * every step (a taylor / snip criterion against one that needs none, SignalsEndToEnd.ts),
 * the best plain matMul rate of the backend, memory and live tensors.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { NodeServices } from "@effect/platform-node"
import "@rekindle/engine/Gradients"
import { EventBus, Key, RunLocation } from "@rekindle/core"
import type { BatchStream } from "@rekindle/data"
import { Model } from "@rekindle/model"
import { Jsonl } from "@rekindle/plugin-log"
import { adam } from "@rekindle/plugin-optim"
import { Probes } from "@rekindle/plugin-probe"
import { initial } from "@rekindle/plugin-reinit"
import { magnitudeSmallest } from "@rekindle/plugin-select"
import * as Recycling from "@rekindle/recycling"
import { ProbeHook, Trainer, TrainLoop } from "@rekindle/training"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import * as BareLoop from "./BareLoop.ts"
import * as SignalsEndToEnd from "./SignalsEndToEnd.ts"
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
  /** Forward pass and loss readback, timed alone. */
  readonly forwardMs: number
  /** Forward + backward, timed alone, minus {@link forwardMs}. */
  readonly backwardMs: number
  /** The optimizer's `update` over every parameter plus the parameter assignment, timed alone. */
  readonly optimizerMs: number
  /** Step − forward − backward − optimizer − logging: the trainer's own work, data and readback (≥ 0). */
  readonly otherMs: number
  /** Time in the event bus (the jsonl sink) per step (events at every step). */
  readonly loggingMs: number
  /**
   * One run of `probe/magnitudes`, `probe/recycle-counts` and `probe/activations` (the activation
   * statistics need a forward pass on the probe batch) with their events to the jsonl sink.
   */
  readonly probesMs: Summary
  /** Probes at their default cadence (every {@link Probes.defaultEvery} steps) plus logging at every step, as a fraction of the step. */
  readonly probesAndSinksVsStep: number
  /** One recycling event (5% of every FF layer: select, reinit, reset moments). */
  readonly recyclingMs: Summary
  readonly recyclingVsStep: number
  /** Trainer steps with select/taylor (select/snip) reading its signal accumulated at every step, against a criterion needing none, interleaved (SignalsEndToEnd.ts). */
  readonly gradientSignals: SignalsEndToEnd.EndToEndCost
  readonly bareStepMs: Summary
  readonly overhead: number
  readonly effectiveGflops: number
  readonly matmulGflops: number
  readonly effectiveVsMatmul: number
  /**
   * The plain product of the model's FF shape timed once after every timed step pair (the same
   * moments of the machine's load as the steps): its median rate, and the step's effective rate
   * (median) over it. On a shared machine this ratio, median over median in one process, is the
   * trustworthy one; `effectiveVsMatmul` compares the median step with the best product.
   */
  readonly matmulGflopsInterleaved: number
  readonly effectiveVsMatmulInterleaved: number
  /** The 1-minute load average before and after the timed steps (os.loadavg). */
  readonly loadAverage: readonly [number, number]
  readonly peakRssMb: number
  readonly tensorsAlive: number
}

const gflops = (flop: number, ms: number) => flop / (ms / 1000) / 1e9

/**
 * Best GFLOP/s of a plain NN matMul on this backend now: the model's FF input product and the
 * reference [2048,256]x[256,1024], min of at least 10 repetitions each (a weight-cached, packed
 * right operand: XNNPACK's best case). The pure-JS cpu backend measures the model's shape only
 * (the reference product takes seconds there).
 */
const matmulRate = (c: BenchConfig, options: BenchOptions, backend: string): number => {
  const shapes: Array<[number, number, number]> = [
    [c.batchSize * c.model.seqLen, c.model.dModel, Math.max(c.model.dFF, c.model.dModel)],
    ...(backend === "cpu" ? [] : [[2048, 256, 1024] as [number, number, number]])
  ]
  let best = 0
  for (const [m, k, n] of shapes) {
    const a = tf.randomNormal([m, k]), b = tf.randomNormal([k, n])
    const s = time(() => tf.tidy(() => void tf.matMul(a, b).dataSync()), Math.max(10, options.steps), 2)
    tf.dispose([a, b])
    best = Math.max(best, gflops(2 * m * k * n, s.min))
  }
  return best
}

/** The recycling stage the benchmark fires: magnitude-smallest 5% per layer + initial + zero-moments, every step. */
const recyclingStage: Recycling.Stage.Stage = {
  index: 0,
  schedule: { every: 1, from: 0 },
  criterion: { id: "select/magnitude-smallest", criterion: magnitudeSmallest() },
  fraction: 0.05,
  scope: "per-layer",
  reinit: { id: "reinit/initial", reinitializer: initial() },
  optimizerState: "zero-moments",
  immunity: 0,
  shadow: []
}

/** An event bus over the real jsonl sink in a fresh temporary folder, timing every emit. */
export const timedJsonlBus = Effect.gen(function*() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-bench-"))
  const sink = yield* Jsonl.make({ file: "events.jsonl" }).pipe(Effect.provide(RunLocation.layer(dir)))
  const bus = yield* EventBus.make([sink])
  const timing = { ms: 0, events: 0 }
  const timed = EventBus.of({
    emit: (event) =>
      Effect.suspend(() => {
        const t0 = performance.now()
        return bus.emit(event).pipe(Effect.ensuring(Effect.sync(() => {
          timing.ms += performance.now() - t0
          timing.events++
        })))
      }),
    flush: bus.flush
  })
  return { bus: timed, timing, dir }
})

/**
 * The framework's training step as the benchmark times it: the Trainer over a TrainLoop with an
 * Adam from the optim plugin (lr 1e-3, initial parameters from key 1), logging every step to `bus`.
 * `step(s)` runs step s as one `Trainer.train` call from s to s + 1.
 */
export const frameworkSteps = (model: Model.Transformer, c: BenchConfig, stream: BatchStream, bus: EventBus["Service"]) => {
  const loop = TrainLoop.make(model, adam({ lr: 1e-3 }), model.init(Key.make(1)))
  const cfg = { batchSize: c.batchSize, evalEvery: 0, evalBatches: 1, logEvery: 1, checkpointEvery: 0 }
  const step = (s: number) =>
    Trainer.train({ loop, stream, evalSet: [], config: { ...cfg, steps: s + 1 }, from: s }).pipe(Effect.provideService(EventBus, bus))
  return { loop, step }
}

/** Repetitions of the per-event measurements (recycling, probes): 3 to 5. */
const eventReps = (options: BenchOptions): number => Math.max(3, Math.min(options.steps, 5))

/** Times one recycling event on the loop's state (the stage fires at every step). */
const recyclingEvent = (model: Model.Transformer, loop: TrainLoop.TrainLoop, probe: Model.BatchTensors, options: BenchOptions): Summary => {
  const r = Recycling.Recycler.make({ model, stages: [recyclingStage], key: Key.make(7), probe })
  let s = 0
  const fire = () => {
    const out = r.runDue(s++, { params: loop.params, opt: loop.optState(), optimizer: loop.optimizer })
    if (out.opt !== loop.optState()) loop.setOptState(out.opt)
  }
  // three untimed events first: a run's first events also settle per-shape choices for the
  // event's own shapes (the kernel helper's Adaptive chooser times each new call shape a few times)
  const summary = time(fire, eventReps(options), 3)
  r.dispose()
  return summary
}

/**
 * Times the optimizer alone: `update` over gradients of every parameter (taken once) from the
 * loop's current state, plus `param + update` for each (what the loop assigns). Nothing is
 * committed; one element is read back so that asynchronous backends finish.
 */
const optimizerUpdate = (loop: TrainLoop.TrainLoop, batch: Model.BatchTensors, options: BenchOptions): number => {
  const vars = Object.values(loop.params)
  const grads = tf.tidy(() => {
    const { grads } = tf.variableGrads(() => loop.model.loss(loop.params, batch), vars)
    return Object.fromEntries(Object.entries(loop.params).map(([n, v]) => [n, grads[v.name]!]))
  })
  const s = time(() => tf.tidy(() => {
    const [updates] = loop.optimizer.update(grads, loop.optState(), loop.params)
    const next = Object.entries(loop.params).map(([n, p]) => tf.add(p, updates[n]!))
    next[next.length - 1]!.dataSync()
  }), options.steps, 1)
  tf.dispose(Object.values(grads))
  return s.median
}

/** Times one run of the three probes (activations included) with their events to the sink. */
const probeRun = (model: Model.Transformer, loop: TrainLoop.TrainLoop, batch: Model.BatchTensors, options: BenchOptions) =>
  Effect.gen(function*() {
    const every = Probes.defaultEvery
    const hook = ProbeHook.make({
      model,
      batch,
      probes: [
        { id: "probe/magnitudes", probe: Probes.magnitudes({ every, bins: Probes.defaultBins }) },
        { id: "probe/recycle-counts", probe: Probes.recycleCounts({ every }) },
        { id: "probe/activations", probe: Probes.activations({ every, bins: Probes.defaultBins, maxPoints: 1024 }) }
      ]
    })
    const times: Array<number> = []
    for (let i = 0; i < eventReps(options) + 1; i++) {
      const t0 = performance.now()
      yield* hook.before(0, loop)
      if (i > 0) times.push(performance.now() - t0)
    }
    return summarize(times)
  })

/** Runs one configuration on the current backend. */
export const run = (c: BenchConfig, options: BenchOptions, backend: { name: string; threads: number }) =>
  Effect.gen(function*() {
    const model = Model.make(c.model)
    const stream = Synthetic.stream(c.batchSize, c.model.seqLen, c.model.vocabSize)
    const probe = Model.toTensors(stream.next())
    const targets = probe.targetIds.shape[0]
    const tokens = c.batchSize * c.model.seqLen
    const flop = Model.flops(c.model, c.batchSize, targets).forwardBackward

    const { bus, timing, dir } = yield* timedJsonlBus
    const { loop, step: frameworkStep } = frameworkSteps(model, c, stream, bus)
    // the bare loop, interleaved step by step with the framework (the machine's load drifts)
    const bare = BareLoop.make(model, Key.make(1))
    const bareStep = () => {
      const b = Model.toTensors(stream.next())
      bare.step(b)
      Model.disposeBatch(b)
    }
    const frameworkTimes: Array<number> = []
    const bareTimes: Array<number> = []
    const [pm, pk, pn] = [c.batchSize * c.model.seqLen, c.model.dModel, Math.max(c.model.dFF, c.model.dModel)]
    const pa = tf.randomNormal([pm, pk]), pb = tf.randomNormal([pk, pn])
    const plainTimes: Array<number> = []
    let loadBefore = os.loadavg()[0]!
    for (let s = 0; s < options.warmup + options.steps; s++) {
      if (s === options.warmup) {
        timing.ms = 0
        timing.events = 0
        loadBefore = os.loadavg()[0]!
      }
      // alternate which of the two goes first, so that neither always pays for the other's garbage
      const timedFramework = Effect.gen(function*() {
        const t0 = performance.now()
        yield* frameworkStep(s)
        return performance.now() - t0
      })
      const timedBare = () => {
        const t0 = performance.now()
        bareStep()
        return performance.now() - t0
      }
      let frameworkMs: number
      let bareMs: number
      if (s % 2 === 0) {
        frameworkMs = yield* timedFramework
        bareMs = timedBare()
      } else {
        bareMs = timedBare()
        frameworkMs = yield* timedFramework
      }
      if (s >= options.warmup) {
        frameworkTimes.push(frameworkMs)
        bareTimes.push(bareMs)
        const t0 = performance.now()
        tf.tidy(() => void tf.matMul(pa, pb).dataSync())
        plainTimes.push(performance.now() - t0)
      }
    }
    const loadAfter = os.loadavg()[0]!
    tf.dispose([pa, pb])
    bare.dispose()
    const loggingMs = timing.ms / options.steps
    const stepMs = summarize(frameworkTimes)
    const bareStepMs = summarize(bareTimes)

    // breakdown: forward alone, forward + backward, the rest is the optimizer and assignment
    const vars = Object.values(loop.params)
    const fwd = time(() => tf.tidy(() => void model.loss(loop.params, probe).dataSync()), options.steps, 1)
    const fb = time(() => tf.tidy(() => {
      const { value } = tf.variableGrads(() => model.loss(loop.params, probe), vars)
      value.dataSync()
    }), options.steps, 1)
    const optimizerMs = optimizerUpdate(loop, probe, options)
    const probesMs = yield* probeRun(model, loop, probe, options).pipe(Effect.provideService(EventBus, bus))
    const recyclingMs = recyclingEvent(model, loop, probe, options)
    loop.dispose()
    const gradientSignals = yield* SignalsEndToEnd.measure(c, options.steps, options.warmup)

    Model.disposeBatch(probe)

    const mm = matmulRate(c, options, backend.name)
    const eff = gflops(flop, stepMs.median)
    const mmInterleaved = gflops(2 * pm * pk * pn, summarize(plainTimes).median)
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
      optimizerMs,
      otherMs: Math.max(0, stepMs.median - loggingMs - fb.median - optimizerMs),
      loggingMs,
      probesMs,
      probesAndSinksVsStep: (probesMs.median / Probes.defaultEvery + loggingMs) / stepMs.median,
      recyclingMs,
      recyclingVsStep: recyclingMs.median / stepMs.median,
      gradientSignals,
      bareStepMs,
      // the median of the paired ratios: each framework step against the bare step right after it
      overhead: summarize(frameworkTimes.map((f, i) => f / bareTimes[i]!)).median - 1,
      effectiveGflops: eff,
      matmulGflops: mm,
      effectiveVsMatmul: eff / mm,
      matmulGflopsInterleaved: mmInterleaved,
      effectiveVsMatmulInterleaved: eff / mmInterleaved,
      loadAverage: [loadBefore, loadAfter],
      peakRssMb: process.resourceUsage().maxRSS / 1024,
      tensorsAlive: tf.memory().numTensors
    }
    return result
  }).pipe(Effect.scoped, Effect.provide(NodeServices.layer))
