import { describe, expect, it } from "@effect/vitest"
import { Event, Key, type Probe, type ProbeContext } from "@rekindle/core"
import { Backends } from "@rekindle/engine"
import { Model } from "@rekindle/model"
import { adam } from "@rekindle/plugin-optim"
import * as tf from "@tensorflow/tfjs-core"
import { Effect, Exit } from "effect"
import { EventBus } from "@rekindle/core"
import { Measure } from "@rekindle/model"
import * as ProbeHook from "../../src/probes/Hook.ts"
import { Trainer, TrainLoop } from "@rekindle/loop"
import { Probes } from "@rekindle/plugin-probe"
import { taylor } from "@rekindle/plugin-signal"
import { SignalHook, SignalHost } from "@rekindle/recycling"
import { countingStream } from "../Synthetic.ts"

const config = {
  dModel: 16, heads: 2, layers: 2, dFF: 24, seqLen: 8, vocabSize: 23,
  activation: "relu", ffBias: false, causal: false, finalLayerNorm: true
} as const

const setup = () => {
  const model = Model.make(config)
  const loop = TrainLoop.make(model, adam({ lr: 3e-3 }), model.init(Key.make(1)))
  const stream = countingStream({ batchSize: 4, seqLen: config.seqLen, vocabSize: config.vocabSize, seed: 2 })
  const probeBatch = Model.toTensors(countingStream({ batchSize: 4, seqLen: config.seqLen, vocabSize: config.vocabSize, seed: 9 }).next())
  return { model, loop, stream, probeBatch }
}

/** A probe that records what it saw and reports each layer's mean magnitude. */
const recording = (every: number, activations: boolean) => {
  const seen: Array<ProbeContext> = []
  const probe: Probe = {
    every,
    needs: { activations },
    run: (ctx) => {
      seen.push(ctx)
      return ctx.signals.layers.map((l) =>
        Event.Scalar.make({ step: ctx.step, probe: "test", name: "mean", layer: l.layer, value: l.magnitude.reduce((a, b) => a + b, 0) / l.dFF })
      )
    }
  }
  return { probe, seen }
}

const trainConfig = (steps: number) => ({ steps, batchSize: 4, evalEvery: 0, evalBatches: 0, logEvery: 5, checkpointEvery: 0 })

