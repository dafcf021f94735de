/**
 * The zero-copy Identity and the fused Adam kernel of the wasm overrides: equal to the cpu
 * backend's results (Adam: to its op-by-op composition, bit for bit), no leaks, and the sharing
 * semantics of Identity (disposing either tensor keeps the other readable).
 */
import * as tf from "@tensorflow/tfjs-core"
import { beforeAll, describe, expect, it } from "vitest"
import * as AdamKernel from "../src/wasm/AdamKernel.ts"
import * as ColumnDotKernel from "../src/wasm/ColumnDotKernel.ts"
import * as WasmOverrides from "../src/wasm/WasmOverrides.ts"
import "../src/Gradients.ts"
import { dataIds, expectClose, expectSameOnCpuAndWasm, run, seeded, use } from "./compare.ts"

const size = (shape: ReadonlyArray<number>) => shape.reduce((a, b) => a * b, 1)
const t = (shape: Array<number>, seed: number, scale = 1, offset = 0) =>
  tf.tensor(Float32Array.from(seeded(seed, size(shape)), (v) => v * scale + offset), shape)

beforeAll(async () => {
  await use("wasm")
})

/** Adam written op by op, as in @rekindle/plugin-optim's scaleByAdam. */
const composed = (g: tf.Tensor, mu: tf.Tensor, nu: tf.Tensor, bc1: tf.Tensor, bc2: tf.Tensor, b1: number, b2: number, eps: number) => {
  const m = tf.add(tf.mul(mu, b1), tf.mul(g, 1 - b1))
  const v = tf.add(tf.mul(nu, b2), tf.mul(tf.square(g), 1 - b2))
  const c1 = tf.add(tf.mul(bc1, b1), 1 - b1)
  const c2 = tf.add(tf.mul(bc2, b2), 1 - b2)
  return [m, v, c1, c2, tf.div(tf.div(m, c1), tf.add(tf.sqrt(tf.div(v, c2)), eps))]
}

const inputs = (shape: Array<number>, step: number) => ({
  g: t(shape, 1 + step, 0.02),
  mu: t(shape, 2 + step, 0.01),
  nu: t(shape, 3 + step, 1e-4, 1e-4),
  // bias-correction slots: some elements fresh (0, as after a recycling reset), others mid-run
  bc1: tf.tensor(Float32Array.from(seeded(4 + step, size(shape)), (v) => (v > 0 ? 0 : 1 - 0.9 ** (step + 3))), shape),
  bc2: tf.tensor(Float32Array.from(seeded(5 + step, size(shape)), (v) => (v > 0.2 ? 0 : 1 - 0.999 ** (step + 3))), shape)
})

