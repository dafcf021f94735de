/**
 * The per-run numbers the findings' verdicts compare, read off a run's report data: the loss over
 * the study's window (its 75-80k of 80k steps = the last 1/16 of the run), magnitude samples
 * rebuilt from `probe/magnitudes` histograms, the magnitude groups over time, and the loss jump
 * after recycling events.
 */
import type { Data } from "@rekindle/report"
import { twoGroups, type Groups } from "./Bimodality.ts"

type RunData = Data.RunData
type HistogramPoint = Data.HistogramPoint

/** The study reports losses as means over its last 5k of 80k steps: this share of the run. */
export const tailShare = 1 / 16

/** The run's length: RunStarted's steps, else the last logged step. */
export const runSteps = (run: RunData): number =>
  run.steps ?? Math.max(0, ...run.train.map((t) => t.step), ...run.eval.map((e) => e.step))

/** Mean train loss over steps in `[from, to)` (null when nothing was logged there). */
export const windowLoss = (run: RunData, from: number, to: number): number | null => {
  const xs = run.train.filter((t) => t.step >= from && t.step < to).map((t) => t.loss)
  return xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : null
}

/**
 * The loss every loss ordering compares: mean train loss over the last {@link tailShare} of the
 * run (the study's 75-80k window), or the final eval loss when no train loss was logged there.
 */
export const tailLoss = (run: RunData): number | null => tailLossAt(run, runSteps(run))

/**
 * {@link tailLoss} of the window that ends at step `end` (its last {@link tailShare} of `end`
 * steps): two runs of different lengths (a retraining arm stops early) are compared over the
 * window that ends where the shorter one ends. The final eval loss stands in only at the run's end.
 */
export const tailLossAt = (run: RunData, end: number): number | null =>
  windowLoss(run, end - Math.max(1, Math.round(end * tailShare)), end + 1) ?? (end >= runSteps(run) ? run.finalEvalLoss : null)

/** The train loss over the study's `fromK`-`toK` thousand-step window, scaled to this run's length (of the study's 80k). */
export const studyWindowLoss = (run: RunData, fromK: number, toK: number): number | null => {
  const steps = runSteps(run)
  return windowLoss(run, Math.round((steps * fromK) / 80), Math.round((steps * toK) / 80))
}

/**
 * Per-neuron values rebuilt from a histogram: each bin's count spread evenly inside the bin (the
 * first and last edges are the exact min and max). The probe keeps only histograms, so the
 * bimodality measures read these; with 32+ bins their error is small next to the thresholds.
 */
export const sampleOf = (h: { readonly edges: ReadonlyArray<number>; readonly counts: ReadonlyArray<number> }): Array<number> => {
  const out: Array<number> = []
  h.counts.forEach((c, b) => {
    const lo = h.edges[b]!
    const hi = h.edges[b + 1]!
    for (let j = 0; j < c; j++) out.push(lo + ((j + 0.5) / c) * (hi - lo))
  })
  return out
}

/** The run's `name` histograms (default: `magnitude`) of each layer, by step. */
const histogramsOf = (run: RunData, name = "magnitude"): Map<number, Array<HistogramPoint>> => {
  const out = new Map<number, Array<HistogramPoint>>()
  for (const h of run.histograms) if (h.name === name) out.set(h.layer, [...(out.get(h.layer) ?? []), h])
  for (const hs of out.values()) hs.sort((a, b) => a.step - b.step)
  return new Map([...out].sort(([a], [b]) => a - b))
}

/** Each layer's last magnitude histogram, in layer order. */
export const finalMagnitudes = (run: RunData): Array<HistogramPoint> => [...histogramsOf(run).values()].map((hs) => hs.at(-1)!)

/** Each layer's magnitude histogram nearest to `step`, in layer order. */
export const magnitudesAt = (run: RunData, step: number): Array<HistogramPoint> =>
  [...histogramsOf(run).values()].map((hs) => hs.reduce((best, h) => (Math.abs(h.step - step) < Math.abs(best.step - step) ? h : best)))

/** The coefficient of variation (std / mean) of a magnitude histogram (exact: the probe records both). */
export const cvOf = (h: HistogramPoint): number => h.std / h.mean

/** A layer's two groups at two steps (F1's "low group barely moves, high group grows"). */
export interface GroupGrowth {
  readonly layer: number
  readonly from: { readonly step: number; readonly mean: number; readonly groups: Groups }
  readonly to: { readonly step: number; readonly mean: number; readonly groups: Groups }
  /** (high median growth factor) / (low median growth factor). */
  readonly growthRatio: number
}

/** Each layer's two-group split at the probe step nearest `from` and at the last one. */
export const groupGrowth = (run: RunData, from: number): Array<GroupGrowth> => {
  const end = finalMagnitudes(run)
  return magnitudesAt(run, from).map((h, i) => {
    const a = twoGroups(sampleOf(h))
    const b = twoGroups(sampleOf(end[i]!))
    return {
      layer: h.layer,
      from: { step: h.step, mean: h.mean, groups: a },
      to: { step: end[i]!.step, mean: end[i]!.mean, groups: b },
      growthRatio: (b.highMedian / a.highMedian) / (b.lowMedian / a.lowMedian)
    }
  })
}

/** The spike window: this share of the run's steps before and after each event (60 steps of 3,000). */
export const spikeShare = 1 / 50

/** The steps at which the run recycled (any layer, any stage). */
export const eventSteps = (run: RunData): Array<number> => [...new Set(run.recycles.map((r) => r.step))].sort((a, b) => a - b)

/**
 * The largest loss jump after a recycling event, beyond what the baseline run of the same seed (same
 * data order) did over the same steps: max over events at step s of
 * (mean train loss in [s, s+w) − mean in [s−w, s)) − (the same for the baseline), w = steps/50.
 * Null when the run has no events or no loss around them.
 */
export const spike = (run: RunData, baseline: RunData): number | null => {
  const w = Math.max(1, Math.round(runSteps(run) * spikeShare))
  const jump = (r: RunData, s: number): number | null => {
    const after = windowLoss(r, s, s + w)
    const before = windowLoss(r, s - w, s)
    return after === null || before === null ? null : after - before
  }
  let best: number | null = null
  for (const s of eventSteps(run)) {
    const a = jump(run, s)
    const b = jump(baseline, s)
    if (a === null || b === null) continue
    best = best === null ? a - b : Math.max(best, a - b)
  }
  return best
}

/** The seed-mean of train-loss curves (steps every run logged), for the page's loss charts. */
export const meanCurve = (runs: ReadonlyArray<RunData>): Array<{ step: number; value: number }> => {
  const by = new Map<number, Array<number>>()
  for (const r of runs) for (const t of r.train) by.set(t.step, [...(by.get(t.step) ?? []), t.loss])
  return [...by].filter(([, xs]) => xs.length === runs.length).sort(([a], [b]) => a - b).map(([step, xs]) => ({
    step,
    value: xs.reduce((a, b) => a + b, 0) / xs.length
  }))
}
