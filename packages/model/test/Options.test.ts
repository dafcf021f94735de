import { Key } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { disposeBatch, toTensors } from "../src/BatchTensors.ts"
import * as Forward from "../src/Forward.ts"
import * as Transformer from "../src/Transformer.ts"
import { batchOf, disposeAll, tiny, useCpu, values } from "./fixtures.ts"

beforeAll(useCpu)
afterAll(() => expect(tf.memory().numTensors).toBe(0))

const c = tiny({ ffBias: true, activation: "gelu" })
const model = Transformer.make(c)

const lossOf = (params: Record<string, tf.Tensor>, batch: ReturnType<typeof toTensors>, options?: Forward.ForwardOptions) =>
  tf.tidy(() => model.loss(params, batch, options).dataSync()[0]!)

/** `t` [rows, cols] with column `j` (axis 1) or row `j` (axis 0) set to zero. */
const zeroAt = (t: tf.Tensor, axis: 0 | 1, j: number): tf.Tensor => {
  const [r, k] = t.shape.length === 1 ? [t.shape[0]!, 1] : [t.shape[0]!, t.shape[1]!]
  const data = Float32Array.from(t.dataSync())
  if (t.shape.length === 1) data[j] = 0
  else if (axis === 0) data.fill(0, j * k, (j + 1) * k)
  else for (let i = 0; i < r; i++) data[i * k + j] = 0
  return tf.tensor(data, t.shape)
}

/** A mask [dFF] of ones with zeros at `off`. */
const maskOf = (off: ReadonlyArray<number>) => tf.tensor1d(Array.from({ length: c.dFF }, (_, i) => (off.includes(i) ? 0 : 1)))

