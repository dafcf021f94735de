import { describe, expect, it } from "@effect/vitest"
import type { Event, LayerSignals, ProbeContext } from "@rekindle/core"
import { Effect, Schema } from "effect"
import { Stats } from "@rekindle/core"
import { probe, Probes } from "../src/index.ts"

describe("Stats", () => {
  it("histogram: edges, counts, moments; the max lands in the last bin", () => {
    const h = Stats.histogram([0, 1, 2, 3, 4, 4], 4)
    expect(h.edges).toEqual([0, 1, 2, 3, 4])
    expect(h.counts).toEqual([1, 1, 1, 3])
    expect(h.n).toBe(6)
    expect(h.mean).toBeCloseTo(14 / 6, 12)
    const m = 14 / 6
    expect(h.std).toBeCloseTo(Math.sqrt([0, 1, 2, 3, 4, 4].reduce((a, v) => a + (v - m) ** 2, 0) / 6), 12)
  })

  it("histogram: explicit range clamps, non-finite values are left out, a constant gets a unit-wide range", () => {
    const h = Stats.histogram([-1, 0.1, 0.5, 0.9, 2, Number.NaN, Infinity], 2, [0, 1])
    expect(h.edges).toEqual([0, 0.5, 1])
    expect(h.counts).toEqual([2, 3])
    expect(h.n).toBe(5)
    const c = Stats.histogram([3, 3, 3], 5)
    expect(c.edges[0]).toBe(2.5)
    expect(c.edges.at(-1)).toBe(3.5)
    expect(c.counts.reduce((a, b) => a + b)).toBe(3)
    expect(c.std).toBe(0)
    expect(() => Stats.histogram([1], 0)).toThrow(/bins/)
  })

  it("integerHistogram: one bin per count, merged when there are too many", () => {
    const h = Stats.integerHistogram(Int32Array.from([0, 0, 0, 1, 3]))
    expect(h.edges).toEqual([-0.5, 0.5, 1.5, 2.5, 3.5])
    expect(h.counts).toEqual([3, 1, 0, 1])
    const merged = Stats.integerHistogram(Array.from({ length: 100 }, (_, i) => i), 10)
    expect(merged.counts.length).toBeLessThanOrEqual(10)
    expect(merged.counts.reduce((a, b) => a + b)).toBe(100)
    expect(merged.edges[1]! - merged.edges[0]!).toBe(10)
  })

  it("pearson: +1, -1, a known value, undefined for a constant", () => {
    expect(Stats.pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12)
    expect(Stats.pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12)
    // x = 1..5, y = [2, 1, 4, 3, 5]: Σdxdy = 8, Σdx² = Σdy² = 10
    expect(Stats.pearson([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])).toBeCloseTo(0.8, 12)
    expect(Stats.pearson([1, 1, 1], [1, 2, 3])).toBeUndefined()
    expect(Stats.pearson([1], [1])).toBeUndefined()
    expect(Stats.pearson([1, 2, Number.NaN, 3], [1, 2, 100, 3])).toBeCloseTo(1, 12)
  })

  it("strideIndices thins deterministically", () => {
    expect(Stats.strideIndices(5, 0)).toEqual([0, 1, 2, 3, 4])
    expect(Stats.strideIndices(10, 4)).toEqual([0, 3, 6, 9])
  })
})

const layer = (l: number, magnitude: Array<number>, firing?: Array<number>, meanAbs?: Array<number>): LayerSignals => ({
  layer: l,
  dFF: magnitude.length,
  inNorm: Float32Array.from(magnitude, Math.sqrt),
  outNorm: Float32Array.from(magnitude, Math.sqrt),
  magnitude: Float32Array.from(magnitude),
  ...(firing !== undefined ? { activations: { firingRate: Float32Array.from(firing), meanAbs: Float32Array.from(meanAbs ?? firing) } } : {})
})

const ctx = (layers: Array<LayerSignals>, resets: Array<Array<number>> = [], step = 7): ProbeContext => ({
  step,
  signals: { step, layers },
  lineage: { resets: layers.map((l, p) => Int32Array.from(resets[p] ?? new Array(l.dFF).fill(0))) }
})

const byName = (events: ReadonlyArray<Event.Event>, tag: string, name: string, layerIndex: number) =>
  events.filter((e) => e._tag === tag && "name" in e && e.name === name && "layer" in e && e.layer === layerIndex)

