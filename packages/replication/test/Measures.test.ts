import { Stats } from "@rekindle/core"
import { Data } from "@rekindle/report"
import { describe, expect, it } from "vitest"
import { Bimodality, Measures } from "../src/index.ts"
import { events } from "./studyFixture.ts"
import { normals } from "./synthetic.ts"

const bimodal = normals(5, 256).map((z, i) => (i < 120 ? 0.55 : 3.5) * Math.exp(0.08 * z))
const unimodal = normals(6, 256).map((z) => 2 * Math.exp(0.25 * z))

describe("measures", () => {
  it("magnitudes rebuilt from a 32-bin probe histogram keep the bimodality verdict and the group split", () => {
    const h = Stats.histogram(bimodal, 32)
    const rebuilt = Measures.sampleOf(h)
    expect(rebuilt).toHaveLength(256)
    expect(Math.min(...rebuilt)).toBeGreaterThanOrEqual(h.min)
    expect(Math.max(...rebuilt)).toBeLessThanOrEqual(h.max)
    const s = Bimodality.summarize(rebuilt)
    expect(s.bimodal).toBe(true)
    expect(s.groups.lowShare).toBeCloseTo(120 / 256, 2)
    expect(s.groups.highMedian / s.groups.lowMedian).toBeGreaterThan(5)
    expect(Bimodality.summarize(Measures.sampleOf(Stats.histogram(unimodal, 32))).bimodal).toBe(false)
  })

  it("the tail loss is the mean train loss over the last 1/16 of the run", () => {
    const run = Data.fromEvents(events("a", { offset: 0, magnitudes: "flat" }, 1), { folder: "a" })
    const tail = run.train.filter((t) => t.step >= 3000 - 188)
    expect(Measures.tailLoss(run)).toBeCloseTo(tail.reduce((a, t) => a + t.loss, 0) / tail.length, 12)
    expect(Measures.runSteps(run)).toBe(3000)
  })

  it("a spike is the loss jump after events beyond the baseline's over the same steps", () => {
    const base = Data.fromEvents(events("b", { offset: 0, magnitudes: "flat", noise: 0 }, 1), { folder: "b" })
    const quiet = Data.fromEvents(events("q", { offset: 0, magnitudes: "flat", noise: 0, picks: "random" }, 1), { folder: "q" })
    const spiky = Data.fromEvents(events("s", { offset: 0, magnitudes: "flat", noise: 0, picks: "random", spike: 0.4 }, 1), { folder: "s" })
    expect(Measures.eventSteps(spiky)).toEqual([375, 750, 1125, 1500, 1875, 2250, 2625])
    // same seed, no arm noise: the quiet arm's curve is the baseline's
    expect(Measures.spike(quiet, base)).toBeCloseTo(0, 12)
    // +0.4 on 3 of the 6 logged steps in the 60 steps after each event
    expect(Measures.spike(spiky, base)).toBeCloseTo(0.2, 10)
    expect(Measures.spike(base, base)).toBeNull()
  })
})
