/** Behaviour of each criterion on hand-made signals: who is chosen, scores, counts, ties, keys. */
import { Key, type LayerSignals, Selection, type Signals, type Topology } from "@rekindle/core"
import { syntheticTopology } from "@rekindle/testing"
import { describe, expect, it } from "vitest"
import {
  dormant,
  firingRate,
  magnitudeLargest,
  magnitudeSmallest,
  normalizedActivation,
  random,
  randomBernoulli,
  snip,
  taylor,
  utility
} from "../src/index.ts"

const f32 = (xs: ReadonlyArray<number>) => Float32Array.from(xs)

const layer = (l: number, fields: { magnitude?: Array<number>; meanAbs?: Array<number>; firingRate?: Array<number>; outL1?: Array<number> }): LayerSignals => {
  const n = (fields.magnitude ?? fields.meanAbs ?? fields.firingRate ?? [])!.length
  const ones = Array.from({ length: n }, () => 1)
  return {
    layer: l,
    dFF: n,
    inNorm: f32(ones),
    outNorm: f32(ones),
    magnitude: f32(fields.magnitude ?? ones),
    outL1: f32(fields.outL1 ?? ones),
    activations: { meanAbs: f32(fields.meanAbs ?? ones), firingRate: f32(fields.firingRate ?? ones) }
  }
}

const signals = (...layers: Array<LayerSignals>): Signals => ({ step: 0, layers })

const request = (
  topo: Topology.Topology,
  fraction: number,
  scope: "per-layer" | "global" = "per-layer",
  immune: ReadonlyArray<ReadonlyArray<number>> = []
): Selection.SelectRequest => ({
  scope,
  fraction,
  k: topo.layers.map((l) => Math.round(fraction * l.dFF)),
  total: Math.round(fraction * topo.layers.reduce((n, l) => n + l.dFF, 0)),
  eligible: topo.layers.map((l, p) => {
    const e = new Uint8Array(l.dFF).fill(1)
    for (const i of immune[p] ?? []) e[i] = 0
    return e
  })
})

const key = Key.make(1)
const indices = (s: Selection.Selection) => s.layers.map((l) => [...l.indices])

describe("magnitude criteria", () => {
  const topo = syntheticTopology([5, 5])
  const sig = signals(layer(0, { magnitude: [3, 1, 4, 1, 5] }), layer(1, { magnitude: [9, 2, 6, 5, 3] }))

  it("chooses the k smallest per layer, ties by index, with their scores", () => {
    const s = magnitudeSmallest().select(undefined, sig, request(topo, 0.4), key)
    expect(indices(s)).toEqual([[1, 3], [1, 4]])
    expect(s.layers[1]!.scores).toEqual([2, 3])
  })
  it("chooses the k largest", () => {
    expect(indices(magnitudeLargest().select(undefined, sig, request(topo, 0.4), key))).toEqual([[2, 4], [0, 2]])
  })
  it("ranks globally over all layers in global scope", () => {
    // total = round(0.3 * 10) = 3: magnitudes 1 (0:1), 1 (0:3), 2 (1:1)
    expect(indices(magnitudeSmallest().select(undefined, sig, request(topo, 0.3, "global"), key))).toEqual([[1, 3], [1]])
  })
  it("skips immune neurons and takes the next ones", () => {
    expect(indices(magnitudeSmallest().select(undefined, sig, request(topo, 0.4, "per-layer", [[1], []]), key))).toEqual([[0, 3], [1, 4]])
  })
})

