/**
 * Pruning and retraining state across a checkpoint: a run stopped at step 8 (inside the
 * retraining window, between two pruning updates) and resumed from its saved state in fresh
 * objects ends bitwise where the uninterrupted run ends. The resume follows `Checkpoint.apply`'s
 * order: parameters, then every hook's `load`, then the optimizer state, then the step count.
 */
import { describe, expect, it } from "@effect/vitest"
import { Key, type Optimizer } from "@rekindle/core"
import { Backends } from "@rekindle/engine"
import { adamw } from "@rekindle/plugin-optim"
import { magnitudeSmallest, random } from "@rekindle/plugin-select"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { EventBus, type StepHook } from "@rekindle/core"
import { Pruning } from "@rekindle/plugin-hooks"
import { Retrain } from "@rekindle/plugin-hooks"
import { Trainer } from "@rekindle/loop"
import { setup, snapshot, trainConfig } from "./fixtures.ts"

const retrain: Retrain.Retrain = {
  at: 6, steps: 5, subset: "random", fraction: 0.25, then: "continue", lr: 1e-2,
  optimizer: adamw({ lr: 1e-2, weightDecay: 0.1 }),
  criterion: { id: "select/random", criterion: random() }
}
const pruning: Pruning.Pruning = {
  schedule: { from: 2, until: 12, final: 0.5, every: 4 },
  criterion: { id: "select/magnitude-smallest", criterion: magnitudeSmallest() }
}

const build = () => {
  const s = setup()
  const pruner = Pruning.make({ model: s.model, pruning, key: Key.make(1) })
  const retrainer = Retrain.make({ retrain, topology: s.model.topology, key: Key.make(1) })
  const hooks: Array<StepHook> = [Pruning.hook(pruner), Retrain.hook(retrainer)]
  const dispose = () => {
    pruner.dispose()
    retrainer.dispose()
    s.dispose()
  }
  return { s, pruner, retrainer, hooks, dispose }
}

const copyAll = (m: Readonly<Record<string, tf.Tensor>>) => Object.fromEntries(Object.entries(m).map(([k, t]) => [k, tf.clone(t)]))

describe("pruning and retraining resume from a checkpoint", () => {
  it.effect("stopped inside the retraining window and resumed, the run ends bitwise where the uninterrupted one does", () =>
    Effect.gen(function*() {
      yield* Backends.init({ name: "cpu" }, [])
      const { bus } = EventBus.memory()
      const start = tf.memory().numTensors

      const whole = build()
      yield* Trainer.train({ loop: whole.s.loop, stream: whole.s.stream, evalSet: whole.s.evalSet, config: trainConfig(16), hooks: whole.hooks })
        .pipe(Effect.provideService(EventBus, bus))
      const expected = snapshot(whole.s.loop.params)
      const expectedKept = whole.pruner.kept().map((k) => [...k])
      whole.dispose()

      // first half: 8 steps, then "checkpoint" (copies, as a checkpoint file would hold)
      const first = build()
      yield* Trainer.train({ loop: first.s.loop, stream: first.s.stream, evalSet: first.s.evalSet, config: trainConfig(8), hooks: first.hooks })
        .pipe(Effect.provideService(EventBus, bus))
      expect(first.retrainer.active()).toBe(true)
      const params = copyAll(first.s.loop.params)
      const opt = first.s.loop.optState()
      const optCopy: Optimizer.OptState = { count: opt.count, slots: Object.fromEntries(Object.entries(opt.slots).map(([k, m]) => [k, copyAll(m)])) }
      const states = first.hooks.map((h) => {
        const saved = h.state!.save()
        return { name: h.state!.name, json: JSON.parse(JSON.stringify(saved.json)), tensors: copyAll(saved.tensors) }
      })
      expect(states.map((x) => x.name)).toEqual(["pruning", "retrain"])
      first.dispose()

      // resume in fresh objects
      const second = build()
      for (const [n, v] of Object.entries(second.s.loop.params)) v.assign(params[n]!)
      second.hooks.forEach((h, i) => h.state!.load(states[i]!.json, states[i]!.tensors, second.s.loop))
      second.s.loop.setOptState(optCopy)
      second.s.loop.setStepsDone(8)
      for (let i = 0; i < 8; i++) second.s.stream.next()
      expect(second.retrainer.active()).toBe(true)
      expect(second.s.loop.optimizer).toBe(retrain.optimizer)
      yield* Trainer.train({ loop: second.s.loop, stream: second.s.stream, evalSet: second.s.evalSet, config: trainConfig(16), hooks: second.hooks, from: 8 })
        .pipe(Effect.provideService(EventBus, bus))
      const got = snapshot(second.s.loop.params)
      for (const n of Object.keys(expected)) expect([n, got[n]]).toEqual([n, expected[n]])
      expect(second.pruner.kept().map((k) => [...k])).toEqual(expectedKept)
      second.dispose()
      for (const x of [params, ...states.map((s) => s.tensors)]) tf.dispose(Object.values(x))
      expect(tf.memory().numTensors).toBe(start)
    }))

  it("outside the window the retrain state is empty, and loading it leaves the loop alone", () => {
    const w = build()
    const saved = w.hooks[1]!.state!.save()
    expect(saved.json).toEqual({ version: 1 })
    expect(saved.tensors).toEqual({})
    const before = w.s.loop.optimizer
    w.hooks[1]!.state!.load(saved.json, {}, w.s.loop)
    expect(w.s.loop.optimizer).toBe(before)
    w.dispose()
  })
})
