/**
 * The fused wasm SIMD kernels (`kernels.wasm` on tfjs's heap) against the cpu backend's TF.js
 * composition, forward and gradients (through TF.js autodiff of the registered gradients), plus
 * finite-difference checks on wasm, argument errors and leaks. Tolerances are relative to
 * max(1, max |reference|): 1e-6 where the kernel does the composition's float32 operations
 * (ReLU forward), 2e-5 elsewhere (reordered sums, polynomial exp/log).
 */
import * as tf from "@tensorflow/tfjs-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import "../src/Gradients.ts"
import * as WasmOverrides from "../src/wasm/WasmOverrides.ts"
import { dataIds, expectClose, type Result, run, seeded, seededInts, use } from "./compare.ts"

const size = (shape: ReadonlyArray<number>) => shape.reduce((a, b) => a * b, 1)
const t = (shape: Array<number>, seed: number, scale = 1, offset = 0) =>
  tf.tensor(Float32Array.from(seeded(seed, size(shape)), (v) => v * scale + offset), shape)
const kernel = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}): Array<tf.Tensor> => {
  const out = tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as unknown
  return Array.isArray(out) ? out : [out as tf.Tensor]
}

/** Runs `composed` on cpu and `fused` on wasm (checking leaks there), compares; returns the worst error. */
const compare = async (label: string, composed: () => Array<tf.Tensor>, fused: () => Array<tf.Tensor>, tol = 2e-5): Promise<number> => {
  await use("cpu")
  const expected = run(composed)
  await use("wasm")
  const tensors = tf.memory().numTensors
  const data = dataIds()
  const actual = run(fused)
  expect(tf.memory().numTensors, `${label}: tensors leaked`).toBe(tensors)
  expect(dataIds(), `${label}: wasm data leaked`).toBe(data)
  return expectClose(label, actual, expected, tol)
}

/** Runs `f` on wasm with the override options `options`, then restores the defaults. */
const withOverrides = (options: WasmOverrides.OverrideOptions, f: () => Array<tf.Tensor>): Array<Result> => {
  WasmOverrides.uninstall()
  WasmOverrides.install(options)
  try {
    return run(f)
  } finally {
    WasmOverrides.uninstall()
    WasmOverrides.install()
  }
}

/** value and gradients of sum(f(xs)·w) for seeded weights w, as a tensor list. */
const withGrads = (f: (...xs: Array<tf.Tensor>) => Array<tf.Tensor>, xs: Array<tf.Tensor>, seed: number): Array<tf.Tensor> => {
  const outs = f(...xs)
  const ws = outs.map((o, i) => t([...o.shape], seed + i))
  const loss = (...ys: Array<tf.Tensor>) => tf.addN(f(...ys).map((o, i) => tf.sum(tf.mul(o, ws[i]!)))) as tf.Scalar
  return [...outs, ...tf.grads(loss)(xs)]
}

/**
 * Finite-difference check on the current backend: the derivative of sum(f(x)·w) along a seeded
 * direction v (central differences, step h) against <grad, v>; float32, so a loose tolerance.
 */
const finiteDifference = (f: (x: tf.Tensor) => tf.Tensor, x: tf.Tensor, seed: number, h = 1e-2): [number, number] =>
  tf.tidy(() => {
    const w = t([...f(x).shape], seed)
    const v = t([...x.shape], seed + 1)
    const loss = (y: tf.Tensor) => tf.sum(tf.mul(f(y), w)) as tf.Scalar
    const analytic = tf.sum(tf.mul(tf.grad(loss)(x), v)).dataSync()[0]!
    const plus = loss(tf.add(x, tf.mul(v, h))).dataSync()[0]!
    const minus = loss(tf.sub(x, tf.mul(v, h))).dataSync()[0]!
    return [analytic, (plus - minus) / (2 * h)]
  })

const expectFiniteDifference = (label: string, [analytic, numeric]: [number, number]) =>
  expect(Math.abs(analytic - numeric) / Math.max(1, Math.abs(numeric)), `${label}: ${analytic} vs ${numeric}`).toBeLessThan(2e-3)

