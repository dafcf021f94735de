/**
 * Equivalence of every wasm kernel override against the cpu backend, on many shapes, plus
 * no-leak checks (tensors and wasm heap buckets) and the stock failures the overrides fix.
 */
import * as tf from "@tensorflow/tfjs-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { broadcastIndexer, preferSwap } from "../src/wasm/BatchMatMulKernel.ts"
import { asBlocked, simplify } from "../src/wasm/TransposeKernel.ts"
import * as WasmOverrides from "../src/wasm/WasmOverrides.ts"
import "../src/Gradients.ts"
import { dataIds, expectClose, expectSameOnCpuAndWasm, run, seeded, seededInts, use } from "./compare.ts"

const size = (shape: ReadonlyArray<number>) => shape.reduce((a, b) => a * b, 1)
const t = (shape: Array<number>, seed: number) => tf.tensor(seeded(seed, size(shape)), shape)

beforeAll(async () => {
  await use("wasm")
  expect(WasmOverrides.isInstalled()).toBe(true)
})

/** Install modes: the default transpose dispatch, and the blocked JS transpose forced everywhere it applies. */
const modes: Array<[string, WasmOverrides.OverrideOptions]> = [
  ["default dispatch", {}],
  ["blocked JS transpose forced", { transposeBlockedMinElements: 0 }]
]

const reinstall = (options: WasmOverrides.OverrideOptions) => {
  WasmOverrides.uninstall()
  WasmOverrides.install(options)
}

