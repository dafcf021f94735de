import "@tensorflow/tfjs-backend-cpu"
import * as tf from "@tensorflow/tfjs-core"
import { beforeAll, describe, expect, it } from "vitest"
import * as Slices from "../src/Slices.ts"

beforeAll(async () => {
  await tf.setBackend("cpu")
})

const arr = (t: tf.Tensor) => t.arraySync()

describe("Slices", () => {
  const m = () => tf.tensor2d([[1, 2, 3], [4, 5, 6]]) // [2, 3]

  it("indexMask and axisMask mark exactly the indices", () => {
    expect(Array.from(Slices.indexMask(5, [0, 3]).dataSync())).toEqual([1, 0, 0, 1, 0])
    const mask = Slices.axisMask([2, 3], 1, [2], "float32")
    expect(mask.shape).toEqual([1, 3])
    expect(arr(mask)).toEqual([[0, 0, 1]])
    expect(Slices.axisMask([2, 3], 0, [1]).dtype).toBe("bool")
  })

  it("rejects out-of-range, fractional and repeated indices", () => {
    expect(() => Slices.indexMask(3, [3])).toThrow(/out of range/)
    expect(() => Slices.indexMask(3, [1.5])).toThrow(/out of range/)
    expect(() => Slices.replaceAlong(m(), 1, [1, 1], tf.zeros([2, 2]))).toThrow(/twice/)
    expect(() => Slices.gatherAlong(m(), 2, [0])).toThrow(/axis 2/)
  })

  it("gatherAlong returns the slices in the given order", () => {
    expect(arr(Slices.gatherAlong(m(), 1, [2, 0]))).toEqual([[3, 1], [6, 4]])
    expect(arr(Slices.gatherAlong(m(), 0, [1]))).toEqual([[4, 5, 6]])
  })

  it("replaceAlong writes row j of values to indices[j] and keeps the rest", () => {
    const t = m()
    const cols = Slices.replaceAlong(t, 1, [2, 0], tf.tensor2d([[30, 10], [60, 40]]))
    expect(arr(cols)).toEqual([[10, 2, 30], [40, 5, 60]])
    const rows = Slices.replaceAlong(t, 0, [1], tf.tensor2d([[7, 8, 9]]))
    expect(arr(rows)).toEqual([[1, 2, 3], [7, 8, 9]])
    const vec = Slices.replaceAlong(tf.tensor1d([1, 2, 3, 4]), 0, [3, 1], tf.tensor1d([-4, -2]))
    expect(arr(vec)).toEqual([1, -2, 3, -4])
    // the input is untouched and a fresh tensor comes back, even for no indices
    expect(arr(t)).toEqual([[1, 2, 3], [4, 5, 6]])
    const same = Slices.replaceAlong(t, 1, [], tf.zeros([2, 0]))
    expect(same).not.toBe(t)
    expect(arr(same)).toEqual(arr(t))
    expect(() => Slices.replaceAlong(t, 1, [0], tf.zeros([3, 1]))).toThrow(/expected \[2, 1\]/)
  })

  it("fillAlong sets whole slices, NaN included", () => {
    const t = tf.tensor2d([[Number.NaN, 2], [3, 4]])
    expect(arr(Slices.fillAlong(t, 1, [0], 0))).toEqual([[0, 2], [0, 4]])
    expect(arr(Slices.fillAlong(t, 0, [1], 1))).toEqual([[Number.NaN, 2], [1, 1]])
  })

  it("fillerAlong fills the union of its slices, one mask for every tensor of its shape", () => {
    const filler = Slices.fillerAlong([{ axis: 1, indices: [1] }, { axis: 0, indices: [0] }, { axis: 1, indices: [] }])
    const before = tf.memory().numTensors
    const [a, b] = tf.tidy(() => {
      const x = tf.tensor2d([[1, 2, 3], [4, Number.NaN, 6]])
      const first = filler(x, 0)
      const afterFirst = tf.memory().numTensors
      const second = filler(x, 7)
      // the second call builds no new mask: it leaves only its result
      expect(tf.memory().numTensors - afterFirst).toBe(1)
      expect(() => filler(tf.zeros([3, 2]), 0)).toThrow(/mask was built for \[2, 3\]/)
      return [first, second]
    })
    expect(arr(a!)).toEqual([[0, 0, 0], [4, 0, 6]])
    expect(arr(b!)).toEqual([[7, 7, 7], [4, 7, 6]])
    expect(tf.memory().numTensors).toBe(before + 2)
    expect(() => Slices.fillerAlong([{ axis: 2, indices: [0] }])(m(), 0)).toThrow(/axis 2/)
    const empty = Slices.fillerAlong([{ axis: 0, indices: [] }])(m(), 0)
    expect(arr(empty)).toEqual(arr(m()))
  })

  it("changedAlong counts differing elements per slice, NaN equal to NaN", () => {
    const a = tf.tensor2d([[1, Number.NaN, 3], [4, 5, 6]])
    const b = tf.tensor2d([[1, Number.NaN, 0], [4, 0, 0]])
    expect(Array.from(Slices.changedAlong(a, b, 1).dataSync())).toEqual([0, 1, 2])
    expect(Array.from(Slices.changedAlong(a, b, 0).dataSync())).toEqual([1, 2])
    expect(Array.from(Slices.changedAlong(tf.tensor1d([1, 2]), tf.tensor1d([1, 3]), 0).dataSync())).toEqual([0, 1])
    expect(() => Slices.changedAlong(a, tf.zeros([3, 2]), 0)).toThrow(/differ/)
  })

  it("leaks no tensors", () => {
    const t = m()
    const before = tf.memory().numTensors
    const out = [
      Slices.replaceAlong(t, 1, [1], tf.tidy(() => tf.zeros([2, 1]))),
      Slices.fillAlong(t, 0, [0], 3),
      Slices.gatherAlong(t, 1, [0, 2]),
      Slices.changedAlong(t, t, 1)
    ]
    expect(tf.memory().numTensors).toBe(before + 5) // the 4 results + the zeros argument
    for (const o of out) o.dispose()
  })
})