beforeAll(async () => {
  await use("wasm")
})
afterAll(async () => {
  await use("cpu")
})

describe("RekindleAdam in wasm SIMD", () => {
  it.each([[[1031]], [[7]], [[64, 257]]])("equals the previous JavaScript kernel bit for bit (%j)", async (shape) => {
    await use("wasm")
    const call = () => {
      const n = size(shape)
      const ins = {
        g: t(shape, 1, 0.02),
        mu: t(shape, 2, 0.01),
        nu: t(shape, 3, 1e-4, 1e-4),
        bc1: tf.tensor(Float32Array.from(seeded(4, n), (v) => (v > 0 ? 0 : 0.19)), shape),
        bc2: tf.tensor(Float32Array.from(seeded(5, n), (v) => (v > 0.2 ? 0 : 0.002)), shape)
      }
      return kernel("RekindleAdam", ins, { b1: 0.9, b2: 0.999, eps: 1e-8 })
    }
    const js = withOverrides({ simdKernels: false }, call)
    const simd = withOverrides({}, call)
    simd.forEach((r, i) => expect(r.values, `output ${i}`).toEqual(js[i]!.values))
  })
})

describe("Sum over leading axes in wasm SIMD", () => {
  it.each([[[300, 256]], [[16, 9, 7]], [[1, 5]], [[67, 1030]]])("equals the previous JavaScript loop bit for bit and matches cpu (%j)", async (shape) => {
    await use("wasm")
    const call = () => [tf.sum(t(shape, 91, 4, 0.3), shape.length === 3 ? [0, 1] : 0)]
    const simd = withOverrides({}, call)
    expect(simd[0]!.values).toEqual(withOverrides({ simdKernels: false }, call)[0]!.values)
    await use("cpu")
    expectClose("sum vs cpu", simd, run(call), 1e-6)
  })
})

describe("UnsortedSegmentSum in wasm SIMD (float32)", () => {
  it("equals the previous JavaScript loop bit for bit: repeated and dropped ids, rank-3 data, odd rows", async () => {
    await use("wasm")
    const call = () => [
      tf.unsortedSegmentSum(t([2048, 256], 95, 3), tf.tensor1d(Int32Array.from(seededInts(96, 2048, 300), (v, i) => (i % 97 === 0 ? -1 : v)), "int32"), 290),
      tf.unsortedSegmentSum(t([12, 3, 7], 97), tf.tensor1d([1, 1, 5, 0, 9, 1, 2, 2, 2, 1, 0, 3], "int32"), 6)
    ]
    const simd = withOverrides({}, call)
    const js = withOverrides({ simdKernels: false }, call)
    simd.forEach((r, i) => expect(r.values, `case ${i}`).toEqual(js[i]!.values))
  })
})

describe("LayerNorm in wasm SIMD", () => {
  const eps = 1e-5
  const ln = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(x, -1, true)
    return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, eps))), g), b)
  }

  it("agrees with the previous JavaScript kernels", async () => {
    await use("wasm")
    const call = () => {
      const x = t([19, 45], 1, 3, 0.5)
      const g = t([45], 2, 1, 1)
      const [y, mean, rstd] = kernel("RekindleLayerNorm", { x, gain: g, bias: t([45], 3) }, { eps })
      return [y!, mean!, rstd!, ...kernel("RekindleLayerNormGrad", { dy: t([19, 45], 4), x, gain: g, mean: mean!, rstd: rstd! })]
    }
    expectClose("simd vs js", withOverrides({}, call), withOverrides({ simdKernels: false }, call), 1e-5)
  })

  it.each([[37, 64], [5, 7], [1, 33], [16, 256]])("RekindleAddLayerNorm: s = x + r and LayerNorm(s), gradients included, match cpu (%i x %i)", async (n, d) => {
    const inputs = () => [t([n, d], 11, 3, 0.5), t([n, d], 12, 2), t([d], 13, 1, 1), t([d], 14)]
    await compare(
      `addLayerNorm ${n}x${d}`,
      () => withGrads((x, r, g, b) => {
        const s = tf.add(x!, r!)
        return [s, ln(s, g!, b!)]
      }, inputs(), 20),
      () => withGrads((x, r, g, b) => kernel("RekindleAddLayerNorm", { x: x!, r: r!, gain: g!, bias: b! }, { eps }).slice(0, 2), inputs(), 20)
    )
  })

  it("passes a finite-difference check on wasm", async () => {
    await use("wasm")
    const r = t([6, 10], 31)
    const g = t([10], 32, 1, 1)
    const b = t([10], 33)
    expectFiniteDifference("addLayerNorm", finiteDifference((x) => {
      const [s, y] = kernel("RekindleAddLayerNorm", { x, r, gain: g, bias: b }, { eps })
      return tf.add(tf.mul(s!, 0.3), y!)
    }, t([6, 10], 30, 2), 34))
    tf.dispose([r, g, b])
  })
})

