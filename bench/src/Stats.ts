/**
 * Summary statistics for repeated timings: median and spread (min, max).
 */

/** Median, min and max of a sample. */
export interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
}

/** Summarises a non-empty sample. */
export const summarize = (xs: ReadonlyArray<number>): Summary => {
  const s = [...xs].sort((a, b) => a - b)
  const n = s.length
  const median = n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2
  return { median, min: s[0]!, max: s[n - 1]! }
}

/** Times `f` `reps` times after `warmup` untimed calls; returns milliseconds. */
export const time = (f: () => void, reps: number, warmup: number): Summary => {
  for (let i = 0; i < warmup; i++) f()
  const ts: Array<number> = []
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now()
    f()
    ts.push(performance.now() - t0)
  }
  return summarize(ts)
}
