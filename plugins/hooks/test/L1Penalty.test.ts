/**
 * The one-file example hook `hooks/l1-ff`: its decoupled step is exactly −lr · c · sign(W) on the
 * FF weights and nothing else, its penalty is c · Σ|W|, the hook reports it every `every` steps,
 * and its part refuses a model without FF neurons and a context that is not a pipeline's.
 */
import { describe, expect, it } from "@effect/vitest"
import { EventBus, type Event, Key } from "@rekindle/core"
import { tinyModel, tinyParams } from "@rekindle/testing"
import "@tensorflow/tfjs-backend-cpu"
import * as tf from "@tensorflow/tfjs-core"
import { Effect, Exit } from "effect"
import { hooks, L1Penalty } from "../src/index.ts"

describe("hooks/l1-ff", () => {
  it("moves only the FF weights, by −lr · coefficient · sign(W)", async () => {
    await tf.setBackend("cpu")
    const model = tinyModel()
    const params = tinyParams(model, 3)
    const deltas = L1Penalty.decoupled({ coefficient: 0.5 }, model.topology)(params, 0.1)
    const ff = model.topology.layers.flatMap((l) => [l.win, l.wout])
    expect(Object.keys(deltas).sort()).toEqual([...ff].sort())
    for (const name of ff) {
      const w = params[name]!.dataSync()
      const d = deltas[name]!.dataSync()
      for (let i = 0; i < w.length; i++) expect(d[i]).toBeCloseTo(-0.05 * Math.sign(w[i]!), 7)
    }
    const expected = ff.reduce((sum, n) => sum + Array.from(params[n]!.dataSync() as Float32Array).reduce((a, x) => a + Math.abs(x), 0), 0) * 0.5
    expect(L1Penalty.penalty({ coefficient: 0.5 }, model.topology, params)).toBeCloseTo(expected, 3)
  })

  it.effect("reports the penalty every `every` steps and adds the decoupled update to each step", () =>
    Effect.gen(function*() {
      yield* Effect.promise(() => tf.setBackend("cpu"))
      const model = tinyModel()
      const values = tinyParams(model, 4)
      const params = Object.fromEntries(Object.entries(values).map(([n, t]) => [n, tf.variable(t)]))
      const hook = L1Penalty.hook({ coefficient: 0.01 }, model.topology, 5)
      const events: Array<Event.Event> = []
      const bus = EventBus.of({ emit: (e) => Effect.sync(() => void events.push(e)), flush: Effect.void })
      const loop = { params } as unknown as Parameters<typeof hook.before>[1]
      for (const s of [0, 1, 5, 7, 10]) yield* hook.before(s, loop).pipe(Effect.provideService(EventBus, bus))
      expect(events.map((e) => (e._tag === "Scalar" ? [e.step, e.name] : e._tag))).toEqual([[0, "l1"], [5, "l1"], [10, "l1"]])
      expect(hook.stepOptions?.(3, loop)?.decoupled).toHaveLength(1)
    }))

  it.effect("its part refuses a model without FF neurons and a context that is not a pipeline's", () =>
    Effect.gen(function*() {
      const part = hooks.hooks["l1-ff"]
      const noFF = yield* Effect.exit(part.make({ coefficient: 1 }, { totalSteps: 10, dFF: 0, optimizer: { use: "optim/sgd" }, part: () => Effect.die("unused") }))
      expect(Exit.isFailure(noFF)).toBe(true)
      const made = yield* part.make({ coefficient: 1 }, { totalSteps: 10, dFF: 8, optimizer: { use: "optim/sgd" }, part: () => Effect.die("unused") })
      expect(made.describe(10).summary).toContain("coefficient 1")
      const built = yield* Effect.scoped(made.build({ model: tinyModel(), key: Key.make(1), logEvery: 10 }))
      expect(built.stepOptions).toBeDefined()
      const pruning = yield* Effect.exit(hooks.hooks.pruning.make({ from: 0, until: 5, final: 0.5, every: 1, criterion: { use: "select/random" } }, { totalSteps: 10 }))
      expect(Exit.isFailure(pruning)).toBe(true)
    }))
})
