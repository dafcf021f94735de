/**
 * The per-layer magnitudes M_i right after a recycling event, for its `Recycle` (`magnitudeAfter`)
 * and `Lineage` events. After a slices-only reinitializer (its invariant check passed: nothing but
 * the chosen neurons' slices changed) only the chosen neurons are measured anew
 * (`Measure.magnitudesAt`); every other entry is the one measured before the event, on unchanged
 * weights. Both are bit for bit what `Measure.magnitudes` gives after the event (a neuron's
 * magnitude depends on its own slices only; packages/model/test/Measure.test.ts), at a fraction of
 * the cost: no full-size norms of every W_in / W_out.
 */
import type { Params, Selection, Topology } from "@rekindle/core"
import { Measure } from "@rekindle/model"

/**
 * Magnitudes after the event: `before` (the magnitudes measured on the same parameters before a
 * slices-only reinit) with the chosen neurons' entries measured now; without `before`, or for a
 * reinitializer that may write outside the chosen slices (`slicesOnly` false), all measured now.
 */
export const after = (
  topology: Topology.Topology,
  params: Params.ParamMap,
  selection: Selection.Selection,
  before: ReadonlyArray<Float32Array> | undefined
): Array<Float32Array> => {
  if (before === undefined) return Measure.magnitudes(topology, params)
  const indices = topology.layers.map((_, p) => selection.layers[p]?.indices ?? [])
  const chosen = Measure.magnitudesAt(topology, params, indices)
  return topology.layers.map((_, p) => {
    const out = Float32Array.from(before[p]!)
    indices[p]!.forEach((i, j) => {
      out[i] = chosen[p]![j]!
    })
    return out
  })
}