describe.each(modes)("BatchMatMul override (%s)", (_mode, options) => {
  beforeAll(async () => {
    await use("wasm")
    reinstall(options)
  })
  afterAll(() => reinstall({}))

  // [a shape, b shape] in stored layout for the given transposes
  const cases: Array<[string, Array<number>, Array<number>, boolean, boolean]> = [
    ["2d NN odd", [7, 5], [5, 3], false, false],
    ["2d TN odd", [5, 7], [5, 3], true, false],
    ["2d NT odd", [7, 5], [3, 5], false, true],
    ["2d TT odd", [5, 7], [3, 5], true, true],
    ["2d TN tall", [300, 50], [300, 7], true, false],
    ["2d NT wide (swap)", [9, 40], [300, 40], false, true],
    ["2d TN small M", [37, 3], [37, 33], true, false],
    ["2d 1xK", [1, 17], [17, 1], false, false],
    ["3d x 2d NN (fold)", [6, 7, 5], [5, 4], false, false],
    ["3d x 2d TN", [6, 5, 7], [5, 4], true, false],
    ["3d x 2d NT", [6, 7, 5], [4, 5], false, true],
    ["3d x 2d TT", [6, 5, 7], [4, 5], true, true],
    ["4d x 2d NN", [2, 3, 7, 5], [5, 4], false, false],
    ["4d x 2d TN", [2, 3, 5, 7], [5, 4], true, false],
    ["4d x 2d NT", [2, 3, 7, 5], [4, 5], false, true],
    ["3d x 3d NN", [6, 7, 5], [6, 5, 4], false, false],
    ["3d x 3d TN", [6, 5, 7], [6, 5, 4], true, false],
    ["3d x 3d NT (QKᵀ)", [6, 7, 5], [6, 4, 5], false, true],
    ["3d x 3d TT", [6, 5, 7], [6, 4, 5], true, true],
    ["4d x 4d NT (heads)", [2, 3, 7, 5], [2, 3, 4, 5], false, true],
    ["4d x 4d TN", [2, 3, 5, 7], [2, 3, 5, 4], true, false],
    ["2d x 3d broadcast a", [7, 5], [6, 5, 4], false, false],
    ["2d x 3d broadcast a NT", [7, 5], [6, 4, 5], false, true],
    ["[1,M,K] x [6,K,N]", [1, 7, 5], [6, 5, 4], false, false],
    ["[6,M,K] x [1,K,N]", [6, 7, 5], [1, 5, 4], false, false],
    ["[1,M,K] x [1,K,N] TN", [1, 5, 7], [1, 5, 4], true, false],
    ["rank 4 x rank 3 broadcast", [2, 3, 7, 5], [3, 5, 4], false, false],
    ["attention-like", [4, 33, 16], [4, 16, 33], false, false]
  ]
  it.each(cases)("%s matches cpu", async (label, sa, sb, ta, tb) => {
    await expectSameOnCpuAndWasm(label, () => tf.matMul(t(sa, 1), t(sb, 2), ta, tb))
  })

  it("handles cross broadcasting of batch dims ([2,1] x [1,3]) like an explicit tile", async () => {
    await use("wasm")
    const [got] = run(() => tf.matMul(t([2, 1, 4, 3], 3), t([1, 3, 3, 5], 4)))
    const [want] = run(() => tf.matMul(tf.tile(t([2, 1, 4, 3], 3), [1, 3, 1, 1]), tf.tile(t([1, 3, 3, 5], 4), [2, 1, 1, 1])))
    expectClose("cross broadcast", [got!], [want!])
    expect(got!.shape).toEqual([2, 3, 4, 5])
  })

  it("matches cpu at training sizes (dense forward and both gradients)", async () => {
    await expectSameOnCpuAndWasm("dense", () => {
      const x = t([4, 32, 64], 5)
      const w = t([64, 96], 6)
      const g = t([4, 32, 96], 7)
      return [tf.matMul(x, w), tf.matMul(tf.reshape(x, [128, 64]), tf.reshape(g, [128, 96]), true, false), tf.matMul(g, w, false, true)]
    })
  })

  it("gradients of matMul through tf.grads match cpu (2-D and batched)", async () => {
    // (tfjs's own BatchMatMul gradient does not reduce broadcast batch dims, on any backend,
    // so rank-3 x rank-2 products are differentiated through a reshape to 2-D)
    await expectSameOnCpuAndWasm("grads", () => {
      const loss = (x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.square(tf.matMul(x, y)))
      const attention = (q: tf.Tensor, k: tf.Tensor) => tf.sum(tf.square(tf.matMul(q, k, false, true)))
      return [
        ...tf.grads(loss)([t([24, 6], 8), t([6, 5], 9)]),
        ...tf.grads(attention)([t([3, 7, 4], 10), t([3, 9, 4], 11)])
      ]
    })
  })

  it("keeps the stock error for mismatched inner dims", async () => {
    await use("wasm")
    expect(() => tf.tidy(() => tf.matMul(t([3, 4], 1), t([5, 2], 2)))).toThrow(/inner shapes/)
  })

  it("cost model swaps only NT products with a wide output", () => {
    expect(preferSwap(9, 40, 300, false, true)).toBe(true)
    expect(preferSwap(2048, 256, 1024, false, true)).toBe(false)
    expect(preferSwap(500, 300, 7, true, false)).toBe(false)
    expect(preferSwap(9, 40, 300, false, false)).toBe(false)
    expect(preferSwap(9, 40, 300, true, true)).toBe(false)
  })

  it("maps broadcast batch indices", () => {
    const ia = broadcastIndexer([2, 3], [2, 1])
    const ib = broadcastIndexer([2, 3], [3])
    expect([0, 1, 2, 3, 4, 5].map(ia)).toEqual([0, 0, 0, 1, 1, 1])
    expect([0, 1, 2, 3, 4, 5].map(ib)).toEqual([0, 1, 2, 0, 1, 2])
  })
})

