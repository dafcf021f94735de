/**
 * Percentile bootstrap of a mean, seeded by an explicit RNG key so every report is reproducible.
 */
import { Key } from "@rekindle/core"
import { mean, quantileSorted } from "simple-statistics"

/** A mean with its bootstrap interval. */
export interface Interval {
  readonly mean: number
  readonly lo: number
  readonly hi: number
  readonly n: number
  readonly level: number
}

/** Options of {@link bootstrapMean}. */
export interface BootstrapOptions {
  readonly key: Key.Key
  readonly resamples?: number
  readonly level?: number
}

/** The percentile bootstrap interval of the mean of `xs` (resampled with replacement). */
export const bootstrapMean = (xs: ReadonlyArray<number>, options: BootstrapOptions): Interval => {
  const level = options.level ?? 0.95
  const n = xs.length
  if (n === 0) return { mean: Number.NaN, lo: Number.NaN, hi: Number.NaN, n, level }
  const m = mean([...xs])
  if (n === 1) return { mean: m, lo: m, hi: m, n, level }
  const draw = Key.uniform(Key.split(options.key, "bootstrap"))
  const resamples = options.resamples ?? 10_000
  const means = new Float64Array(resamples)
  for (let r = 0; r < resamples; r++) {
    let s = 0
    for (let i = 0; i < n; i++) s += xs[Math.floor(draw() * n)]!
    means[r] = s / n
  }
  means.sort()
  const sorted = Array.from(means)
  const tail = (1 - level) / 2
  return { mean: m, lo: quantileSorted(sorted, tail), hi: quantileSorted(sorted, 1 - tail), n, level }
}
