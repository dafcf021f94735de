/** What each reinitializer writes into the chosen slices, on the tiny model and on wide synthetic layers. */
import { Key, type ReinitContext, type Selection, Slices } from "@rekindle/core"
import { syntheticTopology, tinyBatch, tinyModel, tinyParams } from "@rekindle/testing"
import "@tensorflow/tfjs-backend-cpu"
import * as tf from "@tensorflow/tfjs-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { copy, currentDistribution, initial, smooth, sources, zero, zeroOutgoing } from "../src/index.ts"

beforeAll(async () => {
  await tf.setBackend("cpu")
})

const model = tinyModel({ ffBias: true })
const params = tinyParams(model, 3)
afterAll(() => {
  for (const t of Object.values(params)) t.dispose()
})

const chosen: Selection.Selection = {
  layers: [
    { layer: 0, indices: [1, 5, 10], scores: [0, 0, 0] },
    { layer: 1, indices: [0], scores: [0] }
  ]
}
const key = Key.split(Key.make(9), "reinit")
const ctx = (selection: Selection.Selection = chosen, k: Key.Key = key): ReinitContext => ({
  step: 4,
  params,
  topology: model.topology,
  selection,
  key: k,
  initial: model.initParam
})

const slice = (t: tf.Tensor, axis: number, idx: ReadonlyArray<number>) =>
  tf.tidy(() => Slices.gatherAlong(t, axis, idx).arraySync() as Array<number> | Array<Array<number>>)
const allZero = (x: Array<number> | Array<Array<number>>) => x.flat().every((v) => v === 0)
const names = (l: number) => ({ win: `layers.${l}.ff.win`, wout: `layers.${l}.ff.wout`, bin: `layers.${l}.ff.bin` })
const run = (f: () => Record<string, tf.Tensor>) => tf.tidy(() => f() as unknown as tf.TensorContainer) as unknown as Record<string, tf.Tensor>
const dispose = (m: Record<string, tf.Tensor>) => Object.values(m).forEach((t) => t.dispose())

describe("reinit/initial", () => {
  it("writes the slices of a fresh init draw keyed by Key.fold(key, layer)", () => {
    const out = run(() => initial().apply(ctx()))
    for (const [p, idx] of [[0, [1, 5, 10]], [1, [0]]] as const) {
      const n = names(p)
      const fresh = { win: model.initParam(n.win, Key.fold(key, p)), wout: model.initParam(n.wout, Key.fold(key, p)) }
      expect(slice(out[n.win]!, 1, idx)).toEqual(slice(fresh.win, 1, idx))
      expect(slice(out[n.wout]!, 0, idx)).toEqual(slice(fresh.wout, 0, idx))
      expect(slice(out[n.bin]!, 0, idx)).toEqual(idx.map(() => 0)) // the model inits biases to 0
      dispose(fresh)
    }
    expect(Object.keys(out).sort()).toEqual([names(0).bin, names(0).win, names(0).wout, names(1).bin, names(1).win, names(1).wout].sort())
    dispose(out)
  })
})

describe("reinit/zero and reinit/zero-outgoing", () => {
  it("zero clears every slice of the chosen neurons", () => {
    const out = run(() => zero().apply(ctx()))
    const n = names(0)
    expect(allZero(slice(out[n.win]!, 1, [1, 5, 10]))).toBe(true)
    expect(allZero(slice(out[n.wout]!, 0, [1, 5, 10]))).toBe(true)
    expect(slice(out[n.bin]!, 0, [1, 5, 10])).toEqual([0, 0, 0])
    dispose(out)
  })
  it("zero-outgoing draws fresh incoming weights, zeroes the outgoing row: the new neurons contribute nothing", () => {
    const out = run(() => zeroOutgoing().apply(ctx()))
    const n = names(0)
    const fresh = model.initParam(n.win, Key.fold(key, 0))
    expect(slice(out[n.win]!, 1, [1, 5, 10])).toEqual(slice(fresh, 1, [1, 5, 10]))
    expect(allZero(slice(out[n.wout]!, 0, [1, 5, 10]))).toBe(true)
    // the network computes what it computes with the chosen neurons pruned (all their slices zero)
    const pruned = run(() => zero().apply(ctx()))
    const batch = tinyBatch(model.config, 2)
    const loss = (p: Record<string, tf.Tensor>) => tf.tidy(() => model.loss(p, batch).dataSync()[0]!)
    expect(loss({ ...params, ...out })).toBeCloseTo(loss({ ...params, ...pruned }), 6)
    expect(loss({ ...params, ...out })).not.toBeCloseTo(loss(params), 3)
    dispose(out)
    dispose(pruned)
    fresh.dispose()
  })
})

