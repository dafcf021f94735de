/**
 * Is a magnitude distribution two groups or one? (F1: every layer but the last splits into a low
 * group that barely moves and a high group that grows; the last layer stays unimodal.)
 *
 * Magnitudes grow multiplicatively, so both measures look at log-magnitudes, and they decide
 * together (either alone misleads: on the raw scale a strongly right-skewed single group pushes
 * Sarle's coefficient past its threshold, and k-means always returns two groups):
 * - Sarle's bimodality coefficient BC = (g² + 1) / (κ + 3(n−1)²/((n−2)(n−3))) with g the sample
 *   skewness and κ the sample excess kurtosis (simple-statistics); BC > 5/9 (the value of a uniform
 *   distribution) suggests two modes; a normal sample gives 1/3;
 * - an exact two-group split of log-magnitudes (1-D k-means, `ckmeans`), reported as the low
 *   group's share and the ratio of the two groups' medians.
 */
import { ckmeans, coefficientOfVariation, mean, median, min, sampleKurtosis, sampleSkewness } from "simple-statistics"
import type { Verdict } from "./Verdict.ts"

/** Sarle's threshold: a uniform distribution has BC = 5/9. */
export const bcThreshold = 5 / 9
/** The high group's median must be at least this multiple of the low group's to count as apart. */
export const separationThreshold = 2
/** Each group must hold at least this share of neurons. */
export const minGroupShare = 0.1

/** Sarle's finite-sample bimodality coefficient (needs n ≥ 4). */
export const bimodalityCoefficient = (xs: ReadonlyArray<number>): number => {
  const n = xs.length
  if (n < 4) return Number.NaN
  const g = sampleSkewness([...xs])
  const k = sampleKurtosis([...xs])
  return (g * g + 1) / (k + (3 * (n - 1) ** 2) / ((n - 2) * (n - 3)))
}

/** The two-group split of a layer's magnitudes (on a log scale, where growth is multiplicative). */
export interface Groups {
  readonly lowShare: number
  readonly lowMedian: number
  readonly highMedian: number
  /** highMedian / lowMedian. */
  readonly separation: number
}

/** Splits positive magnitudes into two groups by exact 1-D k-means on their logarithms. */
export const twoGroups = (xs: ReadonlyArray<number>): Groups => {
  const logs = xs.map((x) => Math.log(Math.max(x, Number.MIN_VALUE)))
  const distinct = new Set(logs).size
  if (distinct < 2) {
    const m = xs.length > 0 ? median([...xs]) : Number.NaN
    return { lowShare: 0, lowMedian: m, highMedian: m, separation: 1 }
  }
  const [low, high] = ckmeans(logs, 2) as [Array<number>, Array<number>]
  const lowMedian = Math.exp(median(low))
  const highMedian = Math.exp(median(high))
  return { lowShare: low.length / xs.length, lowMedian, highMedian, separation: highMedian / lowMedian }
}

/** What the report shows of one layer's magnitudes. */
export interface MagnitudeSummary {
  readonly n: number
  readonly mean: number
  readonly median: number
  readonly min: number
  readonly cv: number
  /** Sarle's coefficient of the log-magnitudes. */
  readonly bc: number
  readonly groups: Groups
  readonly bimodal: boolean
}

/** The rule, stated once for the report. */
export const bimodalRule =
  `a layer is bimodal when Sarle's bimodality coefficient of its log-magnitudes exceeds 5/9 AND a two-group split of log-magnitudes (exact 1-D k-means) ` +
  `gives groups of at least ${minGroupShare * 100}% each whose medians differ at least ${separationThreshold}×`

/** Summarises one layer's magnitudes and applies {@link bimodalRule}. */
export const summarize = (xs: ReadonlyArray<number>): MagnitudeSummary => {
  const arr = [...xs]
  const bc = bimodalityCoefficient(arr.map((x) => Math.log(Math.max(x, Number.MIN_VALUE))))
  const groups = twoGroups(arr)
  const bimodal =
    bc > bcThreshold &&
    groups.separation >= separationThreshold &&
    groups.lowShare >= minGroupShare &&
    groups.lowShare <= 1 - minGroupShare
  return {
    n: arr.length,
    mean: arr.length > 0 ? mean(arr) : Number.NaN,
    median: arr.length > 0 ? median(arr) : Number.NaN,
    min: arr.length > 0 ? min(arr) : Number.NaN,
    cv: arr.length > 1 ? coefficientOfVariation(arr) : Number.NaN,
    bc,
    groups,
    bimodal
  }
}

/**
 * F1's verdict from the final magnitudes of each seed (`seeds[s][layer]` = that layer's magnitudes):
 * reproduced when in every seed every layer but the last is bimodal and the last is not;
 * contradicted when in every seed no layer is bimodal; inconclusive otherwise.
 */
export const splitVerdict = (seeds: ReadonlyArray<ReadonlyArray<ReadonlyArray<number>>>): Verdict => {
  const rule = `${bimodalRule}. F1 is reproduced when, in every seed, every layer but the last is bimodal and the last is not; contradicted when in every seed no layer is; else inconclusive`
  if (seeds.length === 0) return { outcome: "inconclusive", rule, reason: "no seeds" }
  const flags = seeds.map((layers) => layers.map((m) => summarize(m).bimodal))
  const pattern = flags.map((f) => f.map((b) => (b ? "2" : "1")).join("")).join(", ")
  const reason = `groups per layer (2 = bimodal) by seed: ${pattern}`
  const expected = (f: ReadonlyArray<boolean>): boolean => f.length >= 2 && f.slice(0, -1).every((b) => b) && !f[f.length - 1]
  if (flags.every(expected)) return { outcome: "reproduced", rule, reason }
  if (flags.every((f) => f.every((b) => !b))) return { outcome: "contradicted", rule, reason }
  return { outcome: "inconclusive", rule, reason }
}