describe("RekindleAdam (fused Adam kernel)", () => {
  const cases: Array<[string, Array<number>, number, number, number]> = [
    ["matrix, default betas", [67, 33], 0.9, 0.999, 1e-8],
    ["vector, other betas", [257], 0.8, 0.99, 1e-6],
    ["scalar-sized", [1], 0.9, 0.999, 1e-8]
  ]
  it.each(cases)("equals the op-by-op composition on cpu bit for bit (%s)", async (_label, shape, b1, b2, eps) => {
    await use("cpu")
    const expected = run(() => {
      const x = inputs(shape, 0)
      return composed(x.g, x.mu, x.nu, x.bc1, x.bc2, b1, b2, eps)
    })
    await use("wasm")
    const tensorsBefore = tf.memory().numTensors
    const dataBefore = dataIds()
    const actual = run(() => {
      const x = inputs(shape, 0)
      return tf.engine().runKernel(AdamKernel.kernelName, x as unknown as tf.NamedTensorMap, { b1, b2, eps }) as unknown as Array<tf.Tensor>
    })
    expect(tf.memory().numTensors).toBe(tensorsBefore)
    expect(dataIds()).toBe(dataBefore)
    expect(actual.map((r) => r.shape)).toEqual(expected.map((r) => r.shape))
    actual.forEach((r, i) => expect(r.values, `output ${i}`).toEqual(expected[i]!.values))
  })

  it("equals the stock wasm kernels' composition too", async () => {
    await use("wasm")
    const [fused, stock] = [true, false].map((f) =>
      run(() => {
        const x = inputs([40, 9], 7)
        return f
          ? tf.engine().runKernel(AdamKernel.kernelName, x as unknown as tf.NamedTensorMap, { b1: 0.9, b2: 0.999, eps: 1e-8 }) as unknown as Array<tf.Tensor>
          : composed(x.g, x.mu, x.nu, x.bc1, x.bc2, 0.9, 0.999, 1e-8)
      })
    )
    fused!.forEach((r, i) => expect(r.values, `output ${i}`).toEqual(stock![i]!.values))
  })

  it("rejects mismatched sizes and non-float inputs", async () => {
    await use("wasm")
    const bad = (g: tf.Tensor) => () =>
      tf.tidy(() => {
        const x = { ...inputs([4], 0), g }
        tf.engine().runKernel(AdamKernel.kernelName, x as unknown as tf.NamedTensorMap, { b1: 0.9, b2: 0.999, eps: 1e-8 })
      })
    expect(bad(tf.zeros([5]))).toThrow(/differ in size/)
    expect(bad(tf.zeros([4], "int32"))).toThrow(/float32/)
  })
})

/** Runs `f` with the overrides' JavaScript kernels (`simdKernels: false`), then restores the defaults. */
const withJsKernels = <A>(f: () => A): A => {
  WasmOverrides.uninstall()
  WasmOverrides.install({ simdKernels: false })
  try {
    return f()
  } finally {
    WasmOverrides.uninstall()
    WasmOverrides.install()
  }
}

/** Adam's update, then the decay and the learning-rate factor, op by op (plugin-optim's chain). */
const composedTail = (x: ReturnType<typeof inputs>, p: tf.Tensor | undefined, wd: number, scale: number) => {
  const [m, v, c1, c2, u] = composed(x.g, x.mu, x.nu, x.bc1, x.bc2, 0.9, 0.999, 1e-8)
  const decayed = p === undefined ? u! : tf.add(u!, tf.mul(p, wd))
  return [m!, v!, c1!, c2!, tf.mul(decayed, scale)]
}

describe("RekindleAdamW (Adam + decoupled weight decay + learning-rate factor)", () => {
  const cases: Array<[string, Array<number>, boolean]> = [
    ["matrix with decay", [67, 33], true],
    ["vector without decay (lr factor only)", [257], false],
    ["odd size with decay", [7], true]
  ]
  it.each(cases)("equals Adam, decay and lr composed op by op, on cpu and on SIMD and JS kernels, bit for bit (%s)", async (_label, shape, decay) => {
    const wd = 0.01
    const scale = -3e-4
    const args = () => {
      const x = inputs(shape, 2)
      return { x, p: decay ? t(shape, 9, 0.5) : undefined }
    }
    await use("cpu")
    const expected = run(() => {
      const { x, p } = args()
      return composedTail(x, p, wd, scale)
    })
    await use("wasm")
    const fused = () => run(() => {
      const { x, p } = args()
      return tf.engine().runKernel(
        AdamKernel.tailKernelName,
        { ...x, ...(p === undefined ? {} : { p }) } as unknown as tf.NamedTensorMap,
        { b1: 0.9, b2: 0.999, eps: 1e-8, scale, ...(p === undefined ? {} : { wd }) }
      ) as unknown as Array<tf.Tensor>
    })
    const stockWasm = run(() => {
      const { x, p } = args()
      return composedTail(x, p, wd, scale)
    })
    const simd = fused()
    simd.forEach((r, i) => expect(r.values, `output ${i} vs cpu`).toEqual(expected[i]!.values))
    simd.forEach((r, i) => expect(r.values, `output ${i} vs stock wasm`).toEqual(stockWasm[i]!.values))
    // the JavaScript loop (simdKernels: false) computes the same bits
    const tensorsBefore = tf.memory().numTensors
    withJsKernels(() => fused()).forEach((r, i) => expect(r.values, `JS output ${i}`).toEqual(simd[i]!.values))
    expect(tf.memory().numTensors).toBe(tensorsBefore)
  })

  it("rejects a parameter of another size", async () => {
    await use("wasm")
    expect(() => tf.tidy(() => {
      tf.engine().runKernel(AdamKernel.tailKernelName, { ...inputs([4], 0), p: tf.zeros([5]) } as unknown as tf.NamedTensorMap, { b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.1 })
    })).toThrow(/input p must be float32 of size 4/)
  })
})