describe.each(modes)("Transpose override (%s)", (_mode, options) => {
  beforeAll(async () => {
    await use("wasm")
    reinstall(options)
  })
  afterAll(() => reinstall({}))

  const cases: Array<[Array<number>, Array<number>]> = [
    [[7, 5], [1, 0]],
    [[70, 45], [1, 0]],
    [[3, 4, 5], [0, 2, 1]],
    [[3, 4, 5], [1, 0, 2]],
    [[3, 4, 5], [2, 0, 1]],
    [[3, 4, 5], [2, 1, 0]],
    [[3, 4, 5], [0, 1, 2]],
    [[2, 3, 4, 5], [0, 2, 1, 3]],
    [[2, 3, 4, 5], [3, 2, 1, 0]],
    [[4, 1, 6, 5], [2, 0, 3, 1]],
    [[2, 17, 4, 20], [0, 2, 1, 3]],
    [[2, 3, 4, 5, 6], [4, 0, 3, 1, 2]],
    [[1, 1, 9], [2, 0, 1]],
    [[11], [0]],
    [[600, 500], [1, 0]],
    [[2, 520, 512], [0, 2, 1]],
    [[520, 1, 512], [2, 1, 0]]
  ]
  it.each(cases)("%j perm %j matches cpu (float32, int32, bool)", async (shape, perm) => {
    await expectSameOnCpuAndWasm(`transpose ${shape} ${perm}`, () => {
      const x = t(shape, 11)
      const i = tf.tensor(seededInts(12, size(shape), 1000), shape, "int32")
      return [tf.transpose(x, perm), tf.transpose(i, perm), tf.transpose(tf.greater(x, 0), perm)]
    }, 0)
  })

  it("recognises (batched) 2-D problems for the blocked path", () => {
    expect(asBlocked([600, 500], [1, 0])).toEqual({ batch: 1, rows: 600, cols: 500 })
    expect(asBlocked([2, 520, 512], [0, 2, 1])).toEqual({ batch: 2, rows: 520, cols: 512 })
    expect(asBlocked([2, 3, 4], [2, 0, 1])).toEqual({ batch: 1, rows: 6, cols: 4 })
    expect(asBlocked([2, 3, 4, 5], [0, 2, 1, 3])).toBeUndefined()
    expect(asBlocked([3, 4, 5], [1, 0, 2])).toBeUndefined()
  })

  it("simplifies shapes before moving data", () => {
    expect(simplify([2, 3, 4, 5], [0, 2, 1, 3])).toEqual({ shape: [2, 3, 4, 5], perm: [0, 2, 1, 3] })
    expect(simplify([2, 3, 4], [0, 1, 2])).toEqual({ shape: [24], perm: [0] })
    expect(simplify([2, 3, 4], [2, 0, 1])).toEqual({ shape: [6, 4], perm: [1, 0] })
    expect(simplify([4, 1, 6, 5], [2, 0, 3, 1])).toEqual({ shape: [4, 6, 5], perm: [1, 0, 2] })
  })
})

describe("Slice override", () => {
  const cases: Array<[Array<number>, Array<number>, Array<number>]> = [
    [[7, 5], [1, 2], [3, 2]],
    [[2, 3, 4, 5], [1, 0, 1, 0], [1, 3, 2, 5]],
    [[2, 3, 4, 5], [0, 1, 0, 2], [2, 2, 4, 3]],
    [[6], [2], [3]],
    [[4, 6, 8], [0, 0, 2], [4, 6, 4]],
    [[4, 6, 8], [1, 0, 0], [2, 6, 8]],
    [[4, 6, 40], [1, 2, 3], [2, 3, 30]],
    [[5, 7], [0, 0], [0, 7]]
  ]
  it.each(cases)("%j begin %j size %j matches cpu (float32, int32, bool)", async (shape, begin, sz) => {
    await expectSameOnCpuAndWasm(`slice ${shape}`, () => {
      const x = t(shape, 21)
      const i = tf.tensor(seededInts(22, size(shape), 1000), shape, "int32")
      return [tf.slice(x, begin, sz), tf.slice(i, begin, sz), tf.slice(tf.greater(x, 0), begin, sz)]
    }, 0)
  })
})

describe("SplitV override", () => {
  const cases: Array<[Array<number>, number | Array<number>, number]> = [
    [[2, 12, 5, 4], 3, 1],
    [[6, 4], [1, 3, 2], 0],
    [[3, 4, 10], [2, -1, 5], -1],
    [[2, 3, 4], 2, 2]
  ]
  it.each(cases)("%j split %j on axis %j matches cpu (float32, int32), and its gradient", async (shape, splits, axis) => {
    await expectSameOnCpuAndWasm(`split ${shape}`, () => {
      const x = t(shape, 31)
      const i = tf.tensor(seededInts(32, size(shape), 1000), shape, "int32")
      const g = tf.grad((a: tf.Tensor) => tf.addN(tf.split(a, splits, axis).map((p, k) => tf.sum(tf.mul(p, k + 1)))))(x)
      return [...tf.split(x, splits, axis), ...tf.split(i, splits, axis), g]
    }, 0)
  })
})

describe("Sum override", () => {
  const cases: Array<[Array<number>, Array<number>]> = [
    [[7, 5], [0]],
    [[2, 3, 4], [0, 1]],
    [[2, 3, 4], [0]],
    [[2, 3, 4], [1]],
    [[2, 3, 4], [2]],
    [[5, 6], [0, 1]],
    [[4, 33, 17], [0, 1]],
    [[512, 64], [0]]
  ]
  it.each(cases)("%j over %j matches cpu (float32, int32; keepDims both)", async (shape, axes) => {
    await expectSameOnCpuAndWasm(`sum ${shape} ${axes}`, () => {
      const x = t(shape, 31)
      const i = tf.tensor(seededInts(32, size(shape), 1000), shape, "int32")
      return [tf.sum(x, axes), tf.sum(x, axes, true), tf.sum(i, axes), tf.sum(i, axes, true)]
    })
  })
})

