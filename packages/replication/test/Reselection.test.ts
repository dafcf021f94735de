import { Key } from "@rekindle/core"
import { describe, expect, it } from "vitest"
import { Reselection } from "../src/index.ts"

const width = 512
const k = 51
const rounds = 7

// Random picks: each round k distinct neurons uniformly at random.
const randomPicks = (seed: number): Array<Reselection.Pick> => {
  const u = Key.uniform(Key.make(seed))
  return Array.from({ length: rounds }, (_, r) => {
    const chosen = new Set<number>()
    while (chosen.size < k) chosen.add(Math.floor(u() * width))
    return { step: (r + 1) * 500, layer: 0, indices: [...chosen].sort((a, b) => a - b) }
  })
}
// A vicious cycle: the same 40 neurons every round, plus 11 fresh ones.
const cyclePicks = (): Array<Reselection.Pick> =>
  Array.from({ length: rounds }, (_, r) => ({
    step: (r + 1) * 500,
    layer: 0,
    indices: [...Array.from({ length: 40 }, (_, i) => i), ...Array.from({ length: 11 }, (_, i) => 100 + r * 11 + i)]
  }))

describe("re-selection", () => {
  it("counts repeats, distinct neurons and neurons recycled in every round", () => {
    const r = Reselection.reselection(cyclePicks(), width).total
    expect(r.rounds).toBe(7)
    expect(r.laterPicks).toBe(6 * 51)
    expect(r.repeats).toBe(6 * 40)
    expect(r.share).toBeCloseTo(40 / 51, 10)
    expect(r.distinct).toBe(40 + 7 * 11)
    expect(r.everyRound).toBe(40)
  })

  it("random picks re-select about as often as chance says", () => {
    const r = Reselection.reselection(randomPicks(1), width).total
    // chance share for p = k/width ≈ 0.1 over 7 rounds ≈ 0.3
    expect(r.chanceShare).toBeGreaterThan(0.2)
    expect(r.chanceShare).toBeLessThan(0.4)
    expect(Math.abs(r.share - r.chanceShare)).toBeLessThan(0.08)
  })

  it("F6's verdict: a cycle is reproduced, random picks contradict it", () => {
    const cycle = [1, 2, 3].map(() => Reselection.reselection(cyclePicks(), width).total)
    expect(Reselection.cycleVerdict(cycle).outcome).toBe("reproduced")
    const random = [1, 2, 3].map((s) => Reselection.reselection(randomPicks(s), width).total)
    expect(Reselection.cycleVerdict(random).outcome).toBe("contradicted")
  })

  it("layers are counted separately and summed", () => {
    const two = [...cyclePicks(), ...cyclePicks().map((p) => ({ ...p, layer: 1 }))]
    const r = Reselection.reselection(two, width)
    expect(r.layers.map((l) => l.layer)).toEqual([0, 1])
    expect(r.total.distinct).toBe(2 * (40 + 77))
  })
})
