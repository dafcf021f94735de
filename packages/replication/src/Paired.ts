/**
 * Loss comparisons between two arms of a study, paired by seed: the difference `a − b` per seed,
 * its mean and 95% Student-t interval (`Student.ts` says why not a bootstrap at 3 seeds), and the
 * verdict rules for "a is lower than b" and "a and b do not differ".
 */
import { type Interval, meanInterval } from "./Student.ts"
import type { Verdict } from "./Verdict.ts"

/** Fewer paired seeds than this give an inconclusive verdict whatever the numbers. */
export const minSeeds = 3

/** The per-seed differences `a[i] − b[i]` (arrays aligned by seed) and their interval. */
export const pairedDifference = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): Interval => {
  if (a.length !== b.length) throw new RangeError(`paired arms differ in seeds: ${a.length} vs ${b.length}`)
  return meanInterval(a.map((x, i) => x - b[i]!))
}

const fmt = (x: number): string => (Math.abs(x) >= 0.01 || x === 0 ? x.toFixed(4) : x.toExponential(2))
const show = (d: Interval): string =>
  `mean difference ${fmt(d.mean)}, ${Math.round(d.level * 100)}% interval [${fmt(d.lo)}, ${fmt(d.hi)}] over ${d.n} seeds`

/**
 * "a is lower than b": reproduced when the interval of `a − b` lies below 0, contradicted when it
 * lies above 0, inconclusive when it contains 0 or fewer than {@link minSeeds} seeds were paired.
 */
export const lower = (label: string, d: Interval): Verdict => {
  const rule = `${label}: the ${Math.round(d.level * 100)}% Student-t interval of the paired difference lies below 0 (reproduced), above 0 (contradicted), or contains 0 (inconclusive); at least ${minSeeds} seeds`
  if (d.n < minSeeds) return { outcome: "inconclusive", rule, reason: `only ${d.n} paired seeds` }
  if (d.hi < 0) return { outcome: "reproduced", rule, reason: show(d) }
  if (d.lo > 0) return { outcome: "contradicted", rule, reason: show(d) }
  return { outcome: "inconclusive", rule, reason: show(d) }
}

/**
 * "a and b do not differ" (an equivalence claim, such as "recycling has no effect on loss"):
 * reproduced when the whole interval of `a − b` lies within ±margin, contradicted when it lies
 * wholly outside it (a clear difference), inconclusive otherwise.
 */
export const equivalent = (label: string, d: Interval, margin: number): Verdict => {
  const rule = `${label}: the ${Math.round(d.level * 100)}% Student-t interval of the paired difference lies within ±${margin} (reproduced), wholly outside it (contradicted), else inconclusive; at least ${minSeeds} seeds`
  if (d.n < minSeeds) return { outcome: "inconclusive", rule, reason: `only ${d.n} paired seeds` }
  if (d.lo >= -margin && d.hi <= margin) return { outcome: "reproduced", rule, reason: show(d) }
  if (d.lo > margin || d.hi < -margin) return { outcome: "contradicted", rule, reason: show(d) }
  return { outcome: "inconclusive", rule, reason: show(d) }
}
