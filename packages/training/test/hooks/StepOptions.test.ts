import { describe, expect, it } from "@effect/vitest"
import { Backends } from "@rekindle/engine"
import { adam, sgd } from "@rekindle/plugin-optim"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { Trainer } from "@rekindle/loop"
import { setup, snapshot, stepOnce } from "./fixtures.ts"

describe("TrainLoop step options", () => {
  it.effect("trainable: every other parameter stays bitwise identical (AdamW decay included); its slots are carried over", () =>
    Effect.gen(function*() {
      yield* Backends.init({ name: "cpu" }, [])
      const s = setup()
      stepOnce(s)
      const before = snapshot(s.loop.params)
      const slotBefore = s.loop.optState().slots["adam.mu"]!["embed.token"]!
      const trainable = ["layers.0.ff.win", "layers.1.ff.wout"]
      stepOnce(s, undefined, { trainable })
      const after = snapshot(s.loop.params)
      for (const name of Object.keys(before)) {
        const same = before[name]!.every((x, i) => x === after[name]![i])
        expect([name, same]).toEqual([name, !trainable.includes(name)])
      }
      // the frozen parameter's slot is the same tensor, still alive
      expect(s.loop.optState().slots["adam.mu"]!["embed.token"]).toBe(slotBefore)
      expect(slotBefore.isDisposed).toBe(false)
      expect(s.loop.optState().count).toBe(2)
      s.dispose()
    }))

  it.effect("masks: zero mask entries freeze exactly those elements, decay included", () =>
    Effect.gen(function*() {
      yield* Backends.init({ name: "cpu" }, [])
      const s = setup()
      const win = s.loop.params["layers.0.ff.win"]!
      const mask = tf.tensor2d(Array.from({ length: win.size }, (_, k) => (k % 3 === 0 ? 1 : 0)), win.shape as [number, number])
      const before = snapshot(s.loop.params)["layers.0.ff.win"]!
      for (let i = 0; i < 3; i++) stepOnce(s, undefined, { masks: { "layers.0.ff.win": mask } })
      const after = snapshot(s.loop.params)["layers.0.ff.win"]!
      let moved = 0
      for (let k = 0; k < before.length; k++) {
        if (k % 3 !== 0) expect(after[k]).toBe(before[k])
        else if (after[k] !== before[k]) moved++
      }
      expect(moved).toBeGreaterThan(before.length / 3 - 3)
      mask.dispose()
      s.dispose()
    }))

  it.effect("decoupled: a delta is added on top of the optimizer's update at the step's learning rate", () =>
    Effect.gen(function*() {
      yield* Backends.init({ name: "cpu" }, [])
      const lr = (count: number) => 0.01 * (count + 1)
      const a = setup(sgd({ lr }))
      const b = setup(sgd({ lr }))
      stepOnce(a)
      stepOnce(b)
      const seen: Array<number> = []
      const decoupled = [(_params: unknown, rate: number) => {
        seen.push(rate)
        return { "head.b": tf.fill([21], 3) }
      }]
      stepOnce(a)
      stepOnce(b, undefined, { decoupled })
      expect(seen).toEqual([0.02])
      const pa = snapshot(a.loop.params)
      const pb = snapshot(b.loop.params)
      // same batch order and same parameters before: only head.b differs, by exactly the delta
      for (const name of Object.keys(pa)) {
        if (name === "head.b") pa[name]!.forEach((x, i) => expect(pb[name]![i]! - x).toBeCloseTo(3, 5))
        else expect(pb[name]).toEqual(pa[name])
      }
      a.dispose()
      b.dispose()
    }))

  it.effect("swapOptimizer hands back the previous optimizer and state untouched; the new one starts at count 0", () =>
    Effect.gen(function*() {
      yield* Backends.init({ name: "cpu" }, [])
      const s = setup()
      stepOnce(s)
      stepOnce(s)
      const fresh = adam({ lr: 1e-3 })
      const previous = s.loop.swapOptimizer(fresh)
      expect(previous.state.count).toBe(2)
      expect(s.loop.optimizer).toBe(fresh)
      expect(s.loop.optState().count).toBe(0)
      stepOnce(s)
      expect(s.loop.optState().count).toBe(1)
      for (const t of Object.values(previous.state.slots).flatMap((x) => Object.values(x))) expect(t.isDisposed).toBe(false)
      const back = s.loop.swapOptimizer(previous.optimizer, previous.state)
      for (const t of Object.values(back.state.slots).flatMap((x) => Object.values(x))) t.dispose()
      expect(s.loop.optState().count).toBe(2)
      s.dispose()
    }))

  it("mergeStepOptions intersects trainable lists and concatenates decoupled updates", () => {
    const d1 = () => ({})
    const d2 = () => ({})
    expect(Trainer.mergeStepOptions([undefined, undefined])).toBeUndefined()
    const merged = Trainer.mergeStepOptions([{ trainable: ["a", "b"], decoupled: [d1] }, undefined, { trainable: ["b", "c"], decoupled: [d2] }])
    expect(merged?.trainable).toEqual(["b"])
    expect(merged?.decoupled).toEqual([d1, d2])
  })
})
