/**
 * Who gets recycled, round after round (F6-F8): the share of picks that re-select an already
 * recycled neuron, against what random picks would give, and how many distinct neurons were ever
 * recycled. Works on plain `{ step, layer, indices }` records (the fields of a Recycle event).
 */
import type { Verdict } from "./Verdict.ts"

/** The part of a Recycle event these measures read. */
export interface Pick {
  readonly step: number
  readonly layer: number
  readonly indices: ReadonlyArray<number>
}

/** Re-selection figures of one layer (or, summed, of a run). */
export interface Reselection {
  readonly rounds: number
  /** Picks after the first round. */
  readonly laterPicks: number
  /** Of those, picks of a neuron recycled in an earlier round. */
  readonly repeats: number
  /** repeats / laterPicks. */
  readonly share: number
  /** The share expected if every round picked uniformly at random (same sizes). */
  readonly chanceShare: number
  /** Distinct neurons recycled at least once. */
  readonly distinct: number
  /** Neurons recycled in every round. */
  readonly everyRound: number
}

const byLayer = (picks: ReadonlyArray<Pick>): Map<number, Array<Pick>> => {
  const out = new Map<number, Array<Pick>>()
  for (const p of picks) out.set(p.layer, [...(out.get(p.layer) ?? []), p])
  for (const list of out.values()) list.sort((a, b) => a.step - b.step)
  return out
}

/** Re-selection figures of one layer's rounds; `width` is the layer's d_ff. */
export const layerReselection = (rounds: ReadonlyArray<Pick>, width: number): Reselection => {
  const seen = new Set<number>()
  const counts = new Map<number, number>()
  let laterPicks = 0
  let repeats = 0
  let chance = 0
  rounds.forEach((round, r) => {
    if (r > 0) {
      laterPicks += round.indices.length
      for (const i of round.indices) if (seen.has(i)) repeats++
      chance += round.indices.length * (seen.size / width)
    }
    for (const i of round.indices) {
      seen.add(i)
      counts.set(i, (counts.get(i) ?? 0) + 1)
    }
  })
  let everyRound = 0
  for (const c of counts.values()) if (c === rounds.length) everyRound++
  return {
    rounds: rounds.length,
    laterPicks,
    repeats,
    share: laterPicks > 0 ? repeats / laterPicks : Number.NaN,
    chanceShare: laterPicks > 0 ? chance / laterPicks : Number.NaN,
    distinct: seen.size,
    everyRound
  }
}

/** Re-selection figures per layer and summed over layers; `width` is d_ff. */
export const reselection = (
  picks: ReadonlyArray<Pick>,
  width: number
): { readonly layers: ReadonlyArray<Reselection & { readonly layer: number }>; readonly total: Reselection } => {
  const layers = [...byLayer(picks)].sort(([a], [b]) => a - b).map(([layer, rounds]) => ({ layer, ...layerReselection(rounds, width) }))
  const sum = (f: (r: Reselection) => number): number => layers.reduce((s, r) => s + f(r), 0)
  const laterPicks = sum((r) => r.laterPicks)
  const repeats = sum((r) => r.repeats)
  return {
    layers,
    total: {
      rounds: Math.max(0, ...layers.map((r) => r.rounds)),
      laterPicks,
      repeats,
      share: laterPicks > 0 ? repeats / laterPicks : Number.NaN,
      chanceShare: laterPicks > 0 ? sum((r) => r.chanceShare * r.laterPicks) / laterPicks : Number.NaN,
      distinct: sum((r) => r.distinct),
      everyRound: sum((r) => r.everyRound)
    }
  }
}

/** A re-selection share at least this multiple of chance counts as a vicious cycle. */
export const cycleFactor = 2
/** Below this multiple of chance in every seed, there is no cycle. */
export const noCycleFactor = 1.5

/**
 * F6's "vicious cycle" from each seed's totals: reproduced when in every seed the re-selection
 * share is at least {@link cycleFactor}× what random picks would give; contradicted when in every
 * seed it is below {@link noCycleFactor}× chance; inconclusive otherwise.
 */
export const cycleVerdict = (seeds: ReadonlyArray<Reselection>): Verdict => {
  const rule = `the share of picks after round 1 that re-select an already-recycled neuron is ≥ ${cycleFactor}× the share random picks would give in every seed (reproduced), < ${noCycleFactor}× in every seed (contradicted), else inconclusive`
  if (seeds.length === 0 || seeds.some((s) => !Number.isFinite(s.share)))
    return { outcome: "inconclusive", rule, reason: "fewer than two recycling rounds" }
  const reason = seeds.map((s) => `${(s.share * 100).toFixed(0)}% vs chance ${(s.chanceShare * 100).toFixed(0)}%`).join("; ")
  if (seeds.every((s) => s.share >= cycleFactor * s.chanceShare)) return { outcome: "reproduced", rule, reason }
  if (seeds.every((s) => s.share < noCycleFactor * s.chanceShare)) return { outcome: "contradicted", rule, reason }
  return { outcome: "inconclusive", rule, reason }
}