describe("RekindleAdamWApply (the update added to the parameter in the same pass)", () => {
  it.each([["matrix with decay", [67, 33], true], ["odd vector without decay", [257], false]] as Array<[string, Array<number>, boolean]>)(
    "equals the composed tail then p + u, on cpu and on SIMD and JS kernels, bit for bit (%s)",
    async (_label, shape, decay) => {
      const wd = 0.01
      const scale = -3e-4
      const composedApply = () => {
        const x = inputs(shape, 3)
        const p = t(shape, 11, 0.5)
        const [m, v, c1, c2, u] = composedTail(x, decay ? p : undefined, wd, scale)
        return [m!, v!, c1!, c2!, tf.add(p, u!)]
      }
      await use("cpu")
      const expected = run(composedApply)
      await use("wasm")
      const fused = () => run(() => tf.engine().runKernel(
        AdamKernel.applyKernelName,
        { ...inputs(shape, 3), p: t(shape, 11, 0.5) } as unknown as tf.NamedTensorMap,
        { b1: 0.9, b2: 0.999, eps: 1e-8, scale, ...(decay ? { wd } : {}) }
      ) as unknown as Array<tf.Tensor>)
      const simd = fused()
      simd.forEach((r, i) => expect(r.values, `output ${i} vs cpu`).toEqual(expected[i]!.values))
      simd.forEach((r, i) => expect(r.values, `output ${i} vs stock wasm`).toEqual(run(composedApply)[i]!.values))
      withJsKernels(() => fused()).forEach((r, i) => expect(r.values, `JS output ${i}`).toEqual(simd[i]!.values))
    }
  )

  it("needs the parameter", async () => {
    await use("wasm")
    expect(() => tf.tidy(() => {
      tf.engine().runKernel(AdamKernel.applyKernelName, inputs([4], 0) as unknown as tf.NamedTensorMap, { b1: 0.9, b2: 0.999, eps: 1e-8 })
    })).toThrow(/RekindleAdamWApply: missing input p/)
  })
})

describe("Identity override (no copy)", () => {
  it("clone and saved-for-backward tensors match cpu, gradients included", async () => {
    await expectSameOnCpuAndWasm("clone", () => tf.clone(t([13, 7], 3)))
    await expectSameOnCpuAndWasm("grad through saved tensors", () => {
      const x = t([9, 5], 4)
      const w = t([5, 6], 5)
      return tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.relu(tf.matMul(a, b)))))([x, w])
    })
  })

  it("shares the data: either tensor stays readable after the other is disposed", async () => {
    await use("wasm")
    const dataBefore = dataIds()
    const a = t([3, 4], 6)
    const values = Array.from(a.dataSync())
    const b = tf.clone(a)
    expect(dataIds()).toBe(dataBefore + 1)
    a.dispose()
    expect(Array.from(b.dataSync())).toEqual(values)
    const c = tf.clone(b)
    b.dispose()
    expect(Array.from(c.dataSync())).toEqual(values)
    c.dispose()
    expect(dataIds()).toBe(dataBefore)
  })

  it("a variable assigned from a clone keeps its value when the clone's source is disposed", async () => {
    await use("wasm")
    const v = tf.variable(tf.zeros([4]))
    tf.tidy(() => {
      const x = tf.tensor([1, 2, 3, 4])
      v.assign(tf.clone(x))
    })
    expect(Array.from(v.dataSync())).toEqual([1, 2, 3, 4])
    v.dispose()
  })
})