describe("random criteria", () => {
  const topo = syntheticTopology([200, 200])
  const sig = signals(layer(0, { magnitude: new Array(200).fill(1) }), layer(1, { magnitude: new Array(200).fill(1) }))

  it("random chooses exactly k, differently per key and per layer, reproducibly", () => {
    const a = random().select(undefined, sig, request(topo, 0.1), key)
    expect(a.layers.map((l) => l.indices.length)).toEqual([20, 20])
    expect(indices(random().select(undefined, sig, request(topo, 0.1), key))).toEqual(indices(a))
    expect(indices(random().select(undefined, sig, request(topo, 0.1), Key.fold(key, 1)))).not.toEqual(indices(a))
    expect(a.layers[0]!.indices).not.toEqual(a.layers[1]!.indices)
  })
  it("eligibility does not shift the draws: the same neurons stay chosen when others become immune", () => {
    const a = random().select(undefined, sig, request(topo, 0.1), key)
    const immune = [Array.from({ length: 200 }, (_, i) => i).filter((i) => !a.layers[0]!.indices.includes(i)).slice(0, 50), []]
    const b = random().select(undefined, sig, request(topo, 0.1, "per-layer", immune), key)
    expect(b.layers[0]!.indices).toEqual(a.layers[0]!.indices)
  })
  it("random-bernoulli chooses each neuron with probability p (its draw is below p)", () => {
    const s = randomBernoulli().select(undefined, sig, request(topo, 0.25), key)
    for (const l of s.layers) for (const u of l.scores) expect(u).toBeLessThan(0.25)
    const n = Selection.count(s)
    expect(n).toBeGreaterThan(400 * 0.25 - 5 * Math.sqrt(400 * 0.25 * 0.75))
    expect(n).toBeLessThan(400 * 0.25 + 5 * Math.sqrt(400 * 0.25 * 0.75))
    // the same draws as `random`: bernoulli picks are exactly the random scores below p
    const r = random().select(undefined, sig, request(topo, 1), key)
    expect(indices(s)).toEqual(r.layers.map((l) => l.indices.filter((_, j) => l.scores[j]! < 0.25)))
  })
})

describe("dormant (ReDo)", () => {
  const topo = syntheticTopology([5, 4])
  // layer 0 mean |h| = 1: scores [0, 0.05, 1, 2, 1.95]; layer 1 silent: every score 0
  const sig = signals(layer(0, { meanAbs: [0, 0.05, 1, 2, 1.95] }), layer(1, { meanAbs: [0, 0, 0, 0] }))

  it("scores E|h_i| / mean_j E|h_j| and chooses those ≤ τ", () => {
    expect(Array.from(normalizedActivation(f32([0, 0.05, 1, 2, 1.95])))).toEqual(Array.from(f32([0, 0.05, 1, 2, 1.95])))
    const s = dormant({ tau: 0.1, cap: false }).select(undefined, sig, request(topo, 0.2), key)
    expect(indices(s)).toEqual([[0, 1], [0, 1, 2, 3]])
    expect(s.layers[0]!.scores[1]).toBeCloseTo(0.05, 6)
  })
  it("is inclusive at τ, also for τ not exact in float32", () => {
    expect(indices(dormant({ tau: 1, cap: false }).select(undefined, sig, request(topo, 1), key))[0]).toEqual([0, 1, 2])
    expect(indices(dormant({ tau: 0.05, cap: false }).select(undefined, sig, request(topo, 1), key))[0]).toEqual([0, 1])
  })
  it("with cap, chooses at most k, most dormant first", () => {
    // k = round(0.2 * 5) = 1 and round(0.2 * 4) = 1
    expect(indices(dormant({ tau: 0.1, cap: true }).select(undefined, sig, request(topo, 0.2), key))).toEqual([[0], [0]])
  })
  it("needs activations and says so when they are missing", () => {
    const bare: Signals = { step: 0, layers: [{ ...layer(0, { meanAbs: [1, 2] }), activations: undefined as never }] }
    const { activations: _, ...noAct } = bare.layers[0]!
    expect(dormant({ tau: 0.1, cap: true }).needs.activations).toBe(true)
    expect(() => dormant({ tau: 0.1, cap: true }).select(undefined, { step: 0, layers: [noAct] }, request(syntheticTopology([2]), 1), key))
      .toThrow(/no activation statistics/)
  })
})

describe("firing-rate", () => {
  const topo = syntheticTopology([4])
  const sig = signals(layer(0, { firingRate: [0, 0.01, 0.5, 0.005] }))
  it("chooses rates strictly below the threshold, lowest first under the cap", () => {
    expect(indices(firingRate({ threshold: 0.01, cap: false }).select(undefined, sig, request(topo, 1), key))).toEqual([[0, 3]])
    expect(indices(firingRate({ threshold: 0.01, cap: true }).select(undefined, sig, request(topo, 0.25), key))).toEqual([[0]])
  })
})

