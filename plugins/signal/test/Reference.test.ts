/**
 * Every built-in signal against an independent reference on tiny models: gradient signals against
 * central finite differences of the loss (grad-norm, SNIP) and against autograd through a ones
 * mask on h (Taylor: ∂L/∂m_i = Σ_tokens h_i·∂L/∂h_i); the rest against plain JS loops.
 */
import { type ModelConfig, Neurons, Transformer } from "@rekindle/model"
import { adamShaped, computeAll, disposeState, observe, tinyBatch, tinyConfig, tinyOptState, tinyParams } from "@rekindle/testing"
import "@tensorflow/tfjs-backend-cpu"
import * as tf from "@tensorflow/tfjs-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { activationVariance, firingRate, gradNorm, inNorm, magnitude, meanAbs, outL1, secondMoment, snip, taylor } from "../src/index.ts"

beforeAll(async () => {
  await tf.setBackend("cpu")
})
afterAll(() => expect(tf.memory().numTensors).toBe(0))

const setup = (overrides: Partial<ModelConfig>) => {
  const model = Transformer.make(tinyConfig(overrides))
  // far from init so gradients stand well above float32 noise
  const params = tinyParams(model, 11, 0.5)
  const batch = tinyBatch(model.config, 4, 3)
  const dispose = () => {
    tf.dispose(Object.values(params))
    tf.dispose([batch.inputIds, batch.targetIds, batch.targetPositions])
  }
  return { model, params, batch, dispose }
}

const arrays = (t: tf.Tensor) => t.arraySync() as Array<Array<number>>

/** Central finite difference of the loss in one scalar of one parameter (float64 sums of float32 losses). */
const fd = (w: ReturnType<typeof setup>, name: string, index: number, h = 1e-2): number => {
  const at = (delta: number) => {
    const data = Float32Array.from(w.params[name]!.dataSync())
    data[index] = data[index]! + delta
    const moved = tf.tensor(data, w.params[name]!.shape)
    const l = tf.tidy(() => w.model.loss({ ...w.params, [name]: moved }, w.batch).dataSync()[0]!)
    moved.dispose()
    return l
  }
  return (at(h) - at(-h)) / (2 * h)
}

/** The flat indices of neuron i's scalars in each of its slice parameters. */
const neuronScalars = (w: ReturnType<typeof setup>, p: number, i: number): Array<[string, number]> =>
  w.model.topology.layers[p]!.slices.flatMap((s) => {
    const shape = w.model.shapes[s.param]!
    if (shape.length === 1) return [[s.param, i] as [string, number]]
    const [rows, cols] = shape as [number, number]
    return s.axis === 1
      ? Array.from({ length: rows }, (_, r) => [s.param, r * cols + i] as [string, number])
      : Array.from({ length: cols }, (_, c) => [s.param, i * cols + c] as [string, number])
  })

describe("gradient signals against finite differences", () => {
  for (const config of [{ activation: "swiglu" as const, ffBias: true }, { activation: "gelu" as const, ffBias: true }]) {
    it(`grad-norm and snip of chosen neurons (${config.activation})`, () => {
      const w = setup(config)
      const o = observe(w.model, w.params, w.batch, { step: true })
      const norms = computeAll(gradNorm(), w.model.topology, o.capture)
      const saliency = computeAll(snip(), w.model.topology, o.capture)
      for (const [p, i] of [[0, 2], [1, 7]] as const) {
        const scalars = neuronScalars(w, p, i)
        expect(scalars.length).toBe(config.activation === "swiglu" ? 3 * 8 + 2 : 2 * 8 + 1)
        let sq = 0
        let sal = 0
        for (const [name, index] of scalars) {
          const g = fd(w, name, index)
          sq += g * g
          sal += Math.abs(w.params[name]!.dataSync()[index]! * g)
        }
        expect(norms[p]![i]! / Math.sqrt(sq), `grad-norm layer ${p} neuron ${i}`).toBeCloseTo(1, 2)
        expect(saliency[p]![i]! / sal, `snip layer ${p} neuron ${i}`).toBeCloseTo(1, 2)
      }
      o.dispose()
      w.dispose()
    })
  }
})

describe("taylor against autograd through a ones mask", () => {
  for (const config of [{ activation: "relu" as const, ffBias: true }, { activation: "geglu" as const, ffBias: false }]) {
    it(`|mean_t h·∂L/∂h| (${config.activation})`, () => {
      const w = setup(config)
      const o = observe(w.model, w.params, w.batch, { step: true })
      const got = computeAll(taylor(), w.model.topology, o.capture)
      const n = w.model.topology.layers.length
      const ones = Array.from({ length: n }, () => tf.ones([w.model.config.dFF]) as tf.Tensor1D)
      const ref = tf.tidy(() =>
        tf.grads((...ms: Array<tf.Tensor>) => w.model.loss(w.params, w.batch, { ffMask: ms as Array<tf.Tensor1D> }))(ones).map((g) => Array.from(g.dataSync()))
      )
      const tokens = w.batch.batchSize * w.batch.seqLen
      got.forEach((x, p) => x.forEach((v, i) => expect(v).toBeCloseTo(Math.abs(ref[p]![i]!) / tokens, 6)))
      expect(got.flatMap((x) => Array.from(x)).some((v) => v > 1e-4)).toBe(true)
      tf.dispose(ones)
      o.dispose()
      w.dispose()
    })
  }
})