describe("GatherV2 override (axis 0)", () => {
  it("matches cpu: embedding rows, repeated ids, flat picks, int32 and bool data, empty", async () => {
    await expectSameOnCpuAndWasm("rows", () => tf.gather(t([50, 33], 7), tf.tensor1d([3, 0, 49, 3, 17], "int32")))
    await expectSameOnCpuAndWasm("2-D ids", () => tf.gather(t([9, 4, 5], 8), tf.tensor2d([[1, 2], [8, 0], [1, 1]], [3, 2], "int32")))
    await expectSameOnCpuAndWasm("flat pick", () => tf.gather(t([200], 9), tf.tensor1d([199, 0, 57], "int32")))
    await expectSameOnCpuAndWasm("int32", () => tf.gather(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2], "int32"), tf.tensor1d([2, 0], "int32")))
    await expectSameOnCpuAndWasm("bool", () => tf.gather(tf.tensor1d([true, false, true], "bool"), tf.tensor1d([1, 2, 1], "int32")))
    await expectSameOnCpuAndWasm("empty ids", () => tf.gather(t([4, 3], 10), tf.tensor1d([], "int32")))
    await expectSameOnCpuAndWasm("axis 1 (stock)", () => tf.gather(t([4, 6], 11), tf.tensor1d([5, 0], "int32"), 1))
  })

  it("rejects out-of-range ids like the stock kernel and leaks nothing", async () => {
    await use("wasm")
    const before = dataIds()
    const x = t([4, 3], 12)
    const bad = tf.tensor1d([1, 4], "int32")
    expect(() => tf.gather(x, bad)).toThrow(/index value 4 is not in \[0, 3\]/)
    expect(() => tf.gather(x, tf.tensor1d([-1], "int32"))).toThrow(/not in/)
    tf.dispose([x, bad])
    expect(dataIds()).toBeLessThanOrEqual(before + 1)
  })
})

describe("Cast override (same dtype shares data)", () => {
  it("matches cpu for same-dtype and converting casts", async () => {
    await expectSameOnCpuAndWasm("float32 -> float32", () => tf.cast(t([5, 6], 13), "float32"))
    await expectSameOnCpuAndWasm("float32 -> int32", () => tf.cast(tf.mul(t([5, 6], 14), 10), "int32"))
    await expectSameOnCpuAndWasm("int32 -> float32", () => tf.cast(tf.tensor1d([1, -2, 3], "int32"), "float32"))
    await expectSameOnCpuAndWasm("bool -> float32", () => tf.cast(tf.tensor1d([true, false], "bool"), "float32"))
  })

  it("a same-dtype cast stays readable after its source is disposed", async () => {
    await use("wasm")
    const a = t([3], 15)
    const values = Array.from(a.dataSync())
    const b = tf.cast(a, "float32")
    a.dispose()
    expect(Array.from(b.dataSync())).toEqual(values)
    b.dispose()
  })
})