describe("GatherV2 override", () => {
  const cases: Array<[Array<number>, number, Array<number>]> = [
    [[7, 5], 0, [6, 0, 3, 3]],
    [[7, 5], 1, [4, 1, 1, 0]],
    [[3, 4, 18], 1, [3, 0]],
    [[3, 4, 18], 2, [17, 2, 9]],
    [[64, 200], 1, Array.from({ length: 10 }, (_, k) => k * 19)],
    [[9], 0, [8, 1]]
  ]
  it.each(cases)("%j along %i at %j matches cpu (float32, int32, bool; 2-D indices)", async (shape, axis, at) => {
    await expectSameOnCpuAndWasm(`gather ${shape} ${axis}`, () => {
      const x = t(shape, 51)
      const i = tf.tensor(seededInts(52, size(shape), 1000), shape, "int32")
      const b = tf.greater(x, 0)
      const idx = tf.tensor1d(at, "int32")
      const idx2 = tf.tensor2d([...at, ...at].slice(0, 2 * Math.floor(at.length / 2) || 2), [2, Math.max(1, Math.floor(at.length / 2))], "int32")
      return [tf.gather(x, idx, axis), tf.gather(i, idx, axis), tf.cast(tf.gather(b, idx, axis), "int32"), tf.gather(x, idx2, axis)]
    })
  })
  it("an index out of range is an error naming it", () => {
    expect(() => run(() => tf.gather(t([4, 3], 1), tf.tensor1d([0, 3], "int32"), 1))).toThrow(/index value 3 is not in \[0, 2\]/)
  })
})

describe("UnsortedSegmentSum (missing on stock wasm)", () => {
  it("matches cpu for float32 and int32, with repeated ids", async () => {
    await expectSameOnCpuAndWasm("segsum", () => {
      const ids = tf.tensor1d([1, 3, 3, 9, 0, 1, 9, 9], "int32")
      return [
        tf.unsortedSegmentSum(t([8, 4], 41), ids, 10),
        // cpu answers float32 for int32 data, wasm keeps int32 (as TensorFlow does): compare values
        tf.cast(tf.unsortedSegmentSum(tf.tensor(seededInts(42, 8 * 3, 50), [8, 3], "int32"), ids, 12), "float32"),
        tf.unsortedSegmentSum(t([8], 43), ids, 10)
      ]
    })
  })

  it("makes the embedding gradient (tf.grad of gather) work and match cpu", async () => {
    const embeddingGrad = () => {
      const table = t([50, 16], 44)
      const ids = tf.tensor2d(seededInts(45, 4 * 12, 50), [4, 12], "int32")
      const upstream = t([4, 12, 16], 46)
      return tf.grad((e: tf.Tensor) => tf.sum(tf.mul(tf.gather(e, ids), upstream)))(table)
    }
    await expectSameOnCpuAndWasm("embedding grad", embeddingGrad)
    WasmOverrides.uninstall()
    try {
      expect(() => run(embeddingGrad)).toThrow(/UnsortedSegmentSum/)
    } finally {
      WasmOverrides.install()
    }
  })
})

describe("installation", () => {
  it("uninstall restores the stock kernels and install is idempotent", async () => {
    await use("wasm")
    const ours = tf.getKernel("BatchMatMul", "wasm").kernelFunc
    WasmOverrides.install()
    expect(tf.getKernel("BatchMatMul", "wasm").kernelFunc).toBe(ours)
    WasmOverrides.uninstall()
    expect(WasmOverrides.isInstalled()).toBe(false)
    const stock = tf.getKernel("BatchMatMul", "wasm").kernelFunc
    expect(stock).not.toBe(ours)
    expect(tf.getKernel("UnsortedSegmentSum", "wasm")).toBeUndefined()
    const stockResult = run(() => tf.matMul(t([5, 7], 1), t([5, 3], 2), true, false))
    WasmOverrides.install()
    expect(WasmOverrides.isInstalled()).toBe(true)
    const ourResult = run(() => tf.matMul(t([5, 7], 1), t([5, 3], 2), true, false))
    expectClose("stock vs override", ourResult, stockResult)
    expect(dataIds()).toBeGreaterThanOrEqual(0)
  })
})
