/** The recycler wired into the real Trainer through its step hook. */
import { describe, expect, it } from "@effect/vitest"
import { Key } from "@rekindle/core"
import { Backends } from "@rekindle/engine"
import { Model } from "@rekindle/model"
import { adamw } from "@rekindle/plugin-optim"
import { smooth, zeroOutgoing } from "@rekindle/plugin-reinit"
import { dormant, magnitudeSmallest } from "@rekindle/plugin-select"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { EventBus } from "@rekindle/core"
import { hook, Recycler } from "@rekindle/recycling"
import { Trainer, TrainLoop } from "@rekindle/loop"
import { countingStream } from "../Synthetic.ts"
import { stage } from "./helpers.ts"

const config = {
  dModel: 16, heads: 2, layers: 2, dFF: 32, seqLen: 8, vocabSize: 21,
  activation: "relu", ffBias: true, causal: false, finalLayerNorm: true
} as const

describe("recycling hook", () => {
  it.effect("recycles during training: events, optimizer state installed, blends trained through, no tensor growth", () =>
    Effect.gen(function*() {
      yield* Backends.init({ name: "cpu" }, [])
      const model = Model.make(config)
      const loop = TrainLoop.make(model, adamw({ lr: 3e-3 }), model.init(Key.make(1)))
      const stream = countingStream({ batchSize: 4, seqLen: config.seqLen, vocabSize: config.vocabSize, seed: 2 })
      const evalSet = [Model.toTensors(countingStream({ batchSize: 4, seqLen: config.seqLen, vocabSize: config.vocabSize, seed: 9 }).next())]
      const recycler = Recycler.make({
        model,
        key: Key.make(1),
        probe: evalSet[0]!,
        stages: [
          stage({ schedule: { every: 10, from: 10 }, criterion: ["select/magnitude-smallest", magnitudeSmallest()], reinit: ["reinit/smooth", smooth({ steps: 5 })] }),
          stage({ index: 1, schedule: { every: 15, from: 15 }, criterion: ["select/dormant", dormant({ tau: 0.5, cap: true })], reinit: ["reinit/zero-outgoing", zeroOutgoing()], optimizerState: "zero-moments-and-step" })
        ]
      })
      const { bus, events } = EventBus.memory()
      const cfg = { batchSize: 4, evalEvery: 0, evalBatches: 1, logEvery: 5, checkpointEvery: 0 }
      const hooks = [hook(recycler)]
      yield* Trainer.train({ loop, stream, evalSet, config: { ...cfg, steps: 12 }, hooks }).pipe(Effect.provideService(EventBus, bus))
      const at12 = tf.memory().numTensors
      const result = yield* Trainer.train({ loop, stream, evalSet, config: { ...cfg, steps: 45 }, hooks, from: 12 }).pipe(Effect.provideService(EventBus, bus))
      expect(Number.isFinite(result.finalLoss)).toBe(true)
      const rec = events.filter((e) => e._tag === "Recycle")
      expect([...new Set(rec.map((e) => `${e.stage}@${e.step}`))]).toEqual(["0@10", "1@15", "0@20", "0@30", "1@30", "0@40"])
      expect(rec.filter((e) => e.stage === 0).every((e) => e.indices.length === 8)).toBe(true)
      expect(recycler.fired()).toEqual([4, 2])
      expect(tf.memory().numTensors).toBe(at12)
      recycler.dispose()
      loop.dispose()
      evalSet.forEach(Model.disposeBatch)
    }))

  it.effect("installs the reset optimizer state in the loop and returns the blend options", () =>
    Effect.gen(function*() {
      yield* Backends.init({ name: "cpu" }, [])
      const model = Model.make(config)
      const loop = TrainLoop.make(model, adamw({ lr: 3e-3 }), model.init(Key.make(1)))
      const stream = countingStream({ batchSize: 4, seqLen: config.seqLen, vocabSize: config.vocabSize, seed: 2 })
      for (let i = 0; i < 3; i++) {
        const b = Model.toTensors(stream.next())
        loop.step(b).dispose()
        Model.disposeBatch(b)
      }
      const recycler = Recycler.make({
        model,
        key: Key.make(1),
        stages: [stage({ schedule: { every: 3, from: 3 }, reinit: ["reinit/smooth", smooth({ steps: 4 })], optimizerState: "zero-moments-and-step" })]
      })
      const { bus, events } = EventBus.memory()
      const before = loop.optState()
      const options = yield* hook(recycler).before(3, loop).pipe(Effect.provideService(EventBus, bus))
      expect(loop.optState()).not.toBe(before)
      const e = events.find((x) => x._tag === "Recycle" && x.layer === 0)
      const chosen = e?._tag === "Recycle" ? e.indices : []
      expect(chosen).toHaveLength(8)
      for (const slot of ["adam.mu", "adam.nu", "adam.bc1", "adam.bc2"]) {
        const win = loop.optState().slots[slot]!["layers.0.ff.win"]!.arraySync() as Array<Array<number>>
        for (const row of win) for (const i of chosen) expect(row[i]).toBe(0)
        expect(win.flat().some((x) => x !== 0)).toBe(true)
      }
      const alpha = Array.from(options!.blend![0]!.alpha.dataSync())
      alpha.forEach((a, i) => expect(a).toBe(chosen.includes(i) ? 0 : 1))
      recycler.dispose()
      loop.dispose()
    }))
})
