/**
 * Per-neuron recycling history: for every FF neuron, how often it was reset, the step of its last
 * reset (-1 = never) and the criterion's score at that reset (0 = never). `events` turns it, with
 * the current magnitudes, into one core `Lineage` event per layer.
 */
import { Event, type LineageView, type Selection, type Topology } from "@rekindle/core"

/** One layer's history. */
export interface LayerLineage {
  readonly resets: Int32Array
  readonly lastReset: Int32Array
  readonly scoreAtReset: Float32Array
}

/** Every layer's history. */
export type Lineage = ReadonlyArray<LayerLineage>

/** No neuron reset yet. */
export const make = (topology: Topology.Topology): Lineage =>
  topology.layers.map((l) => ({
    resets: new Int32Array(l.dFF),
    lastReset: new Int32Array(l.dFF).fill(-1),
    scoreAtReset: new Float32Array(l.dFF)
  }))

/** The history after the chosen neurons were reset at `step`. */
export const record = (lineage: Lineage, step: number, chosen: Selection.Selection): Lineage =>
  lineage.map((l, p) => {
    const sel = chosen.layers[p]
    if (sel === undefined || sel.indices.length === 0) return l
    const next = { resets: l.resets.slice(), lastReset: l.lastReset.slice(), scoreAtReset: l.scoreAtReset.slice() }
    sel.indices.forEach((i, j) => {
      next.resets[i] = next.resets[i]! + 1
      next.lastReset[i] = step
      next.scoreAtReset[i] = Number.isFinite(sel.scores[j]) ? sel.scores[j]! : 0
    })
    return next
  })

/** One `Lineage` event per layer at `step`, with the current magnitudes. */
export const events = (
  lineage: Lineage,
  topology: Topology.Topology,
  step: number,
  magnitudes: ReadonlyArray<Float32Array>
): Array<Event.EventOf<"Lineage">> =>
  lineage.map((l, p) =>
    Event.Lineage.make({
      step,
      layer: topology.layers[p]!.layer,
      resets: Array.from(l.resets),
      lastReset: Array.from(l.lastReset),
      scoreAtReset: Array.from(l.scoreAtReset),
      magnitude: Array.from(magnitudes[p] ?? [])
    })
  )

/** What probes see (`ProbeContext.lineage`). */
export const view = (lineage: Lineage): LineageView => ({ resets: lineage.map((l) => l.resets) })
