import { syntheticTopology } from "@rekindle/testing"
import { describe, expect, it } from "vitest"
import * as Immunity from "../src/Immunity.ts"

const topo = syntheticTopology([6, 4])
const sel = (a: Array<number>, b: Array<number> = []) => ({
  layers: [{ layer: 0, indices: a, scores: a.map(() => 0) }, { layer: 1, indices: b, scores: b.map(() => 0) }]
})
const ineligible = (imm: Immunity.Immunity, stage: number) =>
  Immunity.eligible(imm, stage).map((e) => Array.from(e).flatMap((x, i) => (x === 0 ? [i] : [])))

describe("immunity", () => {
  it("keeps a recycled neuron out of the next K rounds of its stage, then frees it", () => {
    let imm = Immunity.make(2, topo)
    imm = Immunity.round(imm, 0, sel([1, 4], [2]), 2) // round r: chosen
    expect(ineligible(imm, 0)).toEqual([[1, 4], [2]]) // round r+1 sees them immune
    imm = Immunity.round(imm, 0, sel([0]), 2)
    expect(ineligible(imm, 0)).toEqual([[0, 1, 4], [2]]) // round r+2: still immune (1 left), 0 new
    imm = Immunity.round(imm, 0, sel([]), 2)
    expect(ineligible(imm, 0)).toEqual([[0], []]) // round r+3: 1, 4 and 2 are free again
    imm = Immunity.round(imm, 0, sel([]), 2)
    expect(ineligible(imm, 0)).toEqual([[], []])
  })
  it("K = 0 never blocks, and K = 1 blocks exactly the next round", () => {
    let imm = Immunity.round(Immunity.make(1, topo), 0, sel([3]), 0)
    expect(ineligible(imm, 0)).toEqual([[], []])
    imm = Immunity.round(imm, 0, sel([3]), 1)
    expect(ineligible(imm, 0)).toEqual([[3], []])
    imm = Immunity.round(imm, 0, sel([]), 1)
    expect(ineligible(imm, 0)).toEqual([[], []])
  })
  it("counts per stage: another stage's rounds neither see nor decrement the counters", () => {
    let imm = Immunity.round(Immunity.make(2, topo), 0, sel([5]), 1)
    imm = Immunity.round(imm, 1, sel([]), 3)
    imm = Immunity.round(imm, 1, sel([]), 3)
    expect(ineligible(imm, 1)).toEqual([[], []])
    expect(ineligible(imm, 0)).toEqual([[5], []])
  })
  it("never mutates its input", () => {
    const a = Immunity.make(1, topo)
    const b = Immunity.round(a, 0, sel([1]), 4)
    expect(Array.from(a[0]![0]!)).toEqual([0, 0, 0, 0, 0, 0])
    expect(Array.from(b[0]![0]!)).toEqual([0, 4, 0, 0, 0, 0])
  })
})
