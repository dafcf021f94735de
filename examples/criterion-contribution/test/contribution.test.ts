import { Key, type LayerSignals, Selection, type Signals } from "@rekindle/core"
import { criterionConformance, makeCriterion, selectRequest } from "@rekindle/testing"
import { describe, expect, it } from "vitest"
import { lab } from "../src/index.ts"

// the core contract (well-formed, exact rank counts, determinism, immunity, purity, no leaks)
criterionConformance("lab/contribution", lab.criteria.contribution)
criterionConformance("lab/contribution (normalize)", lab.criteria.contribution, { options: { normalize: true } })

/** One layer's signals from its norms and mean |h| (firing rate 1 where the neuron is active). */
const layer = (index: number, inNorm: Array<number>, outNorm: Array<number>, meanAbs: Array<number>): LayerSignals => ({
  layer: index,
  dFF: inNorm.length,
  inNorm: Float32Array.from(inNorm),
  outNorm: Float32Array.from(outNorm),
  magnitude: Float32Array.from(inNorm, (x, i) => x * outNorm[i]!),
  activations: { meanAbs: Float32Array.from(meanAbs), firingRate: Float32Array.from(meanAbs, (a) => (a > 0 ? 1 : 0)) }
})

const key = Key.split(Key.make(1), "selection")
const chosen = (s: Selection.Selection) => s.layers.map((l) => [...l.indices])

describe("lab/contribution", () => {
  it("scores E|h_i|·‖W_out[i,:]‖₂: a silent neuron with large weights goes first, unlike magnitude", () => {
    // c = [0, 1, 0.4, 0.5]; magnitude M = [3, 1, 2, 0.5]
    const signals: Signals = { step: 0, layers: [layer(0, [1, 1, 1, 1], [3, 1, 2, 0.5], [0, 1, 0.2, 1])] }
    const c = makeCriterion(lab.criteria.contribution)
    const s = c.select(undefined, signals, selectRequest([4], 2), key)
    expect(s.layers[0]!.indices).toEqual([0, 2])
    expect(s.layers[0]!.scores[1]).toBeCloseTo(0.4, 6)
    const bySize = Selection.byRank(signals.layers.map((l) => l.magnitude), selectRequest([4], 2), "lowest")
    expect(bySize.layers[0]!.indices).toEqual([1, 3])
    expect(Selection.jaccard(s, bySize)).toBe(0)
  })

  it("normalize makes a global stage compare each neuron with its own layer", () => {
    // layer 1 writes ten times louder than layer 0, with the same relative profile
    const quiet = layer(0, [1, 1, 1], [1, 1, 1], [0.1, 0.2, 0.3])
    const loud = layer(1, [1, 1, 1], [1, 1, 1], [1, 2, 3])
    const signals: Signals = { step: 0, layers: [quiet, loud] }
    const raw = makeCriterion(lab.criteria.contribution).select(undefined, signals, selectRequest([3, 3], 2, "global"), key)
    expect(chosen(raw)).toEqual([[0, 1], []])
    const norm = makeCriterion(lab.criteria.contribution, { normalize: true }).select(undefined, signals, selectRequest([3, 3], 2, "global"), key)
    expect(chosen(norm)).toEqual([[0], [0]])
  })

  it("says so when the host measured no activations", () => {
    const { activations: _, ...bare } = layer(0, [1], [1], [1])
    expect(() => makeCriterion(lab.criteria.contribution).select(undefined, { step: 0, layers: [bare] }, selectRequest([1], 1), key))
      .toThrow(/lab\/contribution: layer 0 has no activation statistics/)
  })
})