describe("reinit/copy", () => {
  it("copies all slices of one surviving neuron per chosen neuron (noise 0)", () => {
    const out = run(() => copy({ noise: 0 }).apply(ctx()))
    const n = names(0)
    const from = sources(12, [1, 5, 10], Key.fold(key, 0))
    expect(from.every((j) => ![1, 5, 10].includes(j))).toBe(true)
    expect(slice(out[n.win]!, 1, [1, 5, 10])).toEqual(slice(params[n.win]!, 1, from))
    expect(slice(out[n.wout]!, 0, [1, 5, 10])).toEqual(slice(params[n.wout]!, 0, from))
    expect(slice(out[n.bin]!, 0, [1, 5, 10])).toEqual(slice(params[n.bin]!, 0, from))
    dispose(out)
  })
  it("adds noise of `noise` × the parameter's std", () => {
    const topo = syntheticTopology([400], 64)
    const wide: Record<string, tf.Tensor> = {
      "layers.0.ff.win": tf.mul(tf.randomNormal([64, 400], 0, 1, "float32", 1), 2),
      "layers.0.ff.wout": tf.mul(tf.randomNormal([400, 64], 0, 1, "float32", 2), 2)
    }
    const idx = Array.from({ length: 200 }, (_, i) => 2 * i)
    const wctx: ReinitContext = {
      step: 0,
      params: wide,
      topology: topo,
      selection: { layers: [{ layer: 0, indices: idx, scores: idx.map(() => 0) }] },
      key,
      initial: () => {
        throw new Error("not used")
      }
    }
    const out = run(() => copy({ noise: 0.05 }).apply(wctx))
    const from = sources(400, idx, Key.fold(key, 0))
    const noise = tf.tidy(() => tf.sub(Slices.gatherAlong(out["layers.0.ff.win"]!, 1, idx), Slices.gatherAlong(wide["layers.0.ff.win"]!, 1, from)))
    const std = tf.tidy(() => Math.sqrt(tf.moments(noise).variance.dataSync()[0]!))
    expect(std).toBeGreaterThan(0.09) // 0.05 × 2 = 0.1
    expect(std).toBeLessThan(0.11)
    dispose(out)
    dispose(wide)
    noise.dispose()
  })
  it("falls back to a fresh init draw when every neuron of a layer is chosen", () => {
    const all = Array.from({ length: 12 }, (_, i) => i)
    const sel: Selection.Selection = { layers: [{ layer: 0, indices: all, scores: all.map(() => 0) }, { layer: 1, indices: [], scores: [] }] }
    const out = run(() => copy({ noise: 0.05 }).apply(ctx(sel)))
    const want = run(() => initial().apply(ctx(sel)))
    expect(out[names(0).win]!.arraySync()).toEqual(want[names(0).win]!.arraySync())
    dispose(out)
    dispose(want)
  })
})

describe("reinit/current-distribution", () => {
  it("draws the chosen slices from Normal(mean, std) of the whole current matrix", () => {
    const topo = syntheticTopology([400], 64)
    const wide: Record<string, tf.Tensor> = {
      "layers.0.ff.win": tf.add(tf.mul(tf.randomNormal([64, 400], 0, 1, "float32", 3), 2), 3),
      "layers.0.ff.wout": tf.add(tf.mul(tf.randomNormal([400, 64], 0, 1, "float32", 4), 0.5), -1)
    }
    const idx = Array.from({ length: 100 }, (_, i) => i)
    const out = run(() =>
      currentDistribution().apply({
        step: 0,
        params: wide,
        topology: topo,
        selection: { layers: [{ layer: 0, indices: idx, scores: idx.map(() => 0) }] },
        key,
        initial: () => {
          throw new Error("not used")
        }
      })
    )
    const stats = (t: tf.Tensor, axis: number) =>
      tf.tidy(() => {
        const m = tf.moments(Slices.gatherAlong(t, axis, idx))
        return [m.mean.dataSync()[0]!, Math.sqrt(m.variance.dataSync()[0]!)]
      })
    const [mi, si] = stats(out["layers.0.ff.win"]!, 1)
    expect(mi).toBeCloseTo(3, 0)
    expect(si).toBeGreaterThan(1.8)
    expect(si).toBeLessThan(2.2)
    const [mo, so] = stats(out["layers.0.ff.wout"]!, 0)
    expect(mo).toBeCloseTo(-1, 0)
    expect(so).toBeGreaterThan(0.45)
    expect(so).toBeLessThan(0.55)
    dispose(out)
    dispose(wide)
  })
})

describe("reinit/smooth", () => {
  it("writes what initial writes and declares its blend length", () => {
    const s = smooth({ steps: 25 })
    expect(s.blend).toEqual({ steps: 25 })
    expect(s.slicesOnly).toBe(true)
    const a = run(() => s.apply(ctx()))
    const b = run(() => initial().apply(ctx()))
    for (const p of Object.keys(b)) expect(a[p]!.arraySync()).toEqual(b[p]!.arraySync())
    dispose(a)
    dispose(b)
  })
})

describe("keys", () => {
  it("different keys give different draws; the same key the same", () => {
    for (const r of [initial(), currentDistribution(), copy({ noise: 0.05 })]) {
      const a = run(() => r.apply(ctx(chosen, key)))
      const b = run(() => r.apply(ctx(chosen, Key.fold(key, 1))))
      const w = names(0).win
      expect(slice(a[w]!, 1, [1, 5, 10])).not.toEqual(slice(b[w]!, 1, [1, 5, 10]))
      dispose(a)
      dispose(b)
    }
  })
})
