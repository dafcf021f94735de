import { Key } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { toTensors, disposeBatch } from "../src/BatchTensors.ts"
import type { ModelConfig } from "../src/ModelConfig.ts"
import * as Transformer from "../src/Transformer.ts"
import { batchOf, disposeAll, tiny, useCpu } from "./fixtures.ts"

beforeAll(useCpu)

/** Parameters far from init (std 0.3, gains around 1) so every gradient is well above float32 noise. */
const roughParams = (model: Transformer.Transformer, seed: number): Record<string, tf.Tensor> => {
  const out: Record<string, tf.Tensor> = {}
  for (const [name, shape] of Object.entries(model.shapes)) {
    const n = Key.normal(Key.split(Key.make(seed), name))
    const size = shape.reduce((a, b) => a * b, 1)
    const base = name.endsWith(".gain") ? 1 : 0
    out[name] = tf.tensor(Float32Array.from({ length: size }, () => base + 0.3 * n()), shape)
  }
  return out
}

/** Central finite difference of the loss in one coordinate of one parameter. */
const finiteDifference = (
  model: Transformer.Transformer,
  params: Record<string, tf.Tensor>,
  batch: ReturnType<typeof toTensors>,
  name: string,
  index: number,
  h: number
): number => {
  const at = (delta: number): number => {
    const data = Float32Array.from(params[name]!.dataSync())
    data[index] = data[index]! + delta
    const moved = tf.tensor(data, params[name]!.shape)
    const l = tf.tidy(() => model.loss({ ...params, [name]: moved }, batch).dataSync()[0]!)
    moved.dispose()
    return l
  }
  return (at(h) - at(-h)) / (2 * h)
}

const checkGradients = (c: ModelConfig, names: ReadonlyArray<string>, h: number) => {
  const model = Transformer.make(c)
  const params = roughParams(model, 7)
  const batch = toTensors(batchOf(c, 3, 11, 3))
  const order = Object.keys(params)
  const grads = tf.tidy(() =>
    tf.grads((...ts: Array<tf.Tensor>) => model.loss(Object.fromEntries(order.map((n, i) => [n, ts[i]!])), batch))(
      order.map((n) => params[n]!)
    )
  )
  const gradOf = Object.fromEntries(order.map((n, i) => [n, grads[i]!.dataSync()]))
  let checked = 0
  try {
  for (const name of names) {
    const g = gradOf[name]!
    // the coordinates with the largest gradients, plus one fixed coordinate
    const ranked = Array.from(g.keys()).sort((a, b) => Math.abs(g[b]!) - Math.abs(g[a]!))
    for (const index of [ranked[0]!, ranked[1]!, 0]) {
      const fd = finiteDifference(model, params, batch, name, index, h)
      const analytic = g[index]!
      const scale = Math.max(Math.abs(fd), Math.abs(analytic), 1e-3)
      expect(Math.abs(fd - analytic) / scale, `${name}[${index}]: fd ${fd} vs analytic ${analytic}`).toBeLessThan(0.03)
      checked++
    }
  }
  } finally {
    grads.forEach((t) => t.dispose())
    disposeAll(params)
    disposeBatch(batch)
  }
  return checked
}

describe("gradient", () => {
  afterAll(() => expect(tf.memory().numTensors).toBe(0))

  it("matches finite differences (GELU, FF biases, BERT-style)", () => {
    const names = [
      "embed.token", "embed.position",
      "layers.0.ln1.gain", "layers.0.ln1.bias",
      "layers.0.attn.wq", "layers.0.attn.wk", "layers.1.attn.wv", "layers.1.attn.wo", "layers.0.attn.bv", "layers.1.attn.bo",
      "layers.1.ln2.gain",
      "layers.0.ff.win", "layers.0.ff.wout", "layers.1.ff.bin", "layers.1.ff.bout",
      "final.ln.gain", "head.w", "head.b"
    ]
    expect(checkGradients(tiny({ activation: "gelu", ffBias: true }), names, 1e-2)).toBe(3 * names.length)
  })

  it("matches finite differences (GELU, causal, no final LayerNorm)", () => {
    const names = ["embed.token", "embed.position", "layers.0.attn.wq", "layers.1.attn.bk", "layers.0.ff.win", "layers.1.ff.wout", "head.w"]
    expect(checkGradients(tiny({ activation: "gelu", causal: true, finalLayerNorm: false }), names, 1e-2)).toBe(3 * names.length)
  })

  it("matches finite differences (SwiGLU with FF biases: gate and its bias)", () => {
    const names = ["layers.0.ff.win", "layers.0.ff.wgate", "layers.1.ff.bgate", "layers.1.ff.bin", "layers.1.ff.wout", "layers.0.ln2.gain"]
    expect(checkGradients(tiny({ activation: "swiglu", ffBias: true }), names, 1e-2)).toBe(3 * names.length)
  })

  it("matches finite differences (GeGLU, causal)", () => {
    const names = ["layers.0.ff.wgate", "layers.1.ff.win", "layers.1.ff.wout", "embed.token"]
    expect(checkGradients(tiny({ activation: "geglu", causal: true }), names, 1e-2)).toBe(3 * names.length)
  })

  // ReLU has kinks that finite differences step across; parameters after the last ReLU are smooth
  it("matches finite differences (ReLU, downstream of the last activation)", () => {
    const names = ["layers.1.ff.wout", "final.ln.gain", "final.ln.bias", "head.w", "head.b"]
    expect(checkGradients(tiny(), names, 1e-2)).toBe(3 * names.length)
  })
})