describe("probe hook", () => {
  it.effect("runs each probe before steps 0, N, 2N, … and once at the end, with measured signals", () =>
    Effect.gen(function*() {
      yield* Backends.init({ name: "cpu" }, [])
      const { model, loop, stream, probeBatch } = setup()
      const a = recording(4, false)
      const b = recording(5, true)
      const hook = ProbeHook.make({ model, probes: [{ id: "a", probe: a.probe }, { id: "b", probe: b.probe }], batch: probeBatch })
      const { bus, events } = EventBus.memory()
      yield* Trainer.train({ loop, stream, evalSet: [], config: trainConfig(10), hooks: [hook] }).pipe(
        Effect.tap(() => hook.end(loop)),
        Effect.provideService(EventBus, bus)
      )
      expect(a.seen.map((c) => c.step)).toEqual([0, 4, 8, 10])
      expect(b.seen.map((c) => c.step)).toEqual([0, 5, 10]) // 10 = the end, once only
      expect(hook.ranAt()).toEqual([0, 4, 5, 8, 10])
      // weight signals always; activation statistics only for a probe that needs them
      expect(a.seen[1]!.signals.layers[0]!.activations).toBeUndefined()
      const acts = b.seen[1]!.signals.layers[1]!.activations!
      expect(acts.firingRate.length).toBe(config.dFF)
      expect(acts.firingRate.every((f) => f >= 0 && f <= 1)).toBe(true)
      // the last probe run measured the final parameters
      const final = Measure.magnitudes(model.topology, loop.params)
      const last = events.filter((e) => e._tag === "Scalar" && e.step === 10 && e.probe === "test" && e.layer === 1)
      expect(last).toHaveLength(2)
      const want = final[1]!.reduce((x, y) => x + y, 0) / config.dFF
      for (const e of last) expect(e._tag === "Scalar" && e.value).toBeCloseTo(want, 5)
      // no lineage given: nobody was recycled
      expect(Array.from(a.seen[0]!.lineage.resets[0]!)).toEqual(new Array(config.dFF).fill(0))
      loop.dispose()
      Model.disposeBatch(probeBatch)
    }))

  it.effect("keeps the tensor count flat", () =>
    Effect.gen(function*() {
      yield* Backends.init({ name: "cpu" }, [])
      const { model, loop, stream, probeBatch } = setup()
      const hook = ProbeHook.make({ model, probes: [{ id: "b", probe: recording(1, true).probe }], batch: probeBatch })
      const { bus } = EventBus.memory()
      yield* hook.before(0, loop).pipe(Effect.provideService(EventBus, bus))
      const before = tf.memory().numTensors
      yield* Trainer.train({ loop, stream, evalSet: [], config: trainConfig(6), hooks: [hook] }).pipe(Effect.provideService(EventBus, bus))
      expect(tf.memory().numTensors).toBe(before)
      loop.dispose()
      Model.disposeBatch(probeBatch)
    }))

  it.effect("a probe that throws fails the run with a RunError naming it and the step", () =>
    Effect.gen(function*() {
      yield* Backends.init({ name: "cpu" }, [])
      const { model, loop, stream } = setup()
      const bad: Probe = { every: 3, needs: { activations: false }, run: (ctx) => { if (ctx.step === 3) throw new Error("boom"); return [] } }
      const needy: Probe = { every: 100, needs: { activations: true }, run: () => [] }
      const { bus } = EventBus.memory()
      const exit = yield* Trainer.train({ loop, stream, evalSet: [], config: trainConfig(6), hooks: [ProbeHook.make({ model, probes: [{ id: "bad", probe: bad }] })] }).pipe(
        Effect.provideService(EventBus, bus),
        Effect.exit
      )
      expect(Exit.isFailure(exit) && exit.cause.toString()).toMatch(/probe bad failed: boom/)
      expect(loop.stepsDone()).toBe(3)
      const noBatch = yield* ProbeHook.make({ model, probes: [{ id: "needy", probe: needy }] }).before(0, loop).pipe(Effect.provideService(EventBus, bus), Effect.exit)
      expect(Exit.isFailure(noBatch) && noBatch.cause.toString()).toMatch(/needy needs activations/)
      loop.dispose()
    }))

  it.effect("on SwiGLU layers: the built-in probes report, and a probe's declared signal arrives through the signal host", () =>
    Effect.gen(function*() {
      yield* Backends.init({ name: "cpu" }, [])
      const glu = { ...config, activation: "swiglu" as const, ffBias: true }
      const model = Model.make(glu)
      const loop = TrainLoop.make(model, adam({ lr: 3e-3 }), model.init(Key.make(1)))
      const stream = countingStream({ batchSize: 4, seqLen: glu.seqLen, vocabSize: glu.vocabSize, seed: 2 })
      const probeBatch = Model.toTensors(countingStream({ batchSize: 4, seqLen: glu.seqLen, vocabSize: glu.vocabSize, seed: 9 }).next())
      const seen: Array<Float32Array> = []
      const reader: Probe = {
        every: 4,
        needs: { activations: false },
        signals: { taylor: { use: "signal/taylor", window: { kind: "mean" } } },
        run: (ctx) => {
          seen.push(ctx.signals.layers[1]!.values!.taylor!)
          return []
        }
      }
      const host = SignalHost.make({
        topology: model.topology,
        config: model.config,
        bound: [{ consumer: "probes.2", name: "taylor", id: "signal/taylor", key: "signal/taylor {}", signal: taylor(), window: { kind: "mean" }, every: 1 }]
      })
      const hook = ProbeHook.make({
        model,
        batch: probeBatch,
        signals: host,
        probes: [
          { id: "probe/magnitudes", probe: Probes.magnitudes({ every: 4, bins: 8 }) },
          { id: "probe/activations", probe: Probes.activations({ every: 4, bins: 8, maxPoints: 0 }) },
          { id: "reader", probe: reader }
        ]
      })
      const { bus, events } = EventBus.memory()
      yield* Trainer.train({ loop, stream, evalSet: [], config: trainConfig(8), hooks: [hook, SignalHook.hook(host)] }).pipe(
        Effect.tap(() => hook.end(loop)),
        Effect.provideService(EventBus, bus)
      )
      const histograms = events.filter((e) => e._tag === "Histogram")
      expect(new Set(histograms.map((e) => e._tag === "Histogram" && e.name))).toEqual(new Set(["magnitude", "firing-rate", "mean-abs-activation"]))
      expect(histograms.every((e) => e._tag === "Histogram" && e.counts.reduce((a, b) => a + b, 0) === glu.dFF)).toBe(true)
      // step 0: no observation yet (zeros); steps 4 and 8: the mean of the 4 steps since the last read
      expect(seen.map((v) => v.length)).toEqual([glu.dFF, glu.dFF, glu.dFF])
      expect(seen[0]!.every((x) => x === 0)).toBe(true)
      expect(seen[1]!.some((x) => x > 0) && seen[2]!.some((x) => x > 0)).toBe(true)
      host.dispose()
      loop.dispose()
      Model.disposeBatch(probeBatch)
    }))
})
