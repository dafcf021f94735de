/**
 * Plain-array statistics the probes (and the report, and `rekindle magnitudes`) share: histograms
 * as bin edges + counts with the mean and population standard deviation of the values, integer
 * histograms for counts, and Pearson's r. Non-finite values are left out of every statistic.
 */
import { Bug } from "./Errors.ts"

/** A histogram: `edges.length === counts.length + 1`; bin b holds edges[b] <= v < edges[b + 1] (the last bin is closed). */
export interface Histogram {
  readonly edges: Array<number>
  readonly counts: Array<number>
  /** Number of finite values counted. */
  readonly n: number
  readonly mean: number
  /** Population standard deviation (divides by n). */
  readonly std: number
  readonly min: number
  readonly max: number
}

/** Mean, population std, min, max and count of the finite values. */
export const moments = (values: ArrayLike<number>): { n: number; mean: number; std: number; min: number; max: number } => {
  let n = 0
  let sum = 0
  let min = Infinity
  let max = -Infinity
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (!Number.isFinite(v)) continue
    n++
    sum += v
    if (v < min) min = v
    if (v > max) max = v
  }
  if (n === 0) return { n, mean: 0, std: 0, min: 0, max: 0 }
  const mean = sum / n
  let ss = 0
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (Number.isFinite(v)) ss += (v - mean) * (v - mean)
  }
  return { n, mean, std: Math.sqrt(ss / n), min, max }
}

/**
 * A histogram of `bins` equal-width bins over `range` (default: the values' min..max; a single
 * value v gets the range [v - 0.5, v + 0.5]). Values outside an explicit range are clamped into
 * the first or last bin.
 */
export const histogram = (
  values: ArrayLike<number>,
  bins: number,
  range?: readonly [number, number]
): Histogram => {
  if (!Number.isInteger(bins) || bins < 1) throw new Bug(`histogram: bins must be a positive integer, got ${bins}`)
  const m = moments(values)
  let lo = range?.[0] ?? m.min
  let hi = range?.[1] ?? m.max
  if (!(hi > lo)) {
    lo -= 0.5
    hi += 0.5
  }
  const width = (hi - lo) / bins
  const edges = Array.from({ length: bins + 1 }, (_, b) => (b === bins ? hi : lo + b * width))
  const counts = new Array<number>(bins).fill(0)
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (!Number.isFinite(v)) continue
    const b = Math.min(bins - 1, Math.max(0, Math.floor((v - lo) / width)))
    counts[b]!++
  }
  return { edges, counts, n: m.n, mean: m.mean, std: m.std, min: m.min, max: m.max }
}

/**
 * A histogram of non-negative integers with one bin per value 0..max (edges at -0.5, 0.5, ...),
 * merging neighbours when max + 1 exceeds `maxBins`.
 */
export const integerHistogram = (values: ArrayLike<number>, maxBins = 64): Histogram => {
  const m = moments(values)
  const top = Math.max(0, Math.ceil(m.max))
  const per = Math.max(1, Math.ceil((top + 1) / maxBins))
  const bins = Math.floor(top / per) + 1
  const edges = Array.from({ length: bins + 1 }, (_, b) => b * per - 0.5)
  const counts = new Array<number>(bins).fill(0)
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!
    if (!Number.isFinite(v)) continue
    counts[Math.min(bins - 1, Math.max(0, Math.floor(Math.round(v) / per)))]!++
  }
  return { edges, counts, n: m.n, mean: m.mean, std: m.std, min: m.min, max: m.max }
}

/**
 * Pearson's r over the pairs where both values are finite; `undefined` when fewer than two pairs
 * remain or either variable is constant (r is not defined).
 */
export const pearson = (x: ArrayLike<number>, y: ArrayLike<number>): number | undefined => {
  if (x.length !== y.length) throw new Bug(`pearson: ${x.length} x values but ${y.length} y values`)
  let n = 0
  let sx = 0
  let sy = 0
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!) || !Number.isFinite(y[i]!)) continue
    n++
    sx += x[i]!
    sy += y[i]!
  }
  if (n < 2) return undefined
  const mx = sx / n
  const my = sy / n
  let cxy = 0
  let cxx = 0
  let cyy = 0
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]!) || !Number.isFinite(y[i]!)) continue
    const dx = x[i]! - mx
    const dy = y[i]! - my
    cxy += dx * dy
    cxx += dx * dx
    cyy += dy * dy
  }
  if (cxx === 0 || cyy === 0) return undefined
  return Math.max(-1, Math.min(1, cxy / Math.sqrt(cxx * cyy)))
}

/** Every `ceil(n / max)`-th index (all of them when `max` is 0 or n <= max): a deterministic thinning for scatter plots. */
export const strideIndices = (n: number, max: number): Array<number> => {
  const stride = max > 0 && n > max ? Math.ceil(n / max) : 1
  const out: Array<number> = []
  for (let i = 0; i < n; i += stride) out.push(i)
  return out
}