describe("utility (Continual Backprop)", () => {
  const topo = syntheticTopology([3])
  const c = utility({ decay: 0.5, every: 2 })
  const at = (meanAbs: Array<number>, outL1: Array<number>) => signals(layer(0, { meanAbs, outL1 }))

  it("declares its cadence and needs", () => {
    expect(c.observeEvery).toBe(2)
    expect(c.needs.activations).toBe(true)
    expect(c.count).toBe("rank")
  })
  it("keeps a bias-corrected running average of E|h_i| · Σ_j |W_out[i, j]|", () => {
    let s = c.init(topo)
    s = c.observe(s, at([1, 2, 3], [1, 1, 1])) // y = [1, 2, 3]
    s = c.observe(s, at([1, 0, 3], [3, 1, 1])) // y = [3, 0, 3]
    // u = 0.5·(0.5·y1) + 0.5·y2 = [1.75, 0.5, 2.25]; corrected by 1 − 0.25 = 0.75
    expect(Array.from(s.u[0]!)).toEqual([1.75, 0.5, 2.25])
    const sel = c.select(s, at([9, 9, 9], [9, 9, 9]), request(topo, 1 / 3), key)
    expect(indices(sel)).toEqual([[1]])
    expect(sel.layers[0]!.scores[0]).toBeCloseTo(0.5 / 0.75, 12)
  })
  it("forget restarts the recycled neurons; unobserved neurons are scored by their instantaneous utility", () => {
    let s = c.init(topo)
    s = c.observe(s, at([1, 2, 3], [1, 1, 1]))
    s = c.forget!(s, { layers: [{ layer: 0, indices: [0], scores: [1] }] })
    expect(Array.from(s.age[0]!)).toEqual([0, 1, 1])
    // neuron 0: instantaneous 5 · 1 = 5 now; neurons 1, 2: 2 and 3 from the average
    const sel = c.select(s, at([5, 0, 0], [1, 1, 1]), request(topo, 1), key)
    expect(sel.layers[0]!.scores).toEqual([5, 2, 3])
  })
  it("fails clearly without the outL1 signal", () => {
    const { outL1: _, ...noL1 } = layer(0, { meanAbs: [1, 2, 3] })
    expect(() => c.observe(c.init(topo), { step: 0, layers: [noL1] })).toThrow(/outL1/)
  })
})

describe("gradient criteria", () => {
  const layer = (values: Record<string, Array<number>>) => ({
    layer: 0,
    dFF: 4,
    inNorm: new Float32Array(4),
    outNorm: new Float32Array(4),
    magnitude: Float32Array.from([4, 3, 2, 1]),
    values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Float32Array.from(v)]))
  })
  const request = { scope: "per-layer" as const, k: [2], total: 2, fraction: 0.5, eligible: [Uint8Array.from([1, 1, 1, 1])] }
  const options = { every: 1, window: "mean" as const, decay: 0.9 }

  it("select/taylor picks the smallest Taylor values, declared as signal/taylor with its window", () => {
    const c = taylor(options)
    expect(c.signals).toEqual({ taylor: { use: "signal/taylor", window: { kind: "mean" }, every: 1 } })
    expect(taylor({ ...options, window: "ema", every: 5 }).signals!.taylor).toEqual({ use: "signal/taylor", window: { kind: "ema", decay: 0.9 }, every: 5 })
    const s = c.select(undefined, { step: 3, layers: [layer({ taylor: [0.5, 0.1, 0.9, 0.2] })] }, request, Key.make(1))
    expect(s.layers[0]!.indices).toEqual([1, 3])
    expect(s.layers[0]!.scores).toEqual([Math.fround(0.1), Math.fround(0.2)])
  })

  it("select/snip picks the smallest saliencies; both say which signal is missing", () => {
    const c = snip(options)
    expect(c.signals!.saliency!.use).toBe("signal/snip")
    const s = c.select(undefined, { step: 3, layers: [layer({ saliency: [3, 2, 1, 0] })] }, request, Key.make(1))
    expect(s.layers[0]!.indices).toEqual([2, 3])
    expect(() => c.select(undefined, { step: 3, layers: [layer({})] }, request, Key.make(1))).toThrow(/select\/snip: layer 0 has no signal "saliency"/)
  })
})
