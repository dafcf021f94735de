import { describe, expect, it } from "@effect/vitest"
import { type Event, Key, Topology } from "@rekindle/core"
import { Backends } from "@rekindle/engine"
import { adam } from "@rekindle/plugin-optim"
import { magnitudeLargest, magnitudeSmallest, random } from "@rekindle/plugin-select"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { EventBus, type StepHook } from "@rekindle/core"
import { Measure } from "@rekindle/model"
import { Retrain } from "@rekindle/plugin-hooks"
import { Trainer } from "@rekindle/loop"
import { changedSlices, config, setup, snapshot, trainConfig } from "./fixtures.ts"

const criteria = {
  smallest: { id: "select/magnitude-smallest", criterion: magnitudeSmallest() },
  largest: { id: "select/magnitude-largest", criterion: magnitudeLargest() },
  random: { id: "select/random", criterion: random() }
} as const

const retrainOf = (subset: Retrain.Subset, then: "continue" | "stop" = "continue"): Retrain.Retrain => ({
  at: 6,
  steps: 5,
  subset,
  fraction: 0.25,
  then,
  lr: 1e-2,
  optimizer: adam({ lr: 1e-2 }),
  ...(subset !== "all" ? { criterion: criteria[subset] } : {})
})

/** A hook recording every parameter's values and the optimizer's name before each step. */
const recorder = (record: Array<{ params: Record<string, Float32Array>; optimizer: string; count: number }>): StepHook => ({
  before: (step, loop) => Effect.sync(() => {
    record[step] = { params: snapshot(loop.params), optimizer: loop.optimizer.name, count: loop.optState().count }
    return undefined
  })
})

describe("retraining a subset", () => {
  for (const subset of ["smallest", "largest", "random", "all"] as const) {
    it.effect(`${subset}: inside the window only the chosen neurons' slices move, under the fresh optimizer; then training continues`, () =>
      Effect.gen(function*() {
        yield* Backends.init({ name: "cpu" }, [])
        const s = setup()
        const retrain = retrainOf(subset)
        const retrainer = Retrain.make({ retrain, topology: s.model.topology, key: Key.make(1) })
        const record: Array<{ params: Record<string, Float32Array>; optimizer: string; count: number }> = []
        const { bus, events } = EventBus.memory()
        let magnitudesAtStart: Array<Float32Array> = []
        const measure: StepHook = {
          before: (step, loop) => Effect.sync(() => {
            if (step === 6) magnitudesAtStart = Measure.magnitudes(s.model.topology, loop.params)
            return undefined
          })
        }
        const mainName = s.loop.optimizer.name
        yield* Trainer.train({ loop: s.loop, stream: s.stream, evalSet: s.evalSet, config: trainConfig(14), hooks: [measure, Retrain.hook(retrainer), recorder(record)] })
          .pipe(Effect.provideService(EventBus, bus))
        const starts = events.filter((e): e is Event.EventOf<"Retrain"> => e._tag === "Retrain")
        expect(starts.map((e) => [e.step, e.until, e.layer])).toEqual([[6, 11, 0], [6, 11, 1]])
        const k = subset === "all" ? config.dFF : 6
        for (const e of starts) expect(e.indices).toHaveLength(k)
        if (subset === "smallest" || subset === "largest") {
          for (const e of starts) {
            const m = magnitudesAtStart[e.layer]!
            const chosen = new Set(e.indices)
            const sorted = [...m.keys()].sort((a, b) => (subset === "smallest" ? m[a]! - m[b]! : m[b]! - m[a]!))
            expect(new Set(sorted.slice(0, k))).toEqual(chosen)
          }
        }
        // optimizer: the main one before and after, the fresh one (restarting its count) inside
        expect(record[5]!.optimizer).toBe(mainName)
        expect(record[7]!.optimizer).toBe(retrain.optimizer.name)
        expect(record[7]!.count).toBe(1)
        expect(record[12]!.optimizer).toBe(mainName)
        expect(record[12]!.count).toBe(12)
        // inside the window [6, 11): only chosen slices of FF neuron parameters move
        const neuronParams = new Set(Topology.neuronParams(s.model.topology))
        const a = record[6]!.params, b = record[11]!.params
        for (const name of Object.keys(a)) {
          const same = a[name]!.every((x, i) => x === b[name]![i])
          if (!neuronParams.has(name)) expect([name, same]).toEqual([name, true])
        }
        s.model.topology.layers.forEach((l, p) => {
          const chosen = starts[p]!.indices
          for (const slice of l.slices) {
            const moved = changedSlices(a[slice.param]!, b[slice.param]!, s.loop.params[slice.param]!.shape, slice.axis)
            for (const i of moved) expect(chosen).toContain(i)
            expect(moved.length).toBeGreaterThan(k / 2)
          }
        })
        // after the window everything trains again
        const c = record[13]!.params
        expect(c["embed.token"]!.some((x, i) => x !== b["embed.token"]![i])).toBe(true)
        retrainer.dispose()
        s.dispose()
      }))
  }

  it("a run that stops after retraining is at + steps long", () => {
    expect(Retrain.runLength(retrainOf("all", "stop"), 100)).toBe(11)
    expect(Retrain.runLength(retrainOf("all", "continue"), 100)).toBe(100)
    expect(Retrain.runLength(undefined, 100)).toBe(100)
  })

  it.effect("no tensors leak over a retraining window (continue) or when the run ends inside it", () =>
    Effect.gen(function*() {
      yield* Backends.init({ name: "cpu" }, [])
      for (const then of ["continue", "stop"] as const) {
        const start = tf.memory().numTensors
        const s = setup()
        const retrainer = Retrain.make({ retrain: retrainOf("random", then), topology: s.model.topology, key: Key.make(1) })
        const { bus } = EventBus.memory()
        yield* Trainer.train({ loop: s.loop, stream: s.stream, evalSet: s.evalSet, config: trainConfig(then === "stop" ? 11 : 14), hooks: [Retrain.hook(retrainer)] })
          .pipe(Effect.provideService(EventBus, bus))
        retrainer.dispose()
        s.dispose()
        expect(tf.memory().numTensors).toBe(start)
      }
    }))
})