/** The model's GELU (tanh approximation through sigmoid). */
const gelu = (x: tf.Tensor) => tf.mul(x, tf.sigmoid(tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), 1.5957691216057308)))

describe("RekindleBiasActivation / RekindleActivation", () => {
  const acts = { relu: (x: tf.Tensor) => tf.relu(x), gelu, linear: (x: tf.Tensor) => x }
  const cases: Array<[keyof typeof acts, boolean, number, number]> = [
    ["relu", false, 33, 20], ["relu", true, 4, 7], ["gelu", false, 9, 130], ["gelu", true, 17, 31], ["linear", true, 21, 66]
  ]
  it.each(cases)("%s (bias %s, %i x %i) matches the cpu composition, gradients included", async (act, withBias, n, f) => {
    const inputs = () => [t([n, f], 41, 6), ...(withBias ? [t([f], 42)] : [])]
    const tol = act === "gelu" ? 2e-5 : 1e-6
    await compare(
      `${act} ${withBias}`,
      () => withGrads((x, b) => [acts[act](b === undefined ? x! : tf.add(x!, b))], inputs(), 43),
      () => withGrads((x, b) => kernel(b === undefined ? "RekindleActivation" : "RekindleBiasActivation", b === undefined ? { x: x! } : { x: x!, bias: b }, { activation: act }), inputs(), 43),
      tol
    )
  })

  it("GELU passes a finite-difference check on wasm", async () => {
    await use("wasm")
    const b = t([12], 51)
    expectFiniteDifference("gelu", finiteDifference((x) => kernel("RekindleBiasActivation", { x, bias: b }, { activation: "gelu" })[0]!, t([5, 12], 50, 4), 52))
    b.dispose()
  })

  it("rejects an unknown activation and a bias of the wrong size", async () => {
    await use("wasm")
    const before = dataIds()
    const x = t([3, 4], 1)
    const b = t([5], 2)
    expect(() => kernel("RekindleActivation", { x }, { activation: "tanh" })).toThrow(/activation must be "relu", "gelu" or "linear", got tanh/)
    expect(() => kernel("RekindleBiasActivation", { x, bias: b }, { activation: "relu" })).toThrow(/bias must have 4 elements/)
    tf.dispose([x, b])
    expect(dataIds()).toBe(before)
  })
})