describe("forward options", () => {
  it("ffMask of ones is the plain model; masking neuron j equals zeroing its slices", () => {
    const params = model.init(Key.make(1))
    const batch = toTensors(batchOf(c, 3, 2, 3))
    const ones = maskOf([])
    const plain = lossOf(params, batch)
    expect(lossOf(params, batch, { ffMask: [ones, undefined] })).toBe(plain)
    const mask = maskOf([4])
    const zeroed = {
      ...params,
      "layers.1.ff.win": zeroAt(params["layers.1.ff.win"]!, 1, 4),
      "layers.1.ff.wout": zeroAt(params["layers.1.ff.wout"]!, 0, 4)
    }
    const masked = lossOf(params, batch, { ffMask: [undefined, mask] })
    expect(masked).not.toBe(plain)
    expect(masked).toBeCloseTo(lossOf(zeroed, batch), 5)
    tf.dispose([ones, mask, zeroed["layers.1.ff.win"], zeroed["layers.1.ff.wout"]])
    disposeBatch(batch)
    disposeAll(params)
  })

  it("a masked neuron has zero activation statistics", () => {
    const params = model.init(Key.make(2))
    const batch = toTensors(batchOf(c, 3))
    const mask = maskOf([0, 7])
    const stats = model.activationStats(params, batch, { ffMask: [mask, undefined] })
    const meanAbs = values(stats[0]!.meanAbs)
    expect(meanAbs[0]).toBe(0)
    expect(meanAbs[7]).toBe(0)
    expect(meanAbs[1]).toBeGreaterThan(0)
    expect(values(stats[0]!.firingRate)[7]).toBe(0)
    tf.dispose([mask, ...stats.flatMap((s) => [s.meanAbs, s.firingRate])])
    disposeBatch(batch)
    disposeAll(params)
  })

  it("activation stats are the mean |h| and the fraction h > 0 over all tokens", () => {
    const params = model.init(Key.make(3))
    const batch = toTensors(batchOf(c, 2))
    const hidden: Array<Array<Array<number>>> = []
    tf.tidy(() => {
      Forward.hiddenStates(c, params, batch, undefined, (l, h) => {
        hidden[l] = h.arraySync() as Array<Array<number>>
      })
    })
    const stats = model.activationStats(params, batch)
    stats.forEach((s, l) => {
      const h = hidden[l]!
      const meanAbs = values(s.meanAbs)
      const firing = values(s.firingRate)
      for (let i = 0; i < c.dFF; i++) {
        expect(meanAbs[i]).toBeCloseTo(h.reduce((a, row) => a + Math.abs(row[i]!), 0) / h.length, 5)
        expect(firing[i]).toBeCloseTo(h.filter((row) => row[i]! > 0).length / h.length, 6)
      }
      tf.dispose([s.meanAbs, s.firingRate])
    })
    expect(hidden[0]!.length).toBe(2 * c.seqLen)
    disposeBatch(batch)
    disposeAll(params)
  })

  it("blend with alpha = 1 is the plain model, alpha = 0 the old weights, mixed alpha picks per neuron", () => {
    const params = model.init(Key.make(4))
    const old = model.init(Key.make(5))
    const batch = toTensors(batchOf(c, 3, 6, 3))
    const l = 0
    const names = { win: `layers.${l}.ff.win`, wout: `layers.${l}.ff.wout`, bin: `layers.${l}.ff.bin` }
    // non-zero old bias so the blend's bias path is exercised
    const oldBin = tf.tensor1d(Array.from({ length: c.dFF }, (_, i) => 0.1 * Math.sin(i)))
    const blendWith = (alpha: tf.Tensor1D): Forward.ForwardOptions => ({
      blend: [{ oldWin: old[names.win] as tf.Tensor2D, oldWout: old[names.wout] as tf.Tensor2D, oldBin, alpha }, undefined]
    })
    const alphaOne = tf.ones([c.dFF]) as tf.Tensor1D
    const alphaZero = tf.zeros([c.dFF]) as tf.Tensor1D
    const plain = lossOf(params, batch)
    const oldModel = lossOf({ ...params, [names.win]: old[names.win]!, [names.wout]: old[names.wout]!, [names.bin]: oldBin }, batch)
    expect(plain).not.toBeCloseTo(oldModel, 3)
    expect(lossOf(params, batch, blendWith(alphaOne))).toBeCloseTo(plain, 5)
    expect(lossOf(params, batch, blendWith(alphaZero))).toBeCloseTo(oldModel, 5)
    // alpha ∈ {0, 1} per neuron: neurons with alpha 0 use their old slices
    const newOnes = [1, 3, 4, 8]
    const alpha = tf.tensor1d(Array.from({ length: c.dFF }, (_, i) => (newOnes.includes(i) ? 1 : 0)))
    const pick = (neu: tf.Tensor, ol: tf.Tensor, axis: 0 | 1) => {
      const n = neu.arraySync() as Array<Array<number>> | Array<number>
      const o = ol.arraySync() as Array<Array<number>> | Array<number>
      if (neu.shape.length === 1) return tf.tensor1d((n as Array<number>).map((x, i) => (newOnes.includes(i) ? x : (o as Array<number>)[i]!)))
      return tf.tensor2d((n as Array<Array<number>>).map((row, r) =>
        row.map((x, k) => (newOnes.includes(axis === 1 ? k : r) ? x : (o as Array<Array<number>>)[r]![k]!))
      ))
    }
    const hybrid = {
      ...params,
      [names.win]: pick(params[names.win]!, old[names.win]!, 1),
      [names.wout]: pick(params[names.wout]!, old[names.wout]!, 0),
      [names.bin]: pick(params[names.bin]!, oldBin, 0)
    }
    expect(lossOf(params, batch, blendWith(alpha))).toBeCloseTo(lossOf(hybrid, batch), 5)
    tf.dispose([oldBin, alphaOne, alphaZero, alpha, hybrid[names.win], hybrid[names.wout], hybrid[names.bin]])
    disposeBatch(batch)
    disposeAll(params)
    disposeAll(old)
  })
})
