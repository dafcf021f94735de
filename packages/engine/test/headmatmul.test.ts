/**
 * `RekindleHeadMatMul` (attention's per-head products on the `[B, T, H·D]` layout) against the
 * composition it replaces (reshape → transpose [0,2,1,3] → reshape → batched matMul, and the merge
 * back): forward values and the gradients through tf.grads, **bitwise**, on XNNPACK (the kernel's
 * composed path) and on OpenBLAS (sgemm with the head stride as leading dimension; skipped
 * without OpenBLAS), plus no leaks and the shape errors. With OpenBLAS: the helper thread
 * (BlasHelper.ts) really takes slices, and products with it equal products without it bit for bit;
 * operands read from parts of one `[B, T, 3·H·D]` tensor (q, k, v of the fused projection) give
 * the bits of the products on separate copies.
 */
import * as tf from "@tensorflow/tfjs-core"
import { afterAll, describe, expect, it } from "vitest"
import * as NativeBlas from "../src/wasm/NativeBlas.ts"
import * as BlasHelper from "../src/wasm/BlasHelper.ts"
import * as HeadMatMulKernel from "../src/wasm/HeadMatMulKernel.ts"
import { memoryOf } from "../src/wasm/KernelModule.ts"
import * as WasmOverrides from "../src/wasm/WasmOverrides.ts"
import { internals } from "../src/wasm/WasmHeap.ts"
import "../src/Gradients.ts"
import { dataIds, type Result, run, seeded, use } from "./compare.ts"

const haveOpenBlas = (() => {
  try {
    return NativeBlas.select("openblas").blas !== undefined
  } catch {
    return false
  }
})()

afterAll(() => NativeBlas.deactivate())

const t = (shape: Array<number>, seed: number) => tf.tensor(seeded(seed, shape.reduce((a, b) => a * b, 1)), shape)

const head = (a: tf.Tensor, b: tf.Tensor, attrs: Record<string, unknown>): tf.Tensor =>
  tf.engine().runKernel(HeadMatMulKernel.kernelName, { a, b } as unknown as tf.NamedTensorMap, attrs as tf.NamedAttrMap) as tf.Tensor

/** Attention's two products on `[B, T, H·D]` q, k, v and `[B·H, T, T]` weights p, weighted by r. */
const attention = (bs: number, ts: number, h: number, fused: boolean) => (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, p: tf.Tensor) => {
  const d = q.shape[2]!
  const r = t([bs, ts, d], 7)
  if (fused) {
    const scores = head(q, k, { heads: h, transposeA: false, transposeB: true, aHeads: true, bHeads: true, outHeads: false })
    const context = head(p, v, { heads: h, transposeA: false, transposeB: false, aHeads: false, bHeads: true, outHeads: true })
    return tf.add(tf.sum(tf.mul(scores, p)), tf.sum(tf.mul(context, r)))
  }
  const split = (x: tf.Tensor) => tf.reshape(tf.transpose(tf.reshape(x, [bs, ts, h, d / h]), [0, 2, 1, 3]), [bs * h, ts, d / h])
  const scores = tf.matMul(split(q), split(k), false, true)
  const context = tf.reshape(tf.transpose(tf.reshape(tf.matMul(p, split(v)), [bs, h, ts, d / h]), [0, 2, 1, 3]), [bs, ts, d])
  return tf.add(tf.sum(tf.mul(scores, p)), tf.sum(tf.mul(context, r)))
}

/** Forward value and the four gradients, composed and fused. */
const both = (bs: number, ts: number, h: number, dh: number) => {
  const inputs = () => [t([bs, ts, h * dh], 1), t([bs, ts, h * dh], 2), t([bs, ts, h * dh], 3), t([bs * h, ts, ts], 4)]
  const go = (fused: boolean) => () => {
    const f = attention(bs, ts, h, fused)
    const [q, k, v, p] = inputs()
    const { value, grads } = tf.valueAndGrads((q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, p: tf.Tensor) => f(q, k, v, p) as tf.Scalar)([q!, k!, v!, p!])
    return [value, ...grads]
  }
  const composed = run(go(false))
  const tensors = tf.memory().numTensors
  const data = dataIds()
  const fused = run(go(true))
  expect(tf.memory().numTensors, "tensors leaked").toBe(tensors)
  expect(dataIds(), "wasm data leaked").toBe(data)
  return { composed, fused }
}

const bits = (r: Result) => Buffer.from(new Float32Array(r.values).buffer)

