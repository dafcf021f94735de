/**
 * `RekindleSetAlong` (behind core's `Slices.mergeAlong` / `fillAlong` on wasm) gives the same bits
 * as the `where` composition (stock kernels on wasm, and cpu), NaN and ±Inf included; so does
 * `Slots.resetSlices` (one mask per parameter without the kernel) against slice-by-slice fills.
 */
import { Optimizer, Slices, Slots } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as WasmOverrides from "../src/wasm/WasmOverrides.ts"
import { dataIds, seeded, use } from "./compare.ts"

const size = (shape: ReadonlyArray<number>) => shape.reduce((a, b) => a * b, 1)

/** Seeded values with NaN, +Inf and -Inf planted every few elements. */
const values = (seed: number, n: number): Float32Array => {
  const v = seeded(seed, n)
  for (let i = 0; i < n; i += 7) v[i] = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY][(i / 7) % 3]!
  return v
}

const cases: Array<[Array<number>, 0 | 1 | 2, Array<number>]> = [
  [[7, 5], 0, [0, 3, 6]],
  [[7, 5], 1, [1, 4]],
  [[3, 4, 5], 1, [0, 2, 3]],
  [[3, 4, 5], 2, [4]],
  [[9], 0, [2, 8]],
  [[64, 33], 1, [0, 5, 17, 32]]
]

/** Both results' bits, computed with the kernels active now. */
const bitsOf = (shape: Array<number>, axis: number, indices: Array<number>): Array<Array<number>> =>
  tf.tidy(() => {
    const x = tf.tensor(values(1, size(shape)), shape)
    const source = tf.tensor(values(2, size(shape)).reverse(), shape)
    return [Slices.mergeAlong(x, axis, indices, source), Slices.fillAlong(x, axis, indices, -0.25)].map((t) =>
      Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer))
    )
  })

describe("RekindleSetAlong", () => {
  beforeAll(async () => {
    await use("wasm")
  })
  afterAll(() => WasmOverrides.install())

  it.each(cases)("%j along %i at %j: same bits as the where composition on wasm and cpu", async (shape, axis, indices) => {
    WasmOverrides.install()
    expect(tf.getKernel(Slices.setAlongKernel, "wasm")).toBeDefined()
    const before = dataIds()
    const kernel = bitsOf(shape, axis, indices)
    expect(dataIds()).toBe(before)
    WasmOverrides.uninstall()
    expect(tf.getKernel(Slices.setAlongKernel, "wasm")).toBeUndefined()
    const stock = bitsOf(shape, axis, indices)
    WasmOverrides.install()
    await use("cpu")
    const cpu = bitsOf(shape, axis, indices)
    await use("wasm")
    expect(kernel).toEqual(stock)
    expect(kernel).toEqual(cpu)
    // the merge really took the source's slices (not a no-op): some chosen element differs from x
    expect(kernel[0]).not.toEqual(Array.from(new Uint32Array(values(1, size(shape)).buffer)))
  })
})

/** A two-slot optimizer state over two parameters, seeded, with NaN and ±Inf planted. */
const slotsOptimizer = { slots: { m: { role: "moment", reset: 0 }, v: { role: "moment", reset: -0.5 }, s: { role: "step", reset: 1 } } } as const
const resetCase: ReadonlyArray<Slots.NeuronSlice> = [
  { param: "w", axis: 1, indices: [0, 5, 17] },
  { param: "w", axis: 0, indices: [3] },
  { param: "o", axis: 0, indices: [5, 17] }
]
const shapes: Record<string, Array<number>> = { w: [8, 33], o: [33, 8], b: [33] }

/** `resetSlices`' bits, and those of slice-by-slice `fillAlong` on the same state, with the kernels active now. */
const resetBits = (): [Array<Array<number>>, Array<Array<number>>, Array<Array<number>>] =>
  tf.tidy(() => {
    let seed = 10
    const state: Optimizer.OptState = {
      count: 3,
      slots: Object.fromEntries(Object.keys(slotsOptimizer.slots).map((slot) => [
        slot,
        Object.fromEntries(Object.entries(shapes).map(([p, shape]) => [p, tf.tensor(values(seed++, size(shape)), shape)]))
      ]))
    }
    const bits = (st: Optimizer.OptState) => Optimizer.stateTensors(st).map((t) => Array.from(new Uint32Array((t.dataSync() as Float32Array).slice().buffer)))
    const reset = Slots.resetSlices(state, slotsOptimizer, resetCase, "zero-moments-and-step")
    const bySlice: Optimizer.OptState = {
      count: 3,
      slots: Object.fromEntries(Object.entries(state.slots).map(([slot, params]) => [
        slot,
        Object.fromEntries(Object.entries(params).map(([p, t]) => [
          p,
          resetCase.filter((c) => c.param === p).reduce((x, c) => Slices.fillAlong(x, c.axis, c.indices, slotsOptimizer.slots[slot as "m"].reset), t)
        ]))
      ]))
    }
    return [bits(reset), bits(bySlice), bits(state)]
  })

describe("Slots.resetSlices", () => {
  beforeAll(async () => {
    await use("wasm")
  })
  afterAll(() => WasmOverrides.install())

  it("same bits with the kernel, without it (one mask per parameter) and on cpu, as slice-by-slice fills", async () => {
    WasmOverrides.install()
    const [kernel, kernelBySlice, before] = resetBits()
    WasmOverrides.uninstall()
    const [stock, stockBySlice] = resetBits()
    WasmOverrides.install()
    await use("cpu")
    const [cpu, cpuBySlice] = resetBits()
    await use("wasm")
    for (const other of [kernelBySlice, stock, stockBySlice, cpu, cpuBySlice]) expect(other).toEqual(kernel)
    // the reset really wrote (state tensors by slot m, s, v, then parameter b, o, w): "b" has no
    // slices and is kept, "o" and "w" changed, and m's "w" holds 0 at [0, 0] (column 0 is reset)
    expect(kernel.length).toBe(9)
    for (const i of [0, 3, 6]) expect(kernel[i]).toEqual(before[i])
    for (const i of [1, 2, 4, 5, 7, 8]) expect(kernel[i]).not.toEqual(before[i])
    expect(kernel[2]![0]).toBe(0)
  })
})
