/**
 * `HostValues`: `peek` reads what `dataSync` reads; `changedSlices` finds the same slices in place
 * on the wasm heap (the SIMD `strayMark` kernel) as the JavaScript loop on cpu, with NaN equal to
 * NaN, +0 equal to −0, NaN unequal to a number, allowed slices skipped, and sizes that are not a
 * multiple of the kernel's block.
 */
import * as tf from "@tensorflow/tfjs-core"
import { afterAll, describe, expect, it } from "vitest"
import * as HostValues from "../src/HostValues.ts"
import { dataIds, seeded, use } from "./compare.ts"

const size = (shape: ReadonlyArray<number>) => shape.reduce((a, b) => a * b, 1)

interface Case {
  readonly shape: Array<number>
  readonly axis: number
  readonly allowed: Array<number>
  /** element index -> [before, after] */
  readonly edits: ReadonlyArray<[number, number, number]>
  readonly expected: Array<number>
}

// [7, 5] along 1: element e lies in slice e % 5; along 0: slice floor(e / 5)
const cases: Record<string, Case> = {
  "equal NaNs, ±0 and unchanged values are no change": {
    shape: [7, 5], axis: 1, allowed: [], edits: [[3, Number.NaN, Number.NaN], [9, 0, -0], [12, 1.5, 1.5]], expected: []
  },
  "NaN against a number, a number changed, ∞ changed": {
    shape: [7, 5], axis: 1, allowed: [], edits: [[3, Number.NaN, 1], [11, 0.25, 0.5], [34, Number.POSITIVE_INFINITY, 2]], expected: [1, 3, 4]
  },
  "allowed slices are skipped": {
    shape: [7, 5], axis: 0, allowed: [2, 6], edits: [[0, 1, 2], [10, 1, 2], [14, 1, 2], [33, 1, 2]], expected: [0]
  },
  "a tail past the last block of eight (37 elements)": {
    shape: [37], axis: 0, allowed: [], edits: [[32, 1, 2], [36, 3, 4]], expected: [32, 36]
  },
  "rank 3 along the middle axis": {
    shape: [3, 4, 6], axis: 1, allowed: [1], edits: [[2, 1, 2], [30, 1, 2], [71, 1, 2]], expected: [0, 3]
  },
  "large: every 20th column changed": {
    shape: [64, 200], axis: 1, allowed: [0], edits: Array.from({ length: 10 }, (_, k): [number, number, number] => [63 * 200 + k * 20, 7, 8]),
    expected: Array.from({ length: 9 }, (_, k) => (k + 1) * 20)
  }
}

const tensors = (c: Case, dtype: "float32" | "int32") => {
  const n = size(c.shape)
  const base = seeded(5, n).map((v) => (dtype === "int32" ? Math.round(v * 1000) : v))
  const a = Float32Array.from(base)
  const b = Float32Array.from(base)
  for (const [e, x, y] of c.edits) {
    a[e] = x
    b[e] = y
  }
  return [tf.tensor(a, c.shape, dtype), tf.tensor(b, c.shape, dtype)] as const
}

const run = (c: Case, dtype: "float32" | "int32") => {
  const [a, b] = tensors(c, dtype)
  const out = HostValues.changedSlices(a, b, c.axis, c.allowed)
  tf.dispose([a, b])
  return out
}

describe("HostValues.changedSlices", () => {
  afterAll(() => use("wasm"))

  it.each(Object.entries(cases))("%s (float32: wasm kernel and cpu loop agree)", async (_name, c) => {
    await use("wasm")
    const before = dataIds()
    const wasm = run(c, "float32")
    expect(dataIds()).toBe(before)
    await use("cpu")
    const cpu = run(c, "float32")
    expect(wasm).toEqual(c.expected)
    expect(cpu).toEqual(c.expected)
  })

  it("int32 compares bits (the edits that change integer values)", async () => {
    const c: Case = { shape: [7, 5], axis: 1, allowed: [4], edits: [[0, 3, 4], [6, 5, 5], [9, 1, 2]], expected: [0] }
    await use("wasm")
    const wasm = run(c, "int32")
    await use("cpu")
    expect(wasm).toEqual(c.expected)
    expect(run(c, "int32")).toEqual(c.expected)
  })

  it("the same data differs nowhere; shapes must match, the axis exist and allowed indices lie in range", async () => {
    await use("wasm")
    const a = tf.tensor([1, Number.NaN, 3], [3])
    expect(HostValues.changedSlices(a, a, 0, [])).toEqual([])
    const b = tf.tensor([1, 2], [2])
    expect(() => HostValues.changedSlices(a, b, 0, [])).toThrow(/shapes/)
    const c = tf.tensor([1, 2, 4], [3])
    expect(() => HostValues.changedSlices(a, c, 0, [3])).toThrow(/allowed index 3 out of range/)
    expect(() => HostValues.changedSlices(a, c, 1, [])).toThrow(/no axis 1/)
    tf.dispose([a, b, c])
  })
})

describe("HostValues.peek", () => {
  it.each(["wasm", "cpu"] as const)("reads what dataSync reads (%s)", async (backend) => {
    await use(backend)
    const t = tf.tensor(seeded(3, 40).map((v, i) => (i % 7 === 0 ? Number.NaN : v)), [8, 5])
    const i = tf.tensor(Int32Array.from({ length: 12 }, (_, k) => k * 7 - 30), [12], "int32")
    expect(Array.from(HostValues.peek(t))).toEqual(Array.from(t.dataSync()))
    expect(Array.from(HostValues.peek(i))).toEqual(Array.from(i.dataSync()))
    tf.dispose([t, i])
    await use("wasm")
  })
})