describe("RekindleSoftmax (scale, causal mask)", () => {
  const mask = (t: number) => tf.tensor2d(Float32Array.from({ length: t * t }, (_, k) => (k % t > Math.floor(k / t) ? -1e9 : 0)), [t, t])
  const composed = (x: tf.Tensor, scale: number, causal: boolean) => {
    const s = tf.mul(x, scale)
    return tf.softmax(causal ? tf.add(s, mask(x.shape[x.rank - 1]!)) : s)
  }
  const cases: Array<[Array<number>, boolean]> = [[[2, 9, 9], true], [[4, 33, 33], true], [[3, 5, 130], false], [[2, 4, 16, 16], true]]
  it.each(cases)("%j (causal %s) matches softmax(scale·x + mask) on cpu, gradients included", async (shape, causal) => {
    const inputs = () => [t(shape, 61, 8)]
    await compare(
      `softmax ${shape}`,
      () => withGrads((x) => [composed(x!, 0.37, causal)], inputs(), 62),
      () => withGrads((x) => kernel("RekindleSoftmax", { x: x! }, { scale: 0.37, causal }), inputs(), 62)
    )
  })

  it("masks later keys with exact zeros and passes a finite-difference check", async () => {
    await use("wasm")
    const p = run(() => kernel("RekindleSoftmax", { x: t([1, 6, 6], 70, 20) }, { scale: 1, causal: true }))[0]!.values
    for (let i = 0; i < 6; i++) for (let j = i + 1; j < 6; j++) expect(p[i * 6 + j]).toBe(0)
    expectFiniteDifference("softmax", finiteDifference((x) => kernel("RekindleSoftmax", { x }, { scale: 0.5, causal: true })[0]!, t([2, 7, 7], 71, 4), 72))
  })

  /** softmax(scale·x + causal + padding mask), the padding as an additive −1e9 per sequence. */
  const composedPadded = (x: tf.Tensor, scale: number, causal: boolean, lengths: ReadonlyArray<number>) => {
    const t = x.shape[x.rank - 1]!
    const rows = x.size / t
    const pad = Float32Array.from({ length: rows * t }, (_, k) => (k % t >= lengths[Math.floor(Math.floor(k / t) / (rows / lengths.length))]! ? -1e9 : 0))
    const s = tf.add(tf.mul(x, scale), tf.reshape(tf.tensor(pad), x.shape))
    return tf.softmax(causal ? tf.add(s, mask(t)) : s)
  }
  const padded: Array<[Array<number>, boolean, Array<number>]> = [
    [[2, 3, 9, 9], false, [9, 4]],
    [[6, 16, 16], true, [3, 16, 11]],
    [[2, 5, 130], false, [1, 77]]
  ]
  it.each(padded)("%j (causal %s) with key lengths %j matches the composition with an additive padding mask, gradients included", async (shape, causal, lengths) => {
    const inputs = () => [t(shape, 63, 8)]
    await compare(
      `padded softmax ${shape}`,
      () => withGrads((x) => [composedPadded(x!, 0.37, causal, lengths)], inputs(), 64),
      () => withGrads((x) => kernel("RekindleSoftmax", { x: x!, keyLengths: tf.tensor1d(lengths, "int32") }, { scale: 0.37, causal }), inputs(), 64)
    )
    // masked keys are exactly 0
    await use("wasm")
    const y = run(() => kernel("RekindleSoftmax", { x: inputs()[0]!, keyLengths: tf.tensor1d(lengths, "int32") }, { scale: 0.37, causal }))[0]!.values
    const tt = shape[shape.length - 1]!
    const rows = y.length / tt
    for (let r = 0; r < rows; r++) {
      const len = lengths[Math.floor(r / (rows / lengths.length))]!
      for (let j = len; j < tt; j++) expect(y[r * tt + j]).toBe(0)
    }
  })

  it("rejects key lengths out of range or not dividing the rows", async () => {
    await use("wasm")
    const x = t([4, 5, 5], 1)
    expect(() => kernel("RekindleSoftmax", { x, keyLengths: tf.tensor1d([0, 3], "int32") })).toThrow(/keyLengths\[0\] must be in \[1, 5\], got 0/)
    expect(() => kernel("RekindleSoftmax", { x, keyLengths: tf.tensor1d([6, 3], "int32") })).toThrow(/keyLengths\[0\] must be in \[1, 5\], got 6/)
    expect(() => kernel("RekindleSoftmax", { x, keyLengths: tf.tensor1d([1, 2, 3], "int32") })).toThrow(/B dividing the 20 score rows/)
    x.dispose()
  })

  it("rejects a causal softmax of non-square scores", async () => {
    await use("wasm")
    const x = t([2, 3, 5], 1)
    expect(() => kernel("RekindleSoftmax", { x }, { causal: true })).toThrow(/causal softmax needs \[\.\., T, T\] scores/)
    x.dispose()
  })
})

