import { Key, type Signals } from "@rekindle/core"
import { criterionConformance, makeCriterion, selectRequest } from "@rekindle/testing"
import { describe, expect, it } from "vitest"
import { plugin } from "../src/index.ts"

// the core contract, on synthetic values of the signals it declares: well-formed selections,
// exact rank counts, determinism, immunity, purity, finite scores, no tensor leaks
criterionConformance("lab/taylor", plugin.criteria.taylor)

/** One layer whose magnitudes rank the neurons the other way round from their Taylor values. */
const signals = (taylor: Array<number>): Signals => {
  const magnitude = Float32Array.from([0.5, 1, 2, 3])
  return {
    step: 4,
    layers: [{ layer: 0, dFF: 4, inNorm: magnitude, outNorm: new Float32Array(4).fill(1), magnitude, values: { taylor: Float32Array.from(taylor) } }]
  }
}

describe("lab/taylor", () => {
  it("asks the host for signal/taylor, averaged since the stage last fired", () => {
    expect(makeCriterion(plugin.criteria.taylor, { every: 2 }).signals).toEqual({
      taylor: { use: "signal/taylor", window: { kind: "mean" }, every: 2 }
    })
  })

  it("recycles the neurons with the smallest Taylor importance, whatever their magnitude", () => {
    const chosen = makeCriterion(plugin.criteria.taylor).select(undefined, signals([0.3, 0.2, 0, 0.1]), selectRequest([4], 2), Key.make(1))
    expect(chosen.layers[0]!.indices).toEqual([2, 3])
    expect(chosen.layers[0]!.scores).toEqual([0, Math.fround(0.1)])
  })

  it("says so when the host measured no Taylor signal", () => {
    const { values: _, ...bare } = signals([0, 0, 0, 0]).layers[0]!
    expect(() => makeCriterion(plugin.criteria.taylor).select(undefined, { step: 4, layers: [bare] }, selectRequest([4], 1), Key.make(1)))
      .toThrow(/lab\/taylor: layer 0 has no signal "taylor"/)
  })
})
