import { describe, expect, it } from "@effect/vitest"
import { Key, RunError } from "@rekindle/core"
import { Backends } from "@rekindle/engine"
import { Model } from "@rekindle/model"
import { adam } from "@rekindle/plugin-optim"
import * as tf from "@tensorflow/tfjs-core"
import { Effect, Exit } from "effect"
import { EventBus } from "@rekindle/core"
import { Trainer, TrainLoop } from "@rekindle/loop"
import { countingStream } from "./Synthetic.ts"

const config = {
  dModel: 32, heads: 2, layers: 1, dFF: 64, seqLen: 12, vocabSize: 29,
  activation: "relu", ffBias: false, causal: false, finalLayerNorm: true
} as const

const setup = (lr = 3e-3) => {
  const model = Model.make(config)
  const loop = TrainLoop.make(model, adam({ lr }), model.init(Key.make(1)))
  const stream = countingStream({ batchSize: 8, seqLen: config.seqLen, vocabSize: config.vocabSize, seed: 2 })
  const evalSet = [0, 1].map(() => Model.toTensors(countingStream({ batchSize: 8, seqLen: config.seqLen, vocabSize: config.vocabSize, seed: 99 }).next()))
  return { model, loop, stream, evalSet }
}

describe("Trainer", () => {
  it.effect("learns a counting task and reports the planned events", () =>
    Effect.gen(function*() {
      yield* Backends.init({ name: "cpu" }, [])
      const { loop, stream, evalSet } = setup()
      const { bus, events } = EventBus.memory()
      const result = yield* Trainer.train({
        loop, stream, evalSet,
        config: { steps: 120, batchSize: 8, evalEvery: 40, evalBatches: 2, logEvery: 20, checkpointEvery: 0 }
      }).pipe(Effect.provideService(EventBus, bus))
      const steps = events.filter((e) => e._tag === "TrainStep").map((e) => e.step)
      const evals = events.filter((e) => e._tag === "Eval")
      expect(steps).toEqual([20, 40, 60, 80, 100, 120])
      expect(evals.map((e) => e.step)).toEqual([0, 40, 80, 120])
      const firstEval = evals[0]!._tag === "Eval" ? evals[0]!.loss : NaN
      expect(result.finalEvalLoss).toBeDefined()
      expect(result.finalEvalLoss!).toBeLessThan(firstEval * 0.8)
      expect(result.finalEvalLoss!).toBeLessThan(Math.log(config.vocabSize) * 0.6)
      loop.dispose()
      evalSet.forEach(Model.disposeBatch)
    }))

  it.effect("keeps the tensor count flat between step 10 and step 200", () =>
    Effect.gen(function*() {
      yield* Backends.init({ name: "cpu" }, [])
      const { loop, stream, evalSet } = setup()
      const { bus } = EventBus.memory()
      const cfg = { batchSize: 8, evalEvery: 50, evalBatches: 2, logEvery: 5, checkpointEvery: 0 }
      yield* Trainer.train({ loop, stream, evalSet, config: { ...cfg, steps: 10 } }).pipe(Effect.provideService(EventBus, bus))
      const at10 = tf.memory().numTensors
      yield* Trainer.train({ loop, stream, evalSet, config: { ...cfg, steps: 200 }, from: 10 }).pipe(Effect.provideService(EventBus, bus))
      expect(tf.memory().numTensors).toBe(at10)
      loop.dispose()
      evalSet.forEach(Model.disposeBatch)
    }))

  it.effect("stops with a RunError naming the first non-finite parameter", () =>
    Effect.gen(function*() {
      yield* Backends.init({ name: "cpu" }, [])
      const { loop, stream, evalSet } = setup()
      const { bus, events } = EventBus.memory()
      const w = loop.params["layers.0.ff.win"]!
      w.assign(tf.fill(w.shape, Number.NaN))
      const exit = yield* Trainer.train({
        loop, stream, evalSet,
        config: { steps: 5, batchSize: 8, evalEvery: 0, evalBatches: 1, logEvery: 1, checkpointEvery: 0 }
      }).pipe(Effect.provideService(EventBus, bus), Effect.exit)
      expect(Exit.isFailure(exit)).toBe(true)
      const error = Exit.isFailure(exit) ? exit.cause.toString() : ""
      expect(error).toContain("step 1")
      expect(error).toContain("layers.0.ff.win")
      expect(events.filter((e) => e._tag === "TrainStep")).toHaveLength(0)
      expect(RunError).toBeDefined()
      loop.dispose()
      evalSet.forEach(Model.disposeBatch)
    }))
})