describe("RekindleLayerNorm / RekindleLayerNormGrad", () => {
  const eps = 1e-5
  const composed = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(x, -1, true)
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), g), b)
  }
  const cases: Array<[string, number, number]> = [["reference-like", 37, 64], ["odd", 5, 7], ["one row", 1, 33]]

  it.each(cases)("forward and gradients match the cpu composition (%s)", async (_label, n, d) => {
    const data = () => ({ x: t([n, d], 21, 3, 0.5), g: t([d], 22, 1, 1), b: t([d], 23), dy: t([n, d], 24) })
    await use("cpu")
    const expected = run(() => {
      const { x, g, b, dy } = data()
      const y = composed(x, g, b)
      const grads = tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(composed(xx, gg, bb), dy)))([x, g, b])
      return [y, ...grads]
    })
    await use("wasm")
    const before = dataIds()
    const actual = run(() => {
      const { x, g, b, dy } = data()
      const [y, mean, rstd] = tf.engine().runKernel("RekindleLayerNorm", { x, gain: g, bias: b } as unknown as tf.NamedTensorMap, { eps }) as unknown as Array<tf.Tensor>
      const grads = tf.engine().runKernel("RekindleLayerNormGrad", { dy, x, gain: g, mean: mean!, rstd: rstd! } as unknown as tf.NamedTensorMap, {}) as unknown as Array<tf.Tensor>
      return [y!, ...grads]
    })
    expect(dataIds()).toBe(before)
    expectClose("layerNorm", actual, expected, 2e-5)
  })

  it("rejects non-2-D x and mismatched gains", async () => {
    await use("wasm")
    const call = (x: tf.Tensor, g: tf.Tensor) => () =>
      tf.tidy(() => void tf.engine().runKernel("RekindleLayerNorm", { x, gain: g, bias: g } as unknown as tf.NamedTensorMap, { eps }))
    expect(call(tf.zeros([2, 3, 4]), tf.zeros([4]))).toThrow(/2-D/)
    expect(call(tf.zeros([2, 4]), tf.zeros([5]))).toThrow(/4 elements/)
  })
})

describe("RekindleColumnDot", () => {
  it("equals sum(a·b, 0) of the cpu backend (float64 accumulation: to float32 rounding), no leaks", async () => {
    for (const shape of [[1, 1], [7, 13], [300, 65]] as Array<[number, number]>) {
      const a = () => t(shape, 11, 2)
      const b = () => t(shape, 12, 0.5)
      await use("wasm")
      const actual = run(() => tf.engine().runKernel("RekindleColumnDot", { a: a(), b: b() } as unknown as tf.NamedTensorMap, {}) as tf.Tensor)
      await use("cpu")
      const expected = run(() => tf.sum(tf.mul(a(), b()), 0))
      expectClose(`columnDot ${shape}`, actual, expected, 1e-5)
    }
    await use("wasm")
    // bit for bit the float64 sum over rows in row order, rounded once (rows not a multiple of 4 included)
    for (const shape of [[3, 5], [301, 65], [1024, 33]] as Array<[number, number]>) {
      const [n, d] = shape
      const av = seeded(21, n * d).map((v) => Math.fround(v * 3))
      const bv = seeded(22, n * d).map((v) => Math.fround(v * 0.25))
      const expected = new Float32Array(d)
      for (let j = 0; j < d; j++) {
        let s = 0
        for (let r = 0; r < n; r++) s += av[r * d + j]! * bv[r * d + j]!
        expected[j] = s
      }
      const actual = tf.tidy(() =>
        (tf.engine().runKernel("RekindleColumnDot", { a: tf.tensor2d(av, shape), b: tf.tensor2d(bv, shape) } as unknown as tf.NamedTensorMap, {}) as tf.Tensor).dataSync()
      )
      expect(Array.from(actual)).toEqual(Array.from(expected))
      // both implementations (JavaScript and wasm SIMD), called directly: the same bits
      for (const [name, kernel] of [["js", ColumnDotKernel.kernel], ["simd", ColumnDotKernel.simdKernel]] as const) {
        const got = tf.tidy(() => {
          const a = tf.tensor2d(av, shape)
          const b = tf.tensor2d(bv, shape)
          const info = kernel({ inputs: { a, b }, backend: tf.backend(), attrs: {} }) as tf.TensorInfo
          return tf.engine().makeTensorFromTensorInfo(info).dataSync()
        })
        expect(Array.from(got), `${name} ${shape}`).toEqual(Array.from(expected))
      }
    }
    const before = tf.memory().numTensors
    const x = t([5, 3], 1)
    tf.tidy(() => void tf.engine().runKernel("RekindleColumnDot", { a: x, b: x } as unknown as tf.NamedTensorMap, {}))
    x.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })
})
