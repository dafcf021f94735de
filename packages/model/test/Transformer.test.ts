import { Key } from "@rekindle/core"
import * as tf from "@tensorflow/tfjs-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { disposeBatch, toTensors } from "../src/BatchTensors.ts"
import * as Forward from "../src/Forward.ts"
import * as Transformer from "../src/Transformer.ts"
import { batchOf, disposeAll, tiny, useCpu, values } from "./fixtures.ts"

beforeAll(useCpu)
afterAll(() => expect(tf.memory().numTensors).toBe(0))

/** Loss as a number, computed in a tidy. */
const lossOf = (model: Transformer.Transformer, params: Record<string, tf.Tensor>, batch: ReturnType<typeof toTensors>, options?: Forward.ForwardOptions) =>
  tf.tidy(() => model.loss(params, batch, options).dataSync()[0]!)

/** Rows of a [rows, cols] tensor as JS arrays. */
const rows = (t: tf.Tensor): Array<Array<number>> => t.arraySync() as Array<Array<number>>

describe("Transformer", () => {
  it("has loss ≈ ln(vocab) at init", () => {
    const c = tiny({ vocabSize: 50, dModel: 16, heads: 4, seqLen: 8 })
    const model = Transformer.make(c)
    const params = model.init(Key.make(1))
    const batch = toTensors(batchOf(c, 4, 2, 4))
    const loss = lossOf(model, params, batch)
    expect(Math.abs(loss - Math.log(50))).toBeLessThan(0.1)
    disposeBatch(batch)
    disposeAll(params)
  })

  it("leaks no tensors from loss, gradients, evaluate, magnitudes or activation stats", () => {
    const c = tiny({ ffBias: true, activation: "gelu" })
    const model = Transformer.make(c)
    const params = model.init(Key.make(2))
    const batch = toTensors(batchOf(c, 2))
    const before = tf.memory().numTensors
    tf.tidy(() => {
      const vars = Object.fromEntries(Object.entries(params).map(([n, t]) => [n, tf.variable(t, true, `leak-${n}`)]))
      const { value, grads } = tf.variableGrads(() => model.loss(vars, batch))
      expect(Object.keys(grads).length).toBe(Object.keys(params).length)
      expect(Number.isFinite(value.dataSync()[0]!)).toBe(true)
      tf.dispose(Object.values(vars))
    })
    expect(tf.memory().numTensors).toBe(before)
    const loss = model.loss(params, batch)
    const ev = model.evaluate(params, batch)
    const mags = model.magnitudes(params)
    const acts = model.activationStats(params, batch)
    // only the returned tensors survive: 1 + 2 + 3 per FF layer + 2 per FF layer
    expect(tf.memory().numTensors).toBe(before + 1 + 2 + 3 * c.layers + 2 * c.layers)
    tf.dispose([loss, ev.lossSum, ev.correct, ...mags.flatMap((m) => [m.magnitude, m.inNorm, m.outNorm]), ...acts.flatMap((a) => [a.meanAbs, a.firingRate])])
    expect(tf.memory().numTensors).toBe(before)
    disposeBatch(batch)
    disposeAll(params)
  })

  it("evaluate sums the loss and counts argmax hits at target positions", () => {
    const c = tiny({ vocabSize: 7 })
    const model = Transformer.make(c)
    const params = model.init(Key.make(3))
    const raw = batchOf(c, 3, 4, 3)
    const batch = toTensors(raw)
    const ev = model.evaluate(params, batch)
    expect(ev.count).toBe(9)
    const logits = tf.tidy(() => rows(Forward.targetLogits(c, params, batch)))
    let correct = 0
    let lossSum = 0
    logits.forEach((row, r) => {
      const target = raw.targetIds[r]!
      const argmax = row.indexOf(Math.max(...row))
      if (argmax === target) correct++
      const max = Math.max(...row)
      lossSum += Math.log(row.reduce((s, x) => s + Math.exp(x - max), 0)) + max - row[target]!
    })
    expect(ev.correct.dataSync()[0]).toBe(correct)
    expect(ev.lossSum.dataSync()[0]).toBeCloseTo(lossSum, 4)
    expect(ev.lossSum.dataSync()[0]! / ev.count).toBeCloseTo(lossOf(model, params, batch), 5)
    // a head that always predicts the target of the first row's... every target: bias it hard
    const targets = Array.from(raw.targetIds)
    const only = targets[0]!
    const bias = tf.tensor1d(Array.from({ length: c.vocabSize }, (_, v) => (v === only ? 100 : 0)))
    const biased = model.evaluate({ ...params, "head.b": bias }, batch)
    expect(biased.correct.dataSync()[0]).toBe(targets.filter((t) => t === only).length)
    tf.dispose([ev.lossSum, ev.correct, biased.lossSum, biased.correct, bias])
    disposeBatch(batch)
    disposeAll(params)
  })

  it("causal: changing token t+1 leaves outputs at positions ≤ t unchanged; bidirectional: it does not", () => {
    for (const causal of [true, false]) {
      const c = tiny({ causal, layers: 2 })
      const model = Transformer.make(c)
      const params = model.init(Key.make(4))
      const raw = batchOf(c, 2, 5)
      const changed = Int32Array.from(raw.inputIds)
      const t = 2
      changed[c.seqLen + t + 1] = (changed[c.seqLen + t + 1]! + 1) % c.vocabSize // row 1, position t+1
      const a = toTensors(raw)
      const b = toTensors({ ...raw, inputIds: changed })
      const ha = tf.tidy(() => rows(Forward.hiddenStates(c, params, a)))
      const hb = tf.tidy(() => rows(Forward.hiddenStates(c, params, b)))
      const maxDiff = (r: number) => Math.max(...ha[r]!.map((x, j) => Math.abs(x - hb[r]![j]!)))
      // row 0 never sees the change
      for (let p = 0; p < c.seqLen; p++) expect(maxDiff(p)).toBe(0)
      const before = Array.from({ length: t + 1 }, (_, p) => maxDiff(c.seqLen + p))
      if (causal) expect(Math.max(...before)).toBe(0)
      else expect(Math.min(...before)).toBeGreaterThan(1e-6)
      expect(maxDiff(c.seqLen + t + 1)).toBeGreaterThan(1e-6)
      disposeBatch(a)
      disposeBatch(b)
      disposeAll(params)
    }
  })

  it("works without FF sublayers (dFF = 0)", () => {
    const c = tiny({ dFF: 0 })
    const model = Transformer.make(c)
    expect(model.topology.layers).toEqual([])
    const params = model.init(Key.make(5))
    const batch = toTensors(batchOf(c, 2))
    expect(model.magnitudes(params)).toEqual([])
    const acts = model.activationStats(params, batch)
    expect(acts).toEqual([])
    const grads = tf.tidy(() => {
      const names = Object.keys(params)
      const g = tf.grads((...ts: Array<tf.Tensor>) => model.loss(Object.fromEntries(names.map((n, i) => [n, ts[i]!])), batch))(
        names.map((n) => params[n]!)
      )
      return g.map((x) => tf.sum(tf.abs(x)).dataSync()[0]!)
    })
    expect(grads.every(Number.isFinite)).toBe(true)
    expect(grads.some((x) => x > 0)).toBe(true)
    disposeBatch(batch)
    disposeAll(params)
  })

  it("accepts batches shorter than seqLen (position embeddings are sliced)", () => {
    const c = tiny({ seqLen: 8 })
    const model = Transformer.make(c)
    const params = model.init(Key.make(6))
    const short = toTensors(batchOf({ ...c, seqLen: 5 }, 2))
    expect(Number.isFinite(lossOf(model, params, short))).toBe(true)
    const long = toTensors(batchOf({ ...c, seqLen: 9 }, 2))
    expect(() => model.loss(params, long)).toThrow(/seqLen 9 exceeds the model's seqLen 8/)
    disposeBatch(short)
    disposeBatch(long)
    disposeAll(params)
  })

  it("learns: plain SGD on a fixed batch drives the loss down", () => {
    const c = tiny({ vocabSize: 13, dModel: 16, heads: 2, dFF: 32, seqLen: 8 })
    const model = Transformer.make(c)
    const init = model.init(Key.make(7))
    const vars = Object.fromEntries(Object.entries(init).map(([n, t]) => [n, tf.variable(t, true, `sgd-${n}`)]))
    disposeAll(init)
    const batch = toTensors(batchOf(c, 4, 8, 4))
    const losses: Array<number> = []
    for (let step = 0; step < 40; step++) {
      tf.tidy(() => {
        const { value, grads } = tf.variableGrads(() => model.loss(vars, batch))
        losses.push(value.dataSync()[0]!)
        for (const [n, g] of Object.entries(grads)) {
          const v = vars[n.slice("sgd-".length)]!
          v.assign(tf.sub(v, tf.mul(g, 0.5)))
        }
      })
    }
    expect(losses[0]!).toBeGreaterThan(2)
    expect(losses.at(-1)!).toBeLessThan(0.5 * losses[0]!)
    disposeBatch(batch)
    tf.dispose(Object.values(vars))
  })
})
