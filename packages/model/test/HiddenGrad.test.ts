import { Key } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { disposeBatch, toTensors } from "../src/BatchTensors.ts"
import type { ModelConfig } from "../src/ModelConfig.ts"
import * as Transformer from "../src/Transformer.ts"
import { batchOf, disposeAll, tiny, useCpu } from "./fixtures.ts"

beforeAll(useCpu)
afterAll(() => expect(tf.memory().numTensors).toBe(0))

/**
 * Reference by plain autograd: the mask option multiplies h by m, and ∂L/∂m_i at m = 1 is
 * Σ_tokens h_i·∂L/∂h_i (the signed Taylor sum), so tf.grads over a ones mask checks what the tap
 * sees without going through it.
 */
const check = (c: ModelConfig) => {
  const model = Transformer.make(c)
  const params = model.init(Key.make(3))
  const batch = toTensors(batchOf(c, 3, 5, 3))
  const layers = c.layers
  const taps: Array<{ h: Array<number>; dh: Array<number> }> = []
  const loss = tf.tidy(() => {
    const grads = tf.grads((w: tf.Tensor) =>
      model.loss({ ...params, "embed.token": w }, batch, {
        hiddenGrad: (l, h, dh) => {
          taps[l] = { h: Array.from(h.dataSync()), dh: Array.from(dh.dataSync()) }
        }
      })
    )([params["embed.token"]!])
    return grads[0]!.dataSync()[0]!
  })
  expect(Number.isFinite(loss)).toBe(true)
  expect(taps).toHaveLength(layers)
  // reference: ∂L/∂m for a ones mask on each layer = Σ_tokens h·∂L/∂h
  const ones = Array.from({ length: layers }, () => tf.ones([c.dFF]) as tf.Tensor1D)
  const reference = tf.tidy(() =>
    tf.grads((...ms: Array<tf.Tensor>) => model.loss(params, batch, { ffMask: ms as Array<tf.Tensor1D> }))(ones).map((g) => Array.from(g.dataSync()))
  )
  for (let l = 0; l < layers; l++) {
    const { h, dh } = taps[l]!
    const tokens = h.length / c.dFF
    expect(tokens).toBe(3 * c.seqLen)
    for (let i = 0; i < c.dFF; i++) {
      let sum = 0
      for (let t = 0; t < tokens; t++) sum += h[t * c.dFF + i]! * dh[t * c.dFF + i]!
      expect(sum, `layer ${l} neuron ${i}`).toBeCloseTo(reference[l]![i]!, 6)
    }
  }
  tf.dispose(ones)
  disposeAll(params)
  disposeBatch(batch)
}

describe("hiddenGrad tap", () => {
  it("sees h and ∂L/∂h of every FF layer in the same backward pass (GELU, biases), matching autograd", () => check(tiny({ activation: "gelu", ffBias: true })))
  it("matches autograd on SwiGLU layers", () => check(tiny({ activation: "swiglu" })))
  it("matches autograd on GeGLU layers with biases, causal", () => check(tiny({ activation: "geglu", ffBias: true, causal: true })))

  it("does not change the loss or the parameter gradients", () => {
    const c = tiny({ activation: "gelu" })
    const model = Transformer.make(c)
    const params = model.init(Key.make(9))
    const batch = toTensors(batchOf(c, 2, 7, 2))
    const names = Object.keys(params).sort()
    const run = (tap: boolean) =>
      tf.tidy(() => {
        const f = (...ts: Array<tf.Tensor>) =>
          model.loss(Object.fromEntries(names.map((n, i) => [n, ts[i]!])), batch, tap ? { hiddenGrad: () => {} } : undefined)
        const { value, grads } = tf.valueAndGrads(f)(names.map((n) => params[n]!))
        return [value.dataSync()[0]!, ...grads.flatMap((g) => Array.from(g.dataSync()))]
      })
    expect(run(true)).toEqual(run(false))
    disposeAll(params)
    disposeBatch(batch)
  })
})