describe("probes", () => {
  it("probe/magnitudes: one histogram per layer over that layer's magnitudes, mean and std scalars", () => {
    const p = Probes.magnitudes({ every: 10, bins: 4 })
    expect(p.every).toBe(10)
    expect(p.needs.activations).toBe(false)
    const events = p.run(ctx([layer(0, [1, 2, 3, 4]), layer(1, [10, 10, 10, 30])]))
    const h1 = byName(events, "Histogram", "magnitude", 1)[0]
    if (h1?._tag !== "Histogram") throw new Error("no histogram for layer 1")
    expect(h1.step).toBe(7)
    expect(h1.probe).toBe("probe/magnitudes")
    expect(h1.edges).toEqual([10, 15, 20, 25, 30])
    expect(h1.counts).toEqual([3, 0, 0, 1])
    expect(h1.mean).toBeCloseTo(15, 5)
    const mean0 = byName(events, "Scalar", "magnitude-mean", 0)[0]
    const std0 = byName(events, "Scalar", "magnitude-std", 0)[0]
    expect(mean0?._tag === "Scalar" && mean0.value).toBeCloseTo(2.5, 5)
    expect(std0?._tag === "Scalar" && std0.value).toBeCloseTo(Math.sqrt(1.25), 5)
  })

  it("probe/recycle-counts reads the lineage", () => {
    const events = Probes.recycleCounts({ every: 5 }).run(ctx([layer(0, [1, 1, 1, 1])], [[0, 2, 2, 1]]))
    const h = byName(events, "Histogram", "recycle-count", 0)[0]
    expect(h?._tag === "Histogram" && h.counts).toEqual([1, 1, 2])
    const frac = byName(events, "Scalar", "recycled-fraction", 0)[0]
    expect(frac?._tag === "Scalar" && frac.value).toBe(0.75)
  })

  it("probe/activations: firing-rate histogram over [0, 1], dead fraction, scatter with Pearson's r", () => {
    const p = Probes.activations({ every: 3, bins: 2, maxPoints: 2 })
    expect(p.needs.activations).toBe(true)
    const events = p.run(ctx([layer(0, [1, 2, 3, 4], [0, 0.2, 0.6, 0.8], [0, 1, 2, 3])]))
    const fr = byName(events, "Histogram", "firing-rate", 0)[0]
    expect(fr?._tag === "Histogram" && fr.edges).toEqual([0, 0.5, 1])
    expect(fr?._tag === "Histogram" && fr.counts).toEqual([2, 2])
    const dead = byName(events, "Scalar", "dead-fraction", 0)[0]
    expect(dead?._tag === "Scalar" && dead.value).toBe(0.25)
    const sc = byName(events, "Scatter", "magnitude-vs-firing-rate", 0)[0]
    if (sc?._tag !== "Scatter") throw new Error("no scatter")
    const r = Stats.pearson([1, 2, 3, 4], [0, 0.2, 0.6, 0.8])!
    expect(sc.pearson).toBeCloseTo(r, 6)
    expect(sc.x).toEqual([1, 3]) // thinned to maxPoints
    const rs = byName(events, "Scalar", "magnitude-vs-firing-rate-pearson", 0)[0]
    expect(rs?._tag === "Scalar" && rs.value).toBeCloseTo(r, 6)
    expect(() => p.run(ctx([layer(0, [1, 2])]))).toThrow(/no activation statistics/)
  })

  it("an undefined r is written as 0 with no pearson scalar (events.jsonl cannot hold NaN)", () => {
    const events = Probes.activations({ every: 1, bins: 2, maxPoints: 0 }).run(ctx([layer(0, [1, 2, 3], [0.5, 0.5, 0.5])]))
    expect(byName(events, "Scalar", "magnitude-vs-firing-rate-pearson", 0)).toEqual([])
    for (const e of events) expect(JSON.stringify(e)).not.toContain("null")
  })

  it.effect("the plugin decodes options with defaults and builds probes", () =>
    Effect.gen(function*() {
      const part = probe.probes.magnitudes
      const options = Schema.decodeUnknownSync(part.options)({})
      expect(options).toEqual({ every: Probes.defaultEvery, bins: Probes.defaultBins })
      const built = yield* part.make(options, { totalSteps: 10 })
      expect(built.every).toBe(Probes.defaultEvery)
      expect(() => Schema.decodeUnknownSync(probe.probes.activations.options)({ every: 0 })).toThrow()
      expect(Object.keys(probe.probes)).toEqual(["magnitudes", "recycle-counts", "activations"])
    }))
})
