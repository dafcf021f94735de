/**
 * The Student-t interval of a mean: the interval every comparison over seeds uses. With the study's
 * 3 seeds a percentile bootstrap of the mean is the [min, max] of the values (each resample of 3
 * draws hits all-minimum with probability 1/27 > 2.5%), so under no difference at all it excludes 0
 * one time in four; the t interval (2 degrees of freedom: mean ± 4.30 standard errors) keeps the
 * stated 95%, assuming roughly normal seed-to-seed variation.
 */
import { mean, sampleStandardDeviation } from "simple-statistics"

/** A mean with its interval. */
export interface Interval {
  readonly mean: number
  readonly lo: number
  readonly hi: number
  readonly n: number
  readonly level: number
}

/** Two-sided 95% quantiles of Student's t by degrees of freedom (1-30, then 40, 60, 120, ∞). */
const t975: ReadonlyArray<readonly [number, number]> = [
  [1, 12.706], [2, 4.303], [3, 3.182], [4, 2.776], [5, 2.571], [6, 2.447], [7, 2.365], [8, 2.306], [9, 2.262], [10, 2.228],
  [11, 2.201], [12, 2.179], [13, 2.16], [14, 2.145], [15, 2.131], [16, 2.12], [17, 2.11], [18, 2.101], [19, 2.093], [20, 2.086],
  [21, 2.08], [22, 2.074], [23, 2.069], [24, 2.064], [25, 2.06], [26, 2.056], [27, 2.052], [28, 2.048], [29, 2.045], [30, 2.042],
  [40, 2.021], [60, 2], [120, 1.98], [Number.POSITIVE_INFINITY, 1.96]
]

/** The 97.5% quantile of Student's t with `df` degrees of freedom (linear in 1/df between table rows). */
export const tQuantile975 = (df: number): number => {
  const upper = t975.findIndex(([d]) => d >= df)
  const [d1, q1] = t975[upper]!
  if (d1 === df || upper === 0) return q1
  const [d0, q0] = t975[upper - 1]!
  const w = (1 / d0 - 1 / df) / (1 / d0 - 1 / d1)
  return q0 + w * (q1 - q0)
}

/** The 95% Student-t interval of the mean of `xs` (one value: the value itself; none: NaN). */
export const meanInterval = (xs: ReadonlyArray<number>): Interval => {
  const n = xs.length
  const level = 0.95
  if (n === 0) return { mean: Number.NaN, lo: Number.NaN, hi: Number.NaN, n, level }
  const m = mean([...xs])
  if (n === 1) return { mean: m, lo: m, hi: m, n, level }
  const half = (tQuantile975(n - 1) * sampleStandardDeviation([...xs])) / Math.sqrt(n)
  return { mean: m, lo: m - half, hi: m + half, n, level }
}
