import { Key } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Neurons from "../src/Neurons.ts"
import * as Transformer from "../src/Transformer.ts"
import { disposeAll, tiny, useCpu, values } from "./fixtures.ts"

beforeAll(useCpu)
afterAll(() => expect(tf.memory().numTensors).toBe(0))

const matrix = (t: tf.Tensor) => t.arraySync() as Array<Array<number>>

describe("Neurons", () => {
  const c = tiny({ ffBias: true })
  const model = Transformer.make(c)

  it("views neuron i as column i of W_in, row i of W_out and entry i of b_in", () => {
    const params = model.init(Key.make(1))
    const bin = tf.tensor1d(Array.from({ length: c.dFF }, (_, i) => i / 10))
    const p: Record<string, tf.Tensor> = { ...params, "layers.1.ff.bin": bin }
    const win = matrix(p["layers.1.ff.win"]!)
    const wout = matrix(p["layers.1.ff.wout"]!)
    for (const ffLayer of [model.topology.layers[1]!, 1] as const) {
      const v = Neurons.view(p, ffLayer, 5)
      expect(v.layer).toBe(1)
      expect(v.index).toBe(5)
      expect(values(v.in)).toEqual(win.map((row) => row[5]!).map(Math.fround))
      expect(values(v.out)).toEqual(wout[5]!.map(Math.fround))
      expect(v.bias!.shape).toEqual([])
      expect(v.bias!.dataSync()[0]).toBeCloseTo(0.5, 6)
      expect(Object.keys(v.slices).sort()).toEqual(["layers.1.ff.bin", "layers.1.ff.win", "layers.1.ff.wout"])
      tf.dispose(Object.values(v.slices))
    }
    expect(() => Neurons.view(p, 1, c.dFF)).toThrow(/out of range/)
    bin.dispose()
    disposeAll(params)
  })

  it("computes M_i = ‖W_in[:, i]‖·‖W_out[i, :]‖ and both norms, as a hand computation does", () => {
    const params = model.init(Key.make(2))
    const mags = model.magnitudes(params)
    expect(mags).toHaveLength(c.layers)
    mags.forEach((m, l) => {
      const win = matrix(params[`layers.${l}.ff.win`]!)
      const wout = matrix(params[`layers.${l}.ff.wout`]!)
      const inNorm = Array.from({ length: c.dFF }, (_, i) => Math.hypot(...win.map((row) => row[i]!)))
      const outNorm = wout.map((row) => Math.hypot(...row))
      values(m.inNorm).forEach((x, i) => expect(x).toBeCloseTo(inNorm[i]!, 5))
      values(m.outNorm).forEach((x, i) => expect(x).toBeCloseTo(outNorm[i]!, 5))
      values(m.magnitude).forEach((x, i) => expect(x).toBeCloseTo(inNorm[i]! * outNorm[i]!, 5))
      const direct = Neurons.magnitudesOf(params, l)
      expect(values(direct.magnitude)).toEqual(values(m.magnitude))
      tf.dispose([m.magnitude, m.inNorm, m.outNorm, direct.magnitude, direct.inNorm, direct.outNorm])
    })
    disposeAll(params)
  })

  it("magnitudes are differentiable: d M_i / d W_out[i, j] = inNorm_i · W_out[i, j] / outNorm_i", () => {
    const params = model.init(Key.make(3))
    const wout = params["layers.0.ff.wout"]!
    const [g] = tf.grads((w: tf.Tensor) => tf.sum(Neurons.magnitudesOf({ ...params, "layers.0.ff.wout": w }, 0).magnitude))([wout])
    const m = Neurons.magnitudesOf(params, 0)
    const inNorm = values(m.inNorm)
    const outNorm = values(m.outNorm)
    const w = matrix(wout)
    const grad = matrix(g!)
    expect(grad[3]![2]).toBeCloseTo((inNorm[3]! * w[3]![2]!) / outNorm[3]!, 5)
    tf.dispose([g!, m.magnitude, m.inNorm, m.outNorm])
    disposeAll(params)
  })
})

describe("Neurons of GLU layers", () => {
  const c = tiny({ activation: "swiglu", ffBias: true })
  const model = Transformer.make(c)

  it("neuron i owns column i of W_gate and entry i of b_gate; the topology lists both", () => {
    const layer = model.topology.layers[0]!
    expect(layer.gate).toBe("layers.0.ff.wgate")
    expect(layer.slices.map((s) => [s.param, s.axis, s.role])).toEqual([
      ["layers.0.ff.win", 1, "in"],
      ["layers.0.ff.wout", 0, "out"],
      ["layers.0.ff.bin", 0, "bias"],
      ["layers.0.ff.wgate", 1, "gate"],
      ["layers.0.ff.bgate", 0, "gate-bias"]
    ])
    expect(model.shapes["layers.0.ff.wgate"]).toEqual([c.dModel, c.dFF])
    expect(model.shapes["layers.0.ff.bgate"]).toEqual([c.dFF])
    const params = model.init(Key.make(4))
    expect(Neurons.layerOf(params, 0)).toEqual(layer)
    const v = Neurons.view(params, 0, 3)
    expect(values(v.gate!)).toEqual(matrix(params["layers.0.ff.wgate"]!).map((row) => row[3]!))
    expect(Object.keys(v.slices).sort()).toEqual(["layers.0.ff.bgate", "layers.0.ff.bin", "layers.0.ff.wgate", "layers.0.ff.win", "layers.0.ff.wout"])
    tf.dispose(Object.values(v.slices))
    disposeAll(params)
  })

  it("magnitude of a GLU neuron: sqrt(‖W_in[:, i]‖² + ‖W_gate[:, i]‖²) · ‖W_out[i, :]‖", () => {
    const params = model.init(Key.make(5))
    const mags = model.magnitudes(params)
    mags.forEach((m, l) => {
      const win = matrix(params[`layers.${l}.ff.win`]!)
      const wgate = matrix(params[`layers.${l}.ff.wgate`]!)
      const wout = matrix(params[`layers.${l}.ff.wout`]!)
      const inNorm = Array.from({ length: c.dFF }, (_, i) => Math.hypot(...win.map((row) => row[i]!), ...wgate.map((row) => row[i]!)))
      values(m.inNorm).forEach((x, i) => expect(x).toBeCloseTo(inNorm[i]!, 5))
      values(m.magnitude).forEach((x, i) => expect(x).toBeCloseTo(inNorm[i]! * Math.hypot(...wout[i]!), 5))
      tf.dispose([m.magnitude, m.inNorm, m.outNorm])
    })
    disposeAll(params)
  })
})
