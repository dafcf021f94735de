import { Key } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { beforeAll, describe, expect, it } from "vitest"
import * as Transformer from "../src/Transformer.ts"
import { disposeAll, tiny, useCpu, values } from "./fixtures.ts"

beforeAll(useCpu)

const stats = (xs: Array<number>) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length
  const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / xs.length)
  const maxAbs = Math.max(...xs.map(Math.abs))
  return { mean, std, maxAbs }
}

describe("init", () => {
  const c = tiny({ dModel: 64, heads: 4, dFF: 256, vocabSize: 300, seqLen: 32, ffBias: true })
  const model = Transformer.make(c)

  it("draws FF weights from Kaiming-uniform U(±sqrt(3/fan_in))", () => {
    const p = model.init(Key.make(1))
    for (const [name, fanIn] of [["layers.0.ff.win", 64], ["layers.1.ff.wout", 256]] as const) {
      const bound = Math.sqrt(3 / fanIn)
      const s = stats(values(p[name]!))
      expect(s.maxAbs).toBeLessThanOrEqual(bound)
      expect(s.maxAbs).toBeGreaterThan(0.99 * bound)
      expect(s.std).toBeCloseTo(bound / Math.sqrt(3), 2)
      expect(Math.abs(s.mean)).toBeLessThan(0.01 * bound * 3)
    }
    disposeAll(p)
  })

  it("draws embeddings, attention and head weights from normal(0, 0.02); biases 0, gains 1", () => {
    const p = model.init(Key.make(2))
    for (const name of ["embed.token", "embed.position", "layers.0.attn.wq", "layers.1.attn.wo", "head.w"]) {
      const s = stats(values(p[name]!))
      expect(s.std, name).toBeGreaterThan(0.018)
      expect(s.std, name).toBeLessThan(0.022)
      expect(Math.abs(s.mean), name).toBeLessThan(0.003)
    }
    for (const name of ["layers.0.attn.bq", "layers.0.ff.bin", "layers.0.ff.bout", "head.b", "layers.1.ln2.bias", "final.ln.bias"]) {
      expect(values(p[name]!).every((x) => x === 0), name).toBe(true)
    }
    for (const name of ["layers.0.ln1.gain", "layers.1.ln2.gain", "final.ln.gain"]) {
      expect(values(p[name]!).every((x) => x === 1), name).toBe(true)
    }
    disposeAll(p)
  })

  it("is deterministic per key, differs across keys, and matches initParam", () => {
    const a = model.init(Key.make(3))
    const b = model.init(Key.make(3))
    const other = model.init(Key.make(4))
    expect(Object.keys(a)).toEqual(Object.keys(model.shapes))
    for (const name of Object.keys(a)) {
      expect(a[name]!.shape, name).toEqual(model.shapes[name])
      expect(values(a[name]!), name).toEqual(values(b[name]!))
    }
    expect(values(a["layers.0.ff.win"]!)).not.toEqual(values(other["layers.0.ff.win"]!))
    expect(values(a["layers.0.ff.win"]!)).not.toEqual(values(a["layers.1.ff.win"]!))
    const fresh = model.initParam("layers.1.ff.wout", Key.make(3))
    expect(values(fresh)).toEqual(values(a["layers.1.ff.wout"]!))
    fresh.dispose()
    expect(() => model.initParam("nope", Key.make(3))).toThrow(/nope/)
    for (const m of [a, b, other]) disposeAll(m)
  })

  it("counts parameters", () => {
    const d = 64, f = 256, v = 300, t = 32
    const perLayer = 4 * d * d + 4 * d + 4 * d + 2 * d * f + f + d
    expect(model.parameterCount).toBe(v * d + t * d + 2 * perLayer + 2 * d + d * v + v)
    const p = model.init(Key.make(5))
    expect(Object.values(p).reduce((n, x) => n + x.size, 0)).toBe(model.parameterCount)
    disposeAll(p)
    expect(tf.memory().numTensors).toBe(0)
  })
})
