import { describe, expect, it } from "@effect/vitest"
import { Event, Key } from "@rekindle/core"
import { Backends } from "@rekindle/engine"
import { Model } from "@rekindle/model"
import { sgd } from "@rekindle/plugin-optim"
import { dormant, magnitudeLargest, magnitudeSmallest, random } from "@rekindle/plugin-select"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { EventBus } from "@rekindle/core"
import { Measure } from "@rekindle/model"
import { Pruning } from "@rekindle/plugin-hooks"
import { Trainer } from "@rekindle/loop"
import { changedSlices, config, setup, snapshot, trainConfig } from "./fixtures.ts"

const schedule = { from: 4, until: 16, final: 0.5, every: 4 }

describe("gradual pruning", () => {
  it("ramps linearly from 0 at `from` to `final` at `until`, updating every `every` steps and at `until`", () => {
    expect(Pruning.updateSteps(schedule, 40)).toEqual([4, 8, 12, 16])
    expect(Pruning.updateSteps({ ...schedule, every: 5 }, 40)).toEqual([4, 9, 14, 16])
    expect(Pruning.updateSteps(schedule, 10)).toEqual([4, 8])
    expect([0, 4, 8, 12, 16, 30].map((s) => Pruning.targetFraction(schedule, s))).toEqual([0, 0, 1 / 6, 2 / 6, 0.5, 0.5])
    expect([4, 8, 12, 16].map((s) => Pruning.prunedCount(schedule, s, 24))).toEqual([0, 4, 8, 12])
    expect(Pruning.targetFraction({ from: 5, until: 5, final: 0.3, every: 1 }, 5)).toBe(0.3)
    // pruning to 100%, as the reference study did: every neuron is gone at `until`
    expect([4, 10, 16].map((s) => Pruning.prunedCount({ ...schedule, final: 1 }, s, 24))).toEqual([0, 12, 24])
  })

  it("refuses criteria without exact counts", () => {
    expect(() =>
      Pruning.make({ model: Model.make(config), pruning: { schedule, criterion: { id: "select/dormant", criterion: dormant({ tau: 0.1, cap: true }) } }, key: Key.make(1) })
    ).toThrow(/not a rank criterion/)
  })

  for (const [id, criterion] of [
    ["select/magnitude-smallest", magnitudeSmallest()],
    ["select/magnitude-largest", magnitudeLargest()],
    ["select/random", random()]
  ] as const) {
    it.effect(`${id}: a cumulative mask that never un-prunes, reaching the planned counts; pruned neurons are silent and frozen`, () =>
      Effect.gen(function*() {
        yield* Backends.init({ name: "cpu" }, [])
        // plain SGD: a pruned neuron gets no gradient, so nothing (no momentum, no decay) moves it
        const s = setup(sgd({ lr: 0.05 }))
        const pruner = Pruning.make({ model: s.model, pruning: { schedule, criterion: { id, criterion } }, key: Key.make(1) })
        const { bus, events } = EventBus.memory()
        const masks: Array<Array<Uint8Array>> = []
        const recorder = {
          before: (step: number) => Effect.sync(() => {
            masks[step] = pruner.kept().map((k) => Uint8Array.from(k))
            return undefined
          })
        }
        // magnitudes of the candidates right before each update step, to check the criterion's order
        const magnitudesAt: Record<number, Array<Float32Array>> = {}
        const measurer = {
          before: (step: number, loop: { params: Readonly<Record<string, tf.Tensor>> }) => Effect.sync(() => {
            if (Pruning.updateSteps(schedule, 24).includes(step)) magnitudesAt[step] = Measure.magnitudes(s.model.topology, loop.params)
            return undefined
          })
        }
        yield* Trainer.train({ loop: s.loop, stream: s.stream, evalSet: s.evalSet, config: trainConfig(20), hooks: [measurer, Pruning.hook(pruner), recorder] })
          .pipe(Effect.provideService(EventBus, bus))
        const prunes = events.filter((e): e is Event.EventOf<"Prune"> => e._tag === "Prune")
        expect([...new Set(prunes.map((e) => e.step))]).toEqual([8, 12, 16])
        for (const e of prunes) {
          expect(e.pruned).toBe(Pruning.prunedCount(schedule, e.step, config.dFF))
          expect(e.indices).toHaveLength(4)
          expect(e.criterion).toBe(id)
          // never an already pruned neuron; all new ones are pruned from then on
          const prev = masks[e.step - 1]![e.layer]!
          for (const i of e.indices) expect(prev[i]).toBe(1)
          for (let t = e.step; t < 20; t++) for (const i of e.indices) expect(masks[t]![e.layer]![i]).toBe(0)
          if (id !== "select/random") {
            // the chosen are the extreme magnitudes among the neurons still kept
            const m = magnitudesAt[e.step]![e.layer]!
            const kept = [...m.keys()].filter((i) => prev[i] === 1)
            const chosen = new Set(e.indices)
            const worstChosen = id === "select/magnitude-smallest" ? Math.max(...e.indices.map((i) => m[i]!)) : Math.min(...e.indices.map((i) => m[i]!))
            for (const i of kept.filter((i) => !chosen.has(i))) {
              if (id === "select/magnitude-smallest") expect(m[i]!).toBeGreaterThanOrEqual(worstChosen)
              else expect(m[i]!).toBeLessThanOrEqual(worstChosen)
            }
          }
        }
        expect(pruner.kept().map((k) => k.reduce((n, x) => n + (1 - x), 0))).toEqual([12, 12])
        // pruned hidden units are silent under the hook's forward options
        const stats = tf.tidy(() => s.model.activationStats(s.loop.params, s.evalSet[0]!, pruner.forwardOptions()).map((l) => Array.from(l.firingRate.dataSync())))
        stats.forEach((rates, p) => rates.forEach((r, i) => (pruner.kept()[p]![i] === 0 ? expect(r).toBe(0) : undefined)))
        // and get no gradient: their weights stop moving once pruned
        const before = snapshot(s.loop.params)
        yield* Trainer.train({ loop: s.loop, stream: s.stream, evalSet: s.evalSet, config: trainConfig(24), hooks: [Pruning.hook(pruner)], from: 20 })
          .pipe(Effect.provideService(EventBus, bus))
        const after = snapshot(s.loop.params)
        s.model.topology.layers.forEach((l, p) => {
          const moved = changedSlices(before[l.win]!, after[l.win]!, s.loop.params[l.win]!.shape, 1)
          for (const i of moved) expect(pruner.kept()[p]![i]).toBe(1)
          expect(moved.length).toBeGreaterThan(0)
        })
        pruner.dispose()
        s.dispose()
      }))
  }
})
