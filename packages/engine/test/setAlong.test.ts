/**
 * `RekindleSetAlong` (behind core's `Slices.mergeAlong` / `fillAlong` on wasm) gives the same bits
 * as the `where` composition (stock kernels on wasm, and cpu), NaN and ±Inf included.
 */
import { Slices } from "@rekindle/core"
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
