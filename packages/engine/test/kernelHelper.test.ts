/**
 * The kernel helper thread (KernelHelper.ts) on the threaded wasm build: every kernel it splits
 * (Adam, LayerNorm and add + LayerNorm forward, bias + activation, softmax with its masks and its
 * gradient, softmax cross-entropy and its gradient by rows; LayerNorm's and bias + activation's
 * gradients by rows and their column sums by columns; Sum over leading axes by columns) gives the same bits with the helper taking
 * slices as on the calling thread alone, the helper really takes slices, a stopped helper leaves
 * the calling thread doing everything with the same bits, and a process that used the helper ends
 * by itself.
 */
import { spawnSync } from "node:child_process"
import { createRequire } from "node:module"
import { fileURLToPath } from "node:url"
import * as tf from "@tensorflow/tfjs-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as KernelHelper from "../src/wasm/KernelHelper.ts"
import { memoryOf } from "../src/wasm/KernelModule.ts"
import * as WasmOverrides from "../src/wasm/WasmOverrides.ts"
import { internals } from "../src/wasm/WasmHeap.ts"
import { type Result, run, seeded, seededInts, use } from "./compare.ts"

const t = (shape: Array<number>, seed: number) => tf.tensor(seeded(seed, shape.reduce((a, b) => a * b, 1)), shape)
const kernel = (name: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown> = {}) => {
  const out = tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap)
  return Array.isArray(out) ? (out as Array<tf.Tensor>) : [out as tf.Tensor]
}

/** Each split kernel on inputs above the size threshold (sizes not multiples of the slice count). */
const cases: Array<[string, () => Array<tf.Tensor>]> = [
  ["RekindleAdamWApply (n not a multiple of 4)", () => {
    const n = 140_003
    const [g, mu, nu, p] = [1, 2, 3, 4].map((s) => t([n], s))
    const bc = tf.fill([n], 0.5)
    return kernel("RekindleAdamWApply", { g: g!, mu: mu!, nu: tf.abs(nu!), bc1: bc, bc2: bc, p: p! }, { b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01, scale: -1e-3 })
  }],
  ["RekindleAdam", () => {
    const n = 133_000
    const [g, mu, nu] = [5, 6, 7].map((s) => t([n], s))
    const bc = tf.fill([n], 0.3)
    return kernel("RekindleAdam", { g: g!, mu: mu!, nu: tf.abs(nu!), bc1: bc, bc2: bc }, { b1: 0.9, b2: 0.999, eps: 1e-8 })
  }],
  ["RekindleLayerNorm", () => kernel("RekindleLayerNorm", { x: t([601, 256], 8), gain: t([256], 9), bias: t([256], 10) }, { eps: 1e-5 })],
  ["RekindleAddLayerNorm", () => kernel("RekindleAddLayerNorm", { x: t([601, 256], 11), r: t([601, 256], 12), gain: t([256], 13), bias: t([256], 14) }, { eps: 1e-5 })],
  ["RekindleLayerNormGrad (d not a multiple of 4)", () => {
    const [, mean, rstd] = kernel("RekindleLayerNorm", { x: t([601, 258], 27), gain: t([258], 28), bias: t([258], 29) }, { eps: 1e-5 })
    const args = { dy: t([601, 258], 30), x: t([601, 258], 27), gain: t([258], 28), mean: mean!, rstd: rstd! }
    return [...kernel("RekindleLayerNormGrad", args), ...kernel("RekindleLayerNormGrad", { ...args, ds: t([601, 258], 31) })]
  }],
  ["RekindleBiasActivationGrad gelu with a bias, relu without", () => [
    ...kernel("RekindleBiasActivationGrad", { dy: t([131, 1027], 32), x: t([131, 1027], 33), bias: t([1027], 34) }, { activation: "gelu" }),
    ...kernel("RekindleBiasActivationGrad", { dy: t([131, 1024], 35), x: t([131, 1024], 36) }, { activation: "relu" })
  ]],
  ["Sum over leading axes", () => [tf.sum(t([7, 100, 301], 37), [0, 1]), tf.sum(t([700, 1030], 38), 0)]],
  ["RekindleBiasActivation gelu", () => kernel("RekindleBiasActivation", { x: t([131, 1027], 15), bias: t([1027], 16) }, { activation: "gelu" })],
  ["RekindleActivation relu", () => kernel("RekindleActivation", { x: t([131, 1024], 17) }, { activation: "relu" })],
  ["RekindleSoftmax plain", () => kernel("RekindleSoftmax", { x: t([9, 120, 130], 18) }, { scale: 0.125 })],
  ["RekindleSoftmax causal with key lengths", () => {
    const keyLengths = tf.tensor1d([64, 1, 33, 64, 17], "int32")
    return kernel("RekindleSoftmax", { x: t([5 * 7, 64, 64], 19), keyLengths }, { scale: 0.25, causal: true })
  }],
  ["RekindleSoftmax causal", () => kernel("RekindleSoftmax", { x: t([35, 64, 64], 20) }, { scale: 0.25, causal: true })],
  ["RekindleSoftmaxGrad", () => kernel("RekindleSoftmaxGrad", { y: t([1201, 128], 21), dy: t([1201, 128], 22) }, { scale: 0.125 })],
  ["RekindleSoftmaxCrossEntropy and its gradient", () => {
    const m = 140, v = 1000
    const targets = tf.tensor1d(seededInts(23, m, v), "int32")
    const [loss, p] = kernel("RekindleSoftmaxCrossEntropy", { logits: tf.mul(t([m, v], 24), 8), targets }, { minProbability: 1e-9 })
    const perRow = kernel("RekindleSoftmaxCrossEntropyGrad", { p: p!, targets, dy: t([m], 25) }, { divisor: 3 })
    const shared = kernel("RekindleSoftmaxCrossEntropyGrad", { p: p!, targets, dy: tf.scalar(0.7) }, { divisor: m })
    return [loss!, p!, ...perRow, ...shared]
  }]
]

