/**
 * The zero-copy Identity and the fused Adam kernel of the wasm overrides: equal to the cpu
 * backend's results (Adam: to its op-by-op composition, bit for bit), no leaks, and the sharing
 * semantics of Identity (disposing either tensor keeps the other readable).
 */
import * as tf from "@tensorflow/tfjs-core"
import { beforeAll, describe, expect, it } from "vitest"
import * as AdamKernel from "../src/wasm/AdamKernel.ts"
import "../src/Gradients.ts"
import { dataIds, expectSameOnCpuAndWasm, run, seeded, use } from "./compare.ts"

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
