/**
 * Immunity: per stage and FF layer, a counter per neuron. When a stage chooses a neuron its
 * counter is set to the stage's `immunity` K; each later round (firing) of that stage first reads
 * eligibility (counter = 0), then decrements every positive counter. So a neuron recycled at round
 * r cannot be chosen by that stage in rounds r+1 .. r+K. Other stages keep their own counters.
 * Values are plain arrays, replaced (never mutated) by each operation.
 */
import type { Selection, Topology } from "@rekindle/core"

/** Counters per stage, then per layer. */
export type Immunity = ReadonlyArray<ReadonlyArray<Int32Array>>

/** All counters 0 for `stages` stages. */
export const make = (stages: number, topology: Topology.Topology): Immunity =>
  Array.from({ length: stages }, () => topology.layers.map((l) => new Int32Array(l.dFF)))

/** Per layer, 1 where the stage may choose the neuron (counter 0). */
export const eligible = (immunity: Immunity, stage: number): Array<Uint8Array> =>
  immunity[stage]!.map((c) => Uint8Array.from(c, (x) => (x === 0 ? 1 : 0)))

/** One round of `stage`: decrement its positive counters, then set the chosen neurons' to `k`. */
export const round = (immunity: Immunity, stage: number, chosen: Selection.Selection, k: number): Immunity =>
  immunity.map((layers, s) => {
    if (s !== stage) return layers
    return layers.map((c, p) => {
      const next = c.map((x) => (x > 0 ? x - 1 : 0))
      for (const i of chosen.layers[p]?.indices ?? []) next[i] = k
      return next
    })
  })