const bits = (r: Result) => Buffer.from(new Float32Array(r.values).buffer)

/** Runs `f` with the overrides installed with `options`, then restores the defaults. */
const installed = <A>(options: WasmOverrides.OverrideOptions, f: () => A): A => {
  WasmOverrides.uninstall()
  WasmOverrides.install(options)
  try {
    return f()
  } finally {
    WasmOverrides.uninstall()
    WasmOverrides.install()
  }
}

const memory = () => memoryOf(internals(tf.backend()))

describe("KernelHelper on the threaded wasm build", () => {
  beforeAll(async () => {
    await use("wasm", "none")
    expect(memory().buffer).toBeInstanceOf(SharedArrayBuffer)
    expect(await KernelHelper.start(memory())).toBe(true)
  })
  afterAll(() => {
    WasmOverrides.uninstall()
    WasmOverrides.install()
  })

  it.each(cases)("%s: the same bits with the helper taking slices", (_label, f) => {
    const alone = installed({ kernelHelper: false }, () => run(f))
    expect(KernelHelper.lastHelperSlices()).toBe(0)
    // which thread takes which slice depends on scheduling: repeat until the helper took some
    let helped = 0
    for (let i = 0; i < 500 && helped === 0; i++) {
      const shared = installed({ kernelHelper: true, kernelHelperTimed: false }, () => run(() => {
        const out = f()
        helped = KernelHelper.lastHelperSlices()
        return out
      }))
      expect(shared.map((r) => r.shape)).toEqual(alone.map((r) => r.shape))
      shared.forEach((r, j) => expect(bits(r).equals(bits(alone[j]!)), `output ${j} differs with the helper`).toBe(true))
    }
    expect(helped).toBeGreaterThan(0)
  })

  it("small calls stay on the calling thread", () => {
    installed({ kernelHelper: true, kernelHelperTimed: false }, () => run(() => kernel("RekindleSoftmax", { x: t([4, 16], 26) })))
    expect(KernelHelper.lastHelperSlices()).toBe(0)
  })

  // last: the helper stays stopped for this memory
  it("with the helper stopped, the calling thread runs every call with the same bits", () => {
    const alone = installed({ kernelHelper: false }, () => cases.map(([, f]) => run(f)))
    KernelHelper.stop(memory())
    const stopped = installed({ kernelHelper: true, kernelHelperTimed: false }, () => cases.map(([, f]) => {
      const r = run(f)
      expect(KernelHelper.lastHelperSlices()).toBe(0)
      return r
    }))
    stopped.forEach((rs, i) => rs.forEach((r, j) => expect(bits(r).equals(bits(alone[i]![j]!)), `case ${i} output ${j} differs`).toBe(true)))
  })
})

describe("a process that used the kernel helper", () => {
  it("ends by itself", () => {
    const child = fileURLToPath(new URL("./fixtures/kernel-helper-exit.ts", import.meta.url))
    const tsx = createRequire(import.meta.url).resolve("tsx")
    const r = spawnSync(process.execPath, ["--import", tsx, child], { encoding: "utf8", timeout: 60_000 })
    expect(r.stderr).toBe("")
    expect(r.signal).toBeNull()
    expect(r.status).toBe(0)
  }, 90_000)
})