describe("RekindleSoftmaxCrossEntropy", () => {
  const minP = 1e-37
  const [m, v] = [13, 517]
  const logits = () => {
    const x = t([m, v], 81, 12)
    // row 0: its target's probability underflows (the clamp at minProbability decides the loss)
    return tf.concat([tf.sub(tf.slice(x, [0, 0], [1, v]), tf.mul(tf.oneHot(tf.tensor1d([5], "int32"), v), 2000)), tf.slice(x, [1, 0], [m - 1, v])])
  }
  const targets = () => tf.tensor1d(Int32Array.from(seededInts(82, m, v), (x, i) => (i === 0 ? 5 : x)), "int32")
  const composedRows = (x: tf.Tensor2D, y: tf.Tensor1D) => {
    const p = tf.softmax(x)
    const flat = tf.add(tf.range(0, m * v, v, "int32"), y)
    return tf.neg(tf.log(tf.maximum(tf.gather(tf.reshape(p, [-1]), flat), minP)))
  }

  it("per-row losses and probabilities match the cpu composition", async () => {
    await compare(
      "xent forward",
      () => [composedRows(logits() as tf.Tensor2D, targets()), tf.softmax(logits())],
      () => kernel("RekindleSoftmaxCrossEntropy", { logits: logits(), targets: targets() }, { minProbability: minP })
    )
    await use("wasm")
    const loss0 = run(() => kernel("RekindleSoftmaxCrossEntropy", { logits: logits(), targets: targets() }, { minProbability: minP })[0]!)[0]!.values[0]!
    expect(loss0).toBeCloseTo(-Math.log(Math.fround(minP)), 4)
  })

  it("the gradient is (p − onehot)·dy, per row or one dy over a divisor", async () => {
    const composedGrad = (dy: tf.Tensor) => tf.mul(tf.sub(tf.softmax(logits()), tf.cast(tf.oneHot(targets(), v), "float32")), dy)
    const fusedGrad = (dy: tf.Tensor, divisor: number) => {
      const [, p] = kernel("RekindleSoftmaxCrossEntropy", { logits: logits(), targets: targets() }, { minProbability: minP })
      return kernel("RekindleSoftmaxCrossEntropyGrad", { p: p!, targets: targets(), dy }, { divisor })
    }
    await compare("xent grad per row", () => [composedGrad(tf.reshape(t([m], 83), [m, 1]))], () => fusedGrad(t([m], 83), 1))
    await compare("xent grad mean", () => [composedGrad(tf.div(tf.scalar(1.5), m))], () => fusedGrad(tf.scalar(1.5), m))
  })

  it("rejects targets outside the vocabulary, leaking nothing", async () => {
    await use("wasm")
    const before = dataIds()
    const x = t([2, 4], 1)
    const y = tf.tensor1d([1, 4], "int32")
    expect(() => kernel("RekindleSoftmaxCrossEntropy", { logits: x, targets: y })).toThrow(/targets\[1\] = 4 is outside the vocabulary \[0, 4\)/)
    tf.dispose([x, y])
    expect(dataIds()).toBe(before)
  })
})

describe("override sets", () => {
  it("simdKernels: false registers none of the SIMD-only kernels; the default registers all", async () => {
    await use("wasm")
    const simdOnly = ["RekindleAddLayerNorm", "RekindleActivation", "RekindleBiasActivation", "RekindleSoftmax", "RekindleSoftmaxCrossEntropy"]
    const registered = (options: WasmOverrides.OverrideOptions) => {
      WasmOverrides.uninstall()
      WasmOverrides.install(options)
      const r = simdOnly.filter((n) => tf.getKernel(n, "wasm") !== undefined)
      WasmOverrides.uninstall()
      WasmOverrides.install()
      return r
    }
    expect(registered({ simdKernels: false })).toEqual([])
    expect(registered({})).toEqual(simdOnly)
    expect(registered({ softmax: false })).toEqual(simdOnly.filter((n) => n !== "RekindleSoftmax"))
  })
})
