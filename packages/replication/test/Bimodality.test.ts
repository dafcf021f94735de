import { describe, expect, it } from "vitest"
import { Bimodality } from "../src/index.ts"
import { normals } from "./synthetic.ts"

// A clearly bimodal layer: half the neurons near 1 (the low group), half near 10 (log-normal spread).
const bimodal = (seed: number): Array<number> =>
  normals(seed, 1024).map((z, i) => (i % 2 === 0 ? Math.exp(0.15 * z) : 10 * Math.exp(0.15 * z)))
// A unimodal layer: one log-normal group.
const unimodal = (seed: number): Array<number> => normals(seed, 1024).map((z) => 2 * Math.exp(0.2 * z))

describe("bimodality", () => {
  it("Sarle's coefficient separates a two-group sample from a one-group sample", () => {
    expect(Bimodality.bimodalityCoefficient(bimodal(1))).toBeGreaterThan(0.8)
    expect(Bimodality.bimodalityCoefficient(unimodal(1))).toBeLessThan(Bimodality.bcThreshold)
    // A uniform sample sits at the threshold (5/9) by construction.
    const uniform = Array.from({ length: 10_000 }, (_, i) => i / 10_000)
    expect(Bimodality.bimodalityCoefficient(uniform)).toBeCloseTo(5 / 9, 2)
  })

  it("the two-group split finds the low group's share and medians", () => {
    const g = Bimodality.twoGroups(bimodal(2))
    expect(g.lowShare).toBeCloseTo(0.5, 2)
    expect(g.lowMedian).toBeCloseTo(1, 1)
    expect(g.highMedian).toBeCloseTo(10, 0)
    expect(g.separation).toBeGreaterThan(8)
    expect(Bimodality.summarize(bimodal(2)).bimodal).toBe(true)
    expect(Bimodality.summarize(unimodal(2)).bimodal).toBe(false)
  })

  it("a wide right-skewed single group is not called bimodal (its raw-scale coefficient is)", () => {
    const skewed = normals(3, 1024).map((z) => Math.exp(0.9 * z))
    expect(Bimodality.bimodalityCoefficient(skewed)).toBeGreaterThan(Bimodality.bcThreshold)
    const s = Bimodality.summarize(skewed)
    expect(s.bc).toBeLessThan(Bimodality.bcThreshold)
    expect(s.bimodal).toBe(false)
  })

  it("F1's verdict: split in every layer but the last, in every seed", () => {
    const study = [1, 2, 3].map((s) => [bimodal(s * 10), bimodal(s * 10 + 1), unimodal(s * 10 + 2)])
    expect(Bimodality.splitVerdict(study).outcome).toBe("reproduced")
    const flat = [1, 2, 3].map((s) => [unimodal(s * 10), unimodal(s * 10 + 1), unimodal(s * 10 + 2)])
    expect(Bimodality.splitVerdict(flat).outcome).toBe("contradicted")
    const mixed = [study[0]!, flat[1]!, study[2]!]
    expect(Bimodality.splitVerdict(mixed).outcome).toBe("inconclusive")
    expect(Bimodality.splitVerdict(study).rule).toContain("5/9")
  })
})