describe("Slices (full masks and spreading)", () => {
  it("sliceMask is the full-shape mask of the slices", () => {
    expect(Slices.sliceMask([2, 3], 1, [0, 2]).arraySync()).toEqual([[1, 0, 1], [1, 0, 1]])
    expect(Slices.sliceMask([3, 2], 0, [1]).arraySync()).toEqual([[0, 0], [1, 1], [0, 0]])
    expect(Slices.sliceMask([2, 2, 2], 1, [1]).arraySync()).toEqual([[[0, 0], [1, 1]], [[0, 0], [1, 1]]])
  })
  it("replaceAlong is exact on matrices (spread by a one-hot product) and on 3-d tensors (gather)", () => {
    const t = tf.tensor2d([[1e-30, 2, 3e30], [4, -5, 6]])
    const v = tf.tensor2d([[7.123456789, -1e-38], [3.4e38, 1e-7]])
    expect(Array.from(Slices.replaceAlong(t, 1, [2, 0], v).dataSync())).toEqual(Array.from(tf.tensor2d([[-1e-38, 2, 7.123456789], [1e-7, -5, 3.4e38]]).dataSync()))
    const rows = Slices.replaceAlong(tf.tensor2d([[1, 2], [3, 4], [5, 6]]), 0, [2], tf.tensor2d([[-1, 1e-20]]))
    expect(Array.from(rows.dataSync())).toEqual(Array.from(tf.tensor2d([[1, 2], [3, 4], [-1, 1e-20]]).dataSync()))
    const cube = Slices.replaceAlong(tf.zeros([2, 3, 2]), 1, [1], tf.ones([2, 1, 2]))
    expect(cube.arraySync()).toEqual([[[0, 0], [1, 1], [0, 0]], [[0, 0], [1, 1], [0, 0]]])
  })
  it("mergeAlong takes the chosen slices from a full-shape source", () => {
    const out = Slices.mergeAlong(tf.tensor2d([[1, 2], [3, 4]]), 1, [1], tf.tensor2d([[9, 8], [7, 6]]))
    expect(out.arraySync()).toEqual([[1, 8], [3, 6]])
    expect(() => Slices.mergeAlong(tf.zeros([2, 2]), 1, [0], tf.zeros([2, 3]))).toThrow(/source has shape/)
  })
})
