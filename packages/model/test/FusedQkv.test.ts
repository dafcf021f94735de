/**
 * The fused Q/K/V path (engine `QkvAttention`: one product h·[Wq|Wk|Wv] with the biases folded in,
 * head products reading q, k, v in place, dq, dk, dv in one buffer, one product each for the input's
 * and the weights' gradients) against three projections, both on OpenBLAS (the only place the fused
 * path runs; skipped without OpenBLAS): the loss and every gradient of small attention configs,
 * causal and not. Not bit for bit: OpenBLAS's sgemm gives a column of a [n, 3d] product other bits
 * than the same column of a [n, d] product (measured: ~6% of the elements at the reference size),
 * so the loss agrees to 1e-6 and every gradient to 1e-5 of its scale. Without a native BLAS the
 * fused path is never chosen (the pure-wasm path and its golden digest are untouched).
 */
import { Key } from "@rekindle/core"
import { Backends, NativeBlas, QkvAttention, WasmOverrides } from "@rekindle/engine"
import "@rekindle/engine/Gradients"
import * as tf from "@tensorflow/tfjs-core"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { disposeBatch, toTensors } from "../src/BatchTensors.ts"
import * as Transformer from "../src/Transformer.ts"
import { batchOf, tiny } from "./fixtures.ts"

const haveOpenBlas = (() => {
  try {
    return NativeBlas.select("openblas").blas !== undefined
  } catch {
    return false
  }
})()

const configs = {
  "bidirectional": tiny({ dModel: 32, heads: 4, dFF: 48, seqLen: 16, vocabSize: 29 }),
  "causal, GELU, FF bias": tiny({ dModel: 24, heads: 3, dFF: 40, seqLen: 12, vocabSize: 23, causal: true, activation: "gelu", ffBias: true, layers: 3 })
}

/** Loss and every gradient under `options`, with `available` = whether the fused path ran. */
const lossAndGrads = (c: typeof configs[keyof typeof configs], options: WasmOverrides.OverrideOptions) => {
  WasmOverrides.uninstall()
  WasmOverrides.install(options)
  const model = Transformer.make(c)
  const params = model.init(Key.make(3))
  const batch = toTensors(batchOf(c, 4, 5, 4))
  const names = Object.keys(params)
  const out = tf.tidy(() => {
    const { value, grads } = tf.valueAndGrads((...ts: Array<tf.Tensor>) =>
      model.loss(Object.fromEntries(names.map((n, i) => [n, ts[i]!])), batch)
    )(names.map((n) => params[n]!))
    return { loss: value.dataSync()[0]!, grads: Object.fromEntries(names.map((n, i) => [n, grads[i]!.dataSync() as Float32Array])) }
  })
  disposeBatch(batch)
  tf.dispose(Object.values(params))
  return { ...out, available: QkvAttention.available() }
}

describe.runIf(haveOpenBlas)("fused Q/K/V projection (OpenBLAS)", () => {
  afterAll(async () => {
    WasmOverrides.uninstall()
    WasmOverrides.install()
    NativeBlas.deactivate()
    await Effect.runPromise(Backends.init({ name: "cpu" }))
  })

  it.each(Object.entries(configs))("%s: loss and every gradient within float32 rounding of three projections", async (_label, c) => {
    await Effect.runPromise(Backends.init({ name: "wasm", blas: "openblas" }))
    const separate = lossAndGrads(c, { fusedQkv: false })
    const tensors = tf.memory().numTensors
    const fused = lossAndGrads(c, { fusedQkv: true })
    expect(tf.memory().numTensors, "tensors leaked").toBe(tensors)
    expect(separate.available).toBe(false)
    expect(fused.available).toBe(true)
    expect(Math.abs(fused.loss - separate.loss), `loss ${fused.loss} vs ${separate.loss}`).toBeLessThan(1e-6 * Math.abs(separate.loss))
    // the largest gradient of the model: bk's gradient is 0 in exact arithmetic (softmax ignores a
    // shift of all of a query's scores), so its float32 noise is judged against the model's scale
    const largest = Math.max(...Object.values(separate.grads).map((g) => Math.max(...Array.from(g, Math.abs))))
    for (const [name, g] of Object.entries(separate.grads)) {
      const f = fused.grads[name]!
      const scale = Math.max(...Array.from(g, Math.abs), 1e-3 * largest)
      const worst = Math.max(...Array.from(g, (x, i) => Math.abs(x - f[i]!)))
      expect(worst / scale, name).toBeLessThan(1e-5)
    }
  })

  it("is not chosen without a native BLAS", async () => {
    await Effect.runPromise(Backends.init({ name: "wasm", blas: "none" }))
    WasmOverrides.uninstall()
    WasmOverrides.install()
    expect(QkvAttention.available()).toBe(false)
  })
})