const expectBitwise = ({ composed, fused }: { composed: Array<Result>; fused: Array<Result> }) => {
  expect(fused.map((r) => r.shape)).toEqual(composed.map((r) => r.shape))
  fused.forEach((r, i) => expect(bits(r).equals(bits(composed[i]!)), `output ${i} differs`).toBe(true))
}

const sizes: Array<[string, number, number, number, number]> = [
  ["small", 2, 5, 3, 4],
  ["reference attention", 2, 128, 4, 64]
]

describe("RekindleHeadMatMul", () => {
  it.each(sizes)("XNNPACK: %s, values and gradients bitwise equal to the composition", async (_label, bs, ts, h, dh) => {
    await use("wasm", "none")
    expectBitwise(both(bs, ts, h, dh))
  })

  it.runIf(haveOpenBlas).each(sizes)("OpenBLAS: %s, values and gradients bitwise equal to the composition", async (_label, bs, ts, h, dh) => {
    await use("wasm", "openblas")
    expect(NativeBlas.active()).toBeDefined()
    expectBitwise(both(bs, ts, h, dh))
  })

  it.runIf(haveOpenBlas)("OpenBLAS: the helper thread takes slices and changes no bit", async () => {
    await use("wasm", "openblas")
    const blas = NativeBlas.active()!
    expect(await BlasHelper.start(blas, memoryOf(internals(tf.backend())))).toBe(true)
    const product = () => run(() => [
      head(t([2, 128, 256], 1), t([2, 128, 256], 2), { heads: 4, transposeB: true, aHeads: true, bHeads: true, outHeads: false }),
      tf.matMul(t([8, 128, 128], 3), t([8, 128, 64], 4))
    ])
    WasmOverrides.uninstall()
    WasmOverrides.install({ blasHelper: false })
    let alone: Array<Result>
    try {
      alone = product()
    } finally {
      WasmOverrides.uninstall()
      WasmOverrides.install()
    }
    // which thread takes which slice depends on scheduling: repeat until the helper took some
    let helped = 0
    for (let i = 0; i < 50 && helped === 0; i++) {
      const jobs = BlasHelper.jobsDone(memoryOf(internals(tf.backend())))
      const shared = product()
      shared.forEach((r, j) => expect(bits(r).equals(bits(alone[j]!)), `product ${j} differs with the helper`).toBe(true))
      expect(BlasHelper.jobsDone(memoryOf(internals(tf.backend())))).toBeGreaterThan(jobs)
      helped = BlasHelper.lastHelperSlices()
    }
    expect(helped).toBeGreaterThan(0)
  })

  it.runIf(haveOpenBlas)("OpenBLAS: operands read from parts of one [B, T, 3·H·D] tensor equal the products on separate copies, bitwise", async () => {
    await use("wasm", "openblas")
    const [bs, ts, h, dh] = [2, 128, 4, 64]
    const qkv = () => t([bs, ts, 3 * h * dh], 5)
    const thirds = (x: tf.Tensor) => tf.split(x, 3, 2)
    const parts = run(() => {
      const x = qkv()
      return [
        head(x, x, { heads: h, transposeB: true, aHeads: true, bHeads: true, aPart: 0, aParts: 3, bPart: 1, bParts: 3 }),
        head(t([bs * h, ts, ts], 4), x, { heads: h, aHeads: false, bHeads: true, bPart: 2, bParts: 3, outHeads: true })
      ]
    })
    const copies = run(() => {
      const [q, k, v] = thirds(qkv())
      return [
        head(q!, k!, { heads: h, transposeB: true, aHeads: true, bHeads: true }),
        head(t([bs * h, ts, ts], 4), v!, { heads: h, aHeads: false, bHeads: true, outHeads: true })
      ]
    })
    parts.forEach((r, i) => expect(bits(r).equals(bits(copies[i]!)), `product ${i} differs`).toBe(true))
  })

  it("shape errors name the kernel", async () => {
    await use("wasm", "none")
    expect(() => head(tf.zeros([2, 5, 12]), tf.zeros([2, 5, 12]), { heads: 5, transposeB: true, aHeads: true, bHeads: true })).toThrow(/RekindleHeadMatMul.*5 heads/)
    expect(() => head(tf.zeros([2, 5, 12]), tf.zeros([6, 5, 5]), { heads: 3, aHeads: true })).toThrow(/RekindleHeadMatMul.*do not match/)
    expect(() => head(tf.zeros([2, 5, 12]), tf.zeros([2, 5, 12]), { heads: 2, transposeB: true, aHeads: true, bHeads: true, aParts: 3, bParts: 3, bPart: 1 }))
      .toThrow(/RekindleHeadMatMul: operands read from parts need the native BLAS/)
  })
})
