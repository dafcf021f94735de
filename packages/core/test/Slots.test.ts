import { Optimizer } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import "@tensorflow/tfjs-backend-cpu"
import { beforeAll, describe, expect, it } from "vitest"
import { Slots } from "../src/index.ts"

beforeAll(async () => {
  await tf.setBackend("cpu")
})

const optimizer = {
  slots: { m: { role: "moment", reset: 0 }, s: { role: "step", reset: 1 } }
} satisfies Pick<Optimizer.Optimizer, "slots">

const state = (): Optimizer.OptState => ({
  count: 7,
  slots: {
    m: { w: tf.tensor([[1, 2, 3], [4, NaN, 6]]), b: tf.tensor([1, 2, 3]) },
    s: { w: tf.tensor([[5, 5, 5], [5, 5, 5]]), b: tf.tensor([5, 5, 5]) }
  }
})

const read = (s: Optimizer.OptState) =>
  Object.fromEntries(Object.entries(s.slots).map(([k, m]) => [k, Object.fromEntries(Object.entries(m).map(([n, t]) => [n, t.arraySync()]))]))

describe("Slots.resetSlices", () => {
  it("writes each role's reset value into rows and columns, union of slices, NaN included", () => {
    const old = state()
    const next = Slots.resetSlices(old, optimizer, [
      { param: "w", axis: 1, indices: [1] },
      { param: "w", axis: 0, indices: [0] },
      { param: "b", axis: 0, indices: [1] }
    ], "zero-moments-and-step")
    expect(next.count).toBe(7)
    expect(read(next)).toEqual({
      m: { w: [[0, 0, 0], [4, 0, 6]], b: [1, 0, 3] },
      s: { w: [[1, 1, 1], [5, 1, 5]], b: [5, 1, 5] }
    })
    expect(Optimizer.stateTensors(old).some((t) => t.isDisposed)).toBe(false)
    Optimizer.stateTensors(old).forEach((t) => t.dispose())
    // the new state survives the old one's disposal
    expect(read(next).m!["b"]).toEqual([1, 0, 3])
    Optimizer.stateTensors(next).forEach((t) => t.dispose())
  })
  it("zero-moments leaves step slots alone; keep leaves everything", () => {
    const old = state()
    const moments = Slots.resetSlices(old, optimizer, [{ param: "b", axis: 0, indices: [0, 2] }], "zero-moments")
    expect(read(moments)["m"]!["b"]).toEqual([0, 2, 0])
    expect(read(moments)["s"]).toEqual(read(old)["s"])
    const keep = Slots.resetSlices(old, optimizer, [{ param: "b", axis: 0, indices: [0, 2] }], "keep")
    expect(JSON.stringify(read(keep))).toBe(JSON.stringify(read(old)))
    for (const s of [old, moments, keep]) Optimizer.stateTensors(s).forEach((t) => t.dispose())
  })
  it("rejects bad slices and undeclared slots", () => {
    const old = state()
    const before = tf.memory().numTensors
    expect(() => Slots.resetSlices(old, optimizer, [{ param: "b", axis: 0, indices: [3] }], "zero-moments")).toThrow(/out of range/)
    expect(() => Slots.resetSlices(old, optimizer, [{ param: "b", axis: 1, indices: [0] }], "zero-moments")).toThrow(/no axis 1/)
    expect(() => Slots.resetSlices(old, optimizer, [{ param: "x", axis: 0, indices: [0] }], "zero-moments")).toThrow(/"x"/)
    expect(() => Slots.resetSlices(old, { slots: { m: optimizer.slots.m } }, [], "keep")).toThrow(/"s" is not declared/)
    expect(tf.memory().numTensors).toBe(before)
    Optimizer.stateTensors(old).forEach((t) => t.dispose())
  })
})