describe("activation, weight and optimizer signals against JS loops", () => {
  it("mean-abs, firing-rate, activation-variance on the probe batch and on the step (SwiGLU)", () => {
    const w = setup({ activation: "swiglu" })
    for (const source of ["probe", "step"] as const) {
      const o = observe(w.model, w.params, w.batch, source === "step" ? { step: true } : { probe: true })
      const hs = o.capture.hidden!.map((h) => arrays(h!))
      const [ma, fr, va] = [meanAbs({ source }), firingRate({ source }), activationVariance({ source })].map((s) => computeAll(s, w.model.topology, o.capture))
      hs.forEach((h, p) => {
        for (let i = 0; i < w.model.config.dFF; i++) {
          const col = h.map((row) => row[i]!)
          const mean = col.reduce((a, b) => a + b, 0) / col.length
          expect(ma![p]![i]).toBeCloseTo(col.reduce((a, b) => a + Math.abs(b), 0) / col.length, 5)
          expect(fr![p]![i]).toBeCloseTo(col.filter((x) => x > 0).length / col.length, 6)
          expect(va![p]![i]).toBeCloseTo(col.reduce((a, b) => a + (b - mean) ** 2, 0) / col.length, 5)
        }
      })
      o.dispose()
    }
    w.dispose()
  })

  it("in-norm and magnitude match the model's magnitudes (gate included); out-l1 by hand", () => {
    const w = setup({ activation: "swiglu", ffBias: true })
    const o = observe(w.model, w.params, w.batch, {})
    const [inN, mag, l1] = [inNorm(), magnitude(), outL1()].map((s) => computeAll(s, w.model.topology, o.capture))
    w.model.topology.layers.forEach((layer, p) => {
      const m = Neurons.magnitudesOf(w.params, layer)
      expect(Array.from(inN![p]!)).toEqual(Array.from(m.inNorm.dataSync()))
      expect(Array.from(mag![p]!)).toEqual(Array.from(m.magnitude.dataSync()))
      tf.dispose([m.inNorm, m.outNorm, m.magnitude])
      arrays(w.params[layer.wout]!).forEach((row, i) => expect(l1![p]![i]).toBeCloseTo(row.reduce((a, b) => a + Math.abs(b), 0), 5))
    })
    o.dispose()
    w.dispose()
  })

  it("second-moment: the mean of adam.nu over each neuron's scalars; check refuses an optimizer without it", () => {
    const w = setup({ activation: "swiglu", ffBias: true })
    const opt = tinyOptState(adamShaped, w.params, 3, 2)
    const o = observe(w.model, w.params, w.batch, { optimizer: true }, opt)
    const got = computeAll(secondMoment({ slot: "adam.nu" }), w.model.topology, o.capture)
    const p = 1
    for (const i of [0, 5, 11]) {
      const scalars = neuronScalars(w, p, i)
      const mean = scalars.reduce((a, [name, index]) => a + opt.slots["adam.nu"]![name]!.dataSync()[index]!, 0) / scalars.length
      expect(got[p]![i]).toBeCloseTo(mean, 6)
    }
    const layers = w.model.topology.layers
    expect(secondMoment({ slot: "adam.nu" }).check!({ layers, slots: adamShaped.slots, probe: true })).toBeUndefined()
    expect(secondMoment({ slot: "adam.nu" }).check!({ layers, slots: { "momentum.trace": { role: "moment", reset: 0 } }, probe: true })).toMatch(
      /reads the optimizer slot "adam.nu", but the optimizer keeps only "momentum.trace"/
    )
    expect(meanAbs({ source: "probe" }).check!({ layers, slots: {}, probe: false })).toMatch(/the run has none/)
    o.dispose()
    disposeState(opt)
    w.dispose()
  })

  it("gradient signals say clearly when the view has no step data", () => {
    const w = setup({})
    const o = observe(w.model, w.params, w.batch, {})
    expect(() => computeAll(taylor(), w.model.topology, o.capture)).toThrow(/signal\/taylor: layer 0 has no activations/)
    expect(() => computeAll(snip(), w.model.topology, o.capture)).toThrow(/signal\/snip: layer 0 has no ∂L\/∂W/)
    o.dispose()
    w.dispose()
  })
})

