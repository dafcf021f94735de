/**
 * F1-F11: for each of the reference study's findings, its claim and figures (from
 * `../shared/reference-study.md`), our figures from the study's runs, and a verdict by a rule fixed
 * in this file before any run was read (docs/replication.md, "How the verdicts are decided").
 *
 * Shared conventions: the loss of a run is its mean train loss over the last 1/16 of its steps (the
 * study's 75-80k of 80k; `Measures.tailLoss`); arms are compared by paired differences over the
 * seeds both have, with a 95% Student-t interval (`Paired`, `Student`: at 3 seeds a bootstrap interval is [min, max]); fewer than 3 seeds of any
 * arm a finding reads makes it inconclusive; "no better than" uses a noise margin, the study's
 * ±0.005 as a share of its loss (0.005 / 1.861) times our baseline's loss.
 */
import { type ArmId, type FindingId, findingArms } from "./Arms.ts"
import { bimodalRule, separationThreshold, splitVerdict, summarize } from "./Bimodality.ts"
import * as Measures from "./Measures.ts"
import { equivalent, lower, minSeeds, pairedDifference } from "./Paired.ts"
import { cycleVerdict, reselection } from "./Reselection.ts"
import type { ArmData, Study } from "./Runs.ts"
import { type Interval, meanInterval } from "./Student.ts"
import { all, type Verdict } from "./Verdict.ts"

/** One arm's figures in a finding: its loss over seeds (mean and 95% Student-t interval) and final eval loss. */
export interface ArmFigures {
  readonly arm: ArmId
  readonly seeds: number
  /** Mean train loss over the last 1/16 of each run, mean and 95% interval over seeds. */
  readonly loss: Interval
  /** Final eval loss, mean over seeds (null when no run logged one). */
  readonly finalEvalLoss: number | null
}

/** One finding's result: the original's figures, ours, and the verdict with its rule. */
export interface FindingResult {
  readonly finding: FindingId
  /** What the reference study found, in a sentence. */
  readonly claim: string
  /** The reference study's figures, as `../shared/reference-study.md` gives them. */
  readonly original: string
  /** Our figures (means over seeds, with intervals where the rule uses them). */
  readonly ours: string
  readonly verdict: Verdict
  /** The arms this finding reads, with their losses. */
  readonly arms: ReadonlyArray<ArmFigures>
}

/** The study's ±0.005 run-to-run noise as a share of its loss (1.861): the margin of "no better than" claims. */
export const noiseShare = 0.005 / 1.861
/** F1: the high group's median must grow at least this many times faster (as a factor) than the low group's. */
export const growthRatioThreshold = 2
/** F4: training the smallest neurons must gain at least this share of what training the whole layer gains. */
export const gainShareThreshold = 0.5

const text: Record<FindingId, { readonly claim: string; readonly original: string }> = {
  F1: {
    claim: "From ~10k steps the FF neurons of every layer but the last split into a low group whose magnitude barely moves and a high group that grows roughly linearly; the last layer stays unimodal.",
    original: "layer 1: ~47% in the low group (median 1.06 at 10k → 1.42 at 75k; minimum fixed at ~0.22), high group median 3.1 → 31.4; layer mean 2.2 (10k) → 18.4 (75k); coefficient of variation 0.89 (layer 1) vs 0.30 (last layer)"
  },
  F2: {
    claim: "Loss improves with d_ff; a model with no FF layer still trains, worst; doubling d_ff reaches the same loss in ~15-20% fewer steps.",
    original: "75-80k: no FF 2.043, 512 1.931, 1024 1.900, 2048 1.861, 4096 1.821"
  },
  F3: {
    claim: "Gradual structured pruning to 100%: removing the smallest neurons hurts least, random more, largest most; the damage is invisible until ~35k.",
    original: "75-80k: none 1.854, small 2.062, random 2.107, large 2.115; 40-50k: 1.971 / 2.004 / 2.032 / 2.039"
  },
  F4: {
    claim: "Extra FF-only training of the smallest neurons gains about as much as training the whole layer; training the largest gains little.",
    original: "50-60k: none 1.923, largest 1.900, smallest 1.867, all 1.857"
  },
  F5: {
    claim: "Without weight decay magnitudes are clustered and skewed (T5); with weight decay 0.01 they are balanced (BERT): weight decay explains the difference.",
    original: "BERT-Large: unimodal, CV 0.21; T5-Small: two clusters plus a tail, CV 0.38"
  },
  F6: {
    claim: "Recycling 10% from the initial distribution every 10k steps has no effect on loss, and the same few neurons are recycled every round (a vicious cycle).",
    original: "loss 1.8609 vs 1.8606; 7 rounds × 205 neurons: only 249 distinct neurons, 160 recycled in all 7 rounds (~78% of picks after round 1 re-select recycled neurons)"
  },
  F7: {
    claim: "Immunity (a recycled neuron is not eligible for K rounds) breaks the cycle, but then healthy neurons get recycled and loss worsens with K.",
    original: "K=3: 701 distinct, 1.881; K=7: 1,435 distinct (each once), 1.922; no recycling 1.860; loss jump after an event grows to +0.125"
  },
  F8: {
    claim: "Reinitialising from the layer's current distribution N(mean, std) breaks the cycle but injects noise: loss spikes after events and a worse final loss.",
    original: "763 distinct neurons; 1.898 vs 1.860; spikes up to +0.68 (initial-distribution reinit: ≤ +0.015)"
  },
  F9: {
    claim: "Copying a random existing neuron plus noise brings no improvement; the larger fraction hurts.",
    original: "0.1%: 1.854, 0.5%: 1.880 vs 1.854"
  },
  F10: {
    claim: "Smooth recycling (α rises 0→1 over 1k steps) gives a smoother loss but still no gain; larger fractions hurt.",
    original: "0.1%: 1.859, 1%: 1.885 vs 1.854"
  },
  F11: {
    claim: "A midpoint loss pulling magnitudes towards the layer mean raises small neurons but never improves loss.",
    original: "coefficients 1e-7 / 1e-3 / 1: 1.862 / 1.868 / 1.870 vs 1.861"
  }
}

/** F9's and F10's rule (the same test: no fraction improves, the larger one hurts). */
const fractionRule =
  "no improvement: no arm's paired difference (arm − baseline) has an interval reaching below − the noise margin; the larger fraction hurts: its interval lies above 0 (reproduced when both hold); contradicted when an arm's whole interval lies below − the margin (a real improvement); else inconclusive"

/** The fixed rule of each finding, as the report states it. */
export const rules: Record<FindingId, string> = {
  F1: `final magnitudes of the baseline (rebuilt from the last probe/magnitudes histogram): ${bimodalRule}. Reproduced when in every seed every layer but the last is bimodal and the last is not, AND in every seed's non-last layers the high group's median grew at least ${growthRatioThreshold}× faster (as a factor, from the probe step nearest 1/8 of the run, the study's 10k, to the end) than the low group's; contradicted when in every seed no layer is bimodal; else inconclusive`,
  F2: "paired loss differences: half d_ff < no FF, baseline < half, double < baseline, each with its 95% Student-t interval below 0 (reproduced); any interval above 0 contradicts; else inconclusive",
  F3: "paired loss differences: no pruning < prune smallest < prune random < prune largest, each interval below 0 (reproduced); any above 0 contradicts; else inconclusive",
  F4: `paired differences of the mean train loss over the study's 50-60k window (where the retraining runs; the retraining arms stop at its end): retrain smallest < retrain largest, retrain smallest < no retraining and retrain all < no retraining, each interval below 0, AND the smallest's mean gain over no retraining is at least ${gainShareThreshold * 100}% of the whole layer's (reproduced); any interval above 0 contradicts; else inconclusive`,
  F5: "the weight-decay half only (pretrained checkpoints are `rekindle magnitudes`' job): the final magnitudes' coefficient of variation (mean over layers) is lower with weight decay than without, paired over seeds with the interval below 0 (reproduced), above 0 (contradicted), else inconclusive",
  F6: "both halves: the vicious cycle (re-selection share after round 1 ≥ 2× chance in every seed; < 1.5× in every seed contradicts) AND no effect on loss (paired difference recycle-initial − baseline with its 95% interval within ± the noise margin; wholly outside contradicts); reproduced when both are, contradicted when either is, else inconclusive",
  F7: "distinct recycled neurons grow with K (recycle-initial < immunity-3 < immunity-7) and loss worsens with K (baseline < immunity-3 < immunity-7), each a paired difference with its interval below 0 (reproduced); any interval above 0 contradicts; else inconclusive",
  F8: "recycle-current recycles more distinct neurons than recycle-initial, has a worse loss than baseline, and a larger post-event loss spike than recycle-initial, each a paired difference with its interval below 0 (reproduced); any above 0 contradicts; else inconclusive",
  F9: fractionRule,
  F10: fractionRule,
  F11: "no coefficient improves: every coefficient's paired difference (arm − baseline) has its interval's lower end at or above − the noise margin (reproduced); contradicted when some coefficient's whole interval lies below − the margin; else inconclusive"
}

// ---------------------------------------------------------------------------------------------
// helpers

const f3 = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(3))
const f2 = (x: number | null | undefined): string => (x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(2))
const f1d = (x: number): string => (Number.isFinite(x) ? (Number.isInteger(x) ? String(x) : x.toFixed(1)) : "–")
const pct = (x: number): string => (Number.isFinite(x) ? `${(x * 100).toFixed(0)}%` : "–")
const mean = (xs: ReadonlyArray<number>): number => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN)
const showInterval = (i: Interval): string => (i.n > 1 ? `${f3(i.mean)} [${f3(i.lo)}, ${f3(i.hi)}]` : f3(i.mean))

interface Ctx {
  readonly study: Study
  /** Each arm's figures, computed once per study (by {@link armFigures}). */
  readonly figures: Map<ArmId, ArmFigures>
}

const runsOf = (ctx: Ctx, arm: ArmId): ReadonlyArray<ArmData> => ctx.study.get(arm) ?? []

/** The arms with fewer than {@link minSeeds} runs, in words; null when every arm has enough. */
const missing = (ctx: Ctx, arms: ReadonlyArray<ArmId>): string | null => {
  const short = arms.filter((a) => runsOf(ctx, a).length < minSeeds)
  return short.length === 0 ? null : `too few runs (at least ${minSeeds} seeds needed): ${short.map((a) => `${a} ${runsOf(ctx, a).length}`).join(", ")}`
}

/** Per-seed values of a measure, keyed by seed (nulls dropped). */
const bySeed = (ctx: Ctx, arm: ArmId, f: (d: ArmData) => number | null): Map<number, number> => {
  const out = new Map<number, number>()
  for (const d of runsOf(ctx, arm)) {
    const v = f(d)
    if (v !== null && Number.isFinite(v)) out.set(d.seed, v)
  }
  return out
}

/**
 * The paired difference a − b of a measure over the seeds both arms have. The measure gets the
 * step where the shorter of the two runs ends, so a windowed measure (the loss) compares the same
 * steps when one arm stops early; measures of the whole run ignore it.
 */
const diff = (ctx: Ctx, a: ArmId, b: ArmId, f: (d: ArmData, end: number) => number | null): Interval => {
  const pairs = runsOf(ctx, a).flatMap((da) => {
    const db = runsOf(ctx, b).find((x) => x.seed === da.seed)
    if (db === undefined) return []
    const end = Math.min(Measures.runSteps(da.run), Measures.runSteps(db.run))
    const va = f(da, end)
    const vb = f(db, end)
    return va !== null && vb !== null && Number.isFinite(va) && Number.isFinite(vb) ? [{ seed: da.seed, va, vb }] : []
  }).sort((x, y) => x.seed - y.seed)
  return pairedDifference(pairs.map((p) => p.va), pairs.map((p) => p.vb))
}

/** The loss of a run ({@link Measures.tailLossAt}), over the window ending at `end` (default: its last step). */
const loss = (d: ArmData, end: number = Measures.runSteps(d.run)): number | null => Measures.tailLossAt(d.run, end)

/** "a's measure is lower than b's" as a verdict. */
const lowerThan = (ctx: Ctx, a: ArmId, b: ArmId, f: (d: ArmData) => number | null, what: string): Verdict =>
  lower(`${what}: ${a} < ${b}`, diff(ctx, a, b, f))

/** An arm's figures (computed at its first use, then kept in the context). */
const armFigures = (ctx: Ctx, arm: ArmId): ArmFigures => {
  const known = ctx.figures.get(arm)
  if (known !== undefined) return known
  const runs = runsOf(ctx, arm)
  const losses = runs.flatMap((d) => {
    const l = loss(d)
    return l === null ? [] : [l]
  })
  const evals = runs.flatMap((d) => (d.run.finalEvalLoss === null ? [] : [d.run.finalEvalLoss]))
  const figures: ArmFigures = {
    arm,
    seeds: runs.length,
    loss: meanInterval(losses),
    finalEvalLoss: evals.length > 0 ? mean(evals) : null
  }
  ctx.figures.set(arm, figures)
  return figures
}

/** The figures of the arms a finding reads. */
const figuresOf = (ctx: Ctx, finding: FindingId): Array<ArmFigures> => findingArms[finding].map((a) => armFigures(ctx, a))

/** The losses of the arms a finding reads, as the report's sentence. */
const lossLine = (ctx: Ctx, finding: FindingId): string =>
  `loss (last 1/16, mean [95% interval] over seeds): ${figuresOf(ctx, finding).map((f) => `${f.arm} ${showInterval(f.loss)}`).join(", ")}`

/** The noise margin of "no better than" claims, from the baseline's mean loss. */
const margin = (ctx: Ctx): number => noiseShare * armFigures(ctx, "baseline").loss.mean

const spikeOf = (ctx: Ctx) => (d: ArmData): number | null => {
  const base = runsOf(ctx, "baseline").find((b) => b.seed === d.seed)
  return base === undefined ? null : Measures.spike(d.run, base.run)
}

const meanOver = (ctx: Ctx, arm: ArmId, f: (d: ArmData) => number | null): number => mean([...bySeed(ctx, arm, f).values()])

const totals = (d: ArmData) => reselection(d.picks, d.dFF).total

/** Assembles a result; a finding whose arms lack seeds is inconclusive whatever its parts say. */
const result = (ctx: Ctx, finding: FindingId, ours: string, verdict: Verdict): FindingResult => {
  const short = missing(ctx, findingArms[finding])
  return {
    finding,
    ...text[finding],
    ours,
    verdict: short === null ? verdict : { outcome: "inconclusive", rule: rules[finding], reason: `${short}${verdict.reason === "" ? "" : `; ${verdict.reason}`}` },
    arms: figuresOf(ctx, finding)
  }
}

// ---------------------------------------------------------------------------------------------
// the findings

const f1 = (ctx: Ctx): FindingResult => {
  // each baseline run's final magnitude histograms (by layer), read once
  const runs = runsOf(ctx, "baseline").map((d) => ({ d, last: Measures.finalMagnitudes(d.run) })).filter((r) => r.last.length > 0)
  if (runs.length === 0) return result(ctx, "F1", "no magnitude histograms (probe/magnitudes) in the baseline runs", { outcome: "inconclusive", rule: rules.F1, reason: "no magnitude histograms" })
  const split = splitVerdict(runs.map((r) => r.last.map(Measures.sampleOf)))
  const growth = runs.map(({ d }) => Measures.groupGrowth(d.run, Measures.runSteps(d.run) / 8))
  const layers = growth[0]!.map((g) => g.layer)
  const perLayer = layers.map((layer, i) => {
    const gs = growth.map((g) => g[i]!)
    const finals = runs.map((r) => r.last[i]!)
    const sums = finals.map((h) => summarize(Measures.sampleOf(h)))
    return `layer ${layer}: bimodal in ${sums.filter((s) => s.bimodal).length}/${sums.length} seeds, low group ${pct(mean(gs.map((g) => g.to.groups.lowShare)))}` +
      ` (median ${f2(mean(gs.map((g) => g.from.groups.lowMedian)))} at step ${gs[0]!.from.step} → ${f2(mean(gs.map((g) => g.to.groups.lowMedian)))} at ${gs[0]!.to.step}; minimum ${f2(mean(finals.map((h) => h.edges[0]!)))}),` +
      ` high group median ${f2(mean(gs.map((g) => g.from.groups.highMedian)))} → ${f2(mean(gs.map((g) => g.to.groups.highMedian)))}; layer mean ${f2(mean(gs.map((g) => g.from.mean)))} → ${f2(mean(gs.map((g) => g.to.mean)))};` +
      ` CV ${f2(mean(finals.map(Measures.cvOf)))}; log-scale BC ${f2(mean(sums.map((s) => s.bc)))}; high/low growth ratio ${f2(mean(gs.map((g) => g.growthRatio)))}`
  })
  const nonLast = growth.flatMap((g) => g.slice(0, -1))
  const grows = nonLast.length > 0 && nonLast.every((g) => g.growthRatio >= growthRatioThreshold)
  const growthReason = `high/low growth ratios of non-last layers by seed: ${growth.map((g) => g.slice(0, -1).map((x) => f2(x.growthRatio)).join("/")).join(", ")}`
  const verdict: Verdict = split.outcome === "reproduced" && !grows
    ? { outcome: "inconclusive", rule: rules.F1, reason: `${split.reason}; but ${growthReason} (need ≥ ${growthRatioThreshold}; groups ${separationThreshold}× apart at the end)` }
    : { outcome: split.outcome, rule: rules.F1, reason: `${split.reason}; ${growthReason}` }
  return result(ctx, "F1", perLayer.join(". "), verdict)
}

/** F2's extra figure: the share of steps doubling d_ff saves to reach the baseline's final eval loss. */
const stepsSaved = (ctx: Ctx): string => {
  const saved = runsOf(ctx, "dff-double").flatMap((d) => {
    const base = runsOf(ctx, "baseline").find((b) => b.seed === d.seed)
    const target = base?.run.finalEvalLoss ?? null
    const steps = Measures.runSteps(d.run)
    const hit = target === null ? undefined : d.run.eval.find((e) => e.loss <= target)
    return hit === undefined || steps === 0 ? [] : [1 - hit.step / steps]
  })
  return saved.length > 0 ? `; d_ff ×2 reaches the baseline's final eval loss with ${pct(mean(saved))} fewer steps (eval cadence resolution, ${saved.length} seeds)` : ""
}

const f2Finding = (ctx: Ctx): FindingResult => {
  const parts = [
    lowerThan(ctx, "dff-half", "dff-0", loss, "loss"),
    lowerThan(ctx, "baseline", "dff-half", loss, "loss"),
    lowerThan(ctx, "dff-double", "baseline", loss, "loss")
  ]
  return result(ctx, "F2", lossLine(ctx, "F2") + stepsSaved(ctx), all(rules.F2, parts))
}

const f3Finding = (ctx: Ctx): FindingResult => {
  const parts = [
    lowerThan(ctx, "baseline", "prune-smallest", loss, "loss"),
    lowerThan(ctx, "prune-smallest", "prune-random", loss, "loss"),
    lowerThan(ctx, "prune-random", "prune-largest", loss, "loss")
  ]
  const mid = findingArms.F3.map((a) => `${a} ${f3(meanOver(ctx, a, (d) => Measures.studyWindowLoss(d.run, 40, 50)))}`).join(" / ")
  return result(ctx, "F3", `${lossLine(ctx, "F3")}; the study's 40-50k window scaled: ${mid}`, all(rules.F3, parts))
}

const f4Finding = (ctx: Ctx): FindingResult => {
  // The study reports this finding over its 50-60k window, where the retraining happens; the
  // retraining arms stop when it ends, so every arm (baseline = no retraining) is compared there.
  const steps = Math.max(0, ...runsOf(ctx, "baseline").map((d) => Measures.runSteps(d.run)))
  const from = Math.round((steps * 50) / 80)
  const to = Math.round((steps * 60) / 80)
  const inWindow = (d: ArmData): number | null => Measures.windowLoss(d.run, from, to)
  const none = meanOver(ctx, "baseline", inWindow)
  const gainSmallest = none - meanOver(ctx, "retrain-smallest", inWindow)
  const gainAll = none - meanOver(ctx, "retrain-all", inWindow)
  const share = gainSmallest / gainAll
  const gainPart: Verdict = {
    outcome: Number.isFinite(share) && gainAll > 0 && share >= gainShareThreshold ? "reproduced" : "inconclusive",
    rule: "",
    reason: `retrain-smallest gains ${f3(gainSmallest)} of retrain-all's ${f3(gainAll)} (${pct(share)})`
  }
  const parts = [
    lowerThan(ctx, "retrain-smallest", "retrain-largest", inWindow, "loss"),
    lowerThan(ctx, "retrain-smallest", "baseline", inWindow, "loss"),
    lowerThan(ctx, "retrain-all", "baseline", inWindow, "loss"),
    gainPart
  ]
  const window = findingArms.F4.map((a) => `${a} ${f3(meanOver(ctx, a, inWindow))}`).join(" / ")
  return result(ctx, "F4", `loss over the study's 50-60k window (steps ${from}-${to}, where the retraining runs; mean over seeds): ${window}; ${gainPart.reason}`, all(rules.F4, parts))
}

const meanCv = (d: ArmData): number | null => {
  const hs = Measures.finalMagnitudes(d.run)
  return hs.length > 0 ? mean(hs.map(Measures.cvOf)) : null
}

const f5Finding = (ctx: Ctx): FindingResult => {
  const d = diff(ctx, "weight-decay", "baseline", meanCv)
  const verdict = lower("magnitude CV: weight-decay < baseline", d)
  const describe = (arm: ArmId): string => {
    // each run's final magnitude histograms (by layer), read once
    const finals = runsOf(ctx, arm).map((r) => Measures.finalMagnitudes(r.run)).filter((last) => last.length > 0)
    if (finals.length === 0) return `${arm}: no magnitude histograms`
    const layers = finals[0]!.map((_, i) => {
      const hs = finals.map((last) => last[i]!)
      const bimodal = hs.filter((h) => summarize(Measures.sampleOf(h)).bimodal).length
      return `layer ${hs[0]!.layer} CV ${f2(mean(hs.map(Measures.cvOf)))}, mean ${f2(mean(hs.map((h) => h.mean)))}, bimodal in ${bimodal}/${hs.length}`
    })
    return `${arm}: ${layers.join("; ")}`
  }
  return result(ctx, "F5", `${describe("baseline")}. ${describe("weight-decay")}. The pretrained-checkpoint half is not run here (\`rekindle magnitudes\`)`, { ...verdict, rule: rules.F5 })
}

const reselectionLine = (ctx: Ctx, arm: ArmId): string => {
  const runs = runsOf(ctx, arm)
  if (runs.length === 0) return `${arm}: no runs`
  const ts = runs.map(totals)
  const layers = runs.map((d) => reselection(d.picks, d.dFF).layers)
  const perLayer = (layers[0] ?? []).map((l, i) => `layer ${l.layer} ${pct(mean(layers.map((ls) => ls[i]?.share ?? Number.NaN)))}`).join(", ")
  return `${arm}: ${ts[0]!.rounds} rounds, re-selection after round 1 ${pct(mean(ts.map((t) => t.share)))} (${perLayer}; chance ${pct(mean(ts.map((t) => t.chanceShare)))}), ` +
    `${f1d(mean(ts.map((t) => t.distinct)))} distinct neurons, ${f1d(mean(ts.map((t) => t.everyRound)))} recycled in every round`
}

const f6Finding = (ctx: Ctx): FindingResult => {
  const m = margin(ctx)
  const cycle = cycleVerdict(runsOf(ctx, "recycle-initial").map(totals))
  const same = equivalent(`loss: recycle-initial = baseline (margin ±${m.toFixed(4)})`, diff(ctx, "recycle-initial", "baseline", loss), m)
  const ours = `${reselectionLine(ctx, "recycle-initial")}; ${lossLine(ctx, "F6")}; largest post-event loss jump beyond baseline ${f3(meanOver(ctx, "recycle-initial", spikeOf(ctx)))}`
  return result(ctx, "F6", ours, all(rules.F6, [cycle, same]))
}

const distinct = (d: ArmData): number => totals(d).distinct

const f7Finding = (ctx: Ctx): FindingResult => {
  const parts = [
    lowerThan(ctx, "recycle-initial", "immunity-3", distinct, "distinct"),
    lowerThan(ctx, "immunity-3", "immunity-7", distinct, "distinct"),
    lowerThan(ctx, "baseline", "immunity-3", loss, "loss"),
    lowerThan(ctx, "immunity-3", "immunity-7", loss, "loss")
  ]
  const arms = ["recycle-initial", "immunity-3", "immunity-7"] as const
  const ours = `distinct recycled neurons (all layers, mean over seeds): ${arms.map((a) => `${a} ${f1d(meanOver(ctx, a, distinct))}`).join(", ")}; ` +
    `${lossLine(ctx, "F7")}; largest post-event loss jump beyond baseline: ${arms.map((a) => `${a} ${f3(meanOver(ctx, a, spikeOf(ctx)))}`).join(", ")}`
  return result(ctx, "F7", ours, all(rules.F7, parts))
}

const f8Finding = (ctx: Ctx): FindingResult => {
  const parts = [
    lowerThan(ctx, "recycle-initial", "recycle-current", distinct, "distinct"),
    lowerThan(ctx, "baseline", "recycle-current", loss, "loss"),
    lowerThan(ctx, "recycle-initial", "recycle-current", spikeOf(ctx), "spike")
  ]
  const arms = ["recycle-initial", "recycle-current"] as const
  const ours = `distinct recycled neurons: ${arms.map((a) => `${a} ${f1d(meanOver(ctx, a, distinct))}`).join(", ")}; ${lossLine(ctx, "F8")}; ` +
    `largest post-event loss jump beyond baseline: ${arms.map((a) => `${a} ${f3(meanOver(ctx, a, spikeOf(ctx)))}`).join(", ")}`
  return result(ctx, "F8", ours, all(rules.F8, parts))
}

/** "No arm improves on the baseline beyond the noise margin" over `arms`, as one verdict per arm. */
const noImprovement = (ctx: Ctx, arms: ReadonlyArray<ArmId>): Array<Verdict> => {
  const m = margin(ctx)
  return arms.map((arm) => {
    const d = diff(ctx, arm, "baseline", loss)
    const reason = `${arm} − baseline ${showInterval(d)} over ${d.n} seeds (margin ${m.toFixed(4)})`
    if (d.n < minSeeds) return { outcome: "inconclusive", rule: "", reason: `only ${d.n} paired seeds` }
    if (d.hi < -m) return { outcome: "contradicted", rule: "", reason: `${reason}: an improvement` }
    if (d.lo >= -m) return { outcome: "reproduced", rule: "", reason: `${reason}: no improvement beyond the margin` }
    return { outcome: "inconclusive", rule: "", reason }
  })
}

const fractionFinding = (ctx: Ctx, finding: "F9" | "F10", small: ArmId, large: ArmId): FindingResult => {
  const parts = [...noImprovement(ctx, [small, large]), lowerThan(ctx, "baseline", large, loss, "loss")]
  const ours = `${lossLine(ctx, finding)}; largest post-event loss jump beyond baseline: ${[small, large].map((a) => `${a} ${f3(meanOver(ctx, a, spikeOf(ctx)))}`).join(", ")}`
  return result(ctx, finding, ours, all(rules[finding], parts))
}

const f11Finding = (ctx: Ctx): FindingResult => {
  const arms = ["midpoint-1e-7", "midpoint-1e-3", "midpoint-1"] as const
  const minOf = (d: ArmData): number | null => {
    const hs = Measures.finalMagnitudes(d.run)
    return hs.length > 0 ? mean(hs.map((h) => h.edges[0]!)) : null
  }
  const ours = `${lossLine(ctx, "F11")}; final magnitude CV (mean over layers): ${(["baseline", ...arms] as const).map((a) => `${a} ${f2(meanOver(ctx, a, meanCv))}`).join(", ")}; ` +
    `smallest neuron magnitude: ${(["baseline", ...arms] as const).map((a) => `${a} ${f2(meanOver(ctx, a, minOf))}`).join(", ")}`
  return result(ctx, "F11", ours, all(rules.F11, noImprovement(ctx, arms)))
}

/** Every finding's result from the study's runs. */
export const findings = (study: Study): Array<FindingResult> => {
  const ctx: Ctx = { study, figures: new Map() }
  return [
    f1(ctx),
    f2Finding(ctx),
    f3Finding(ctx),
    f4Finding(ctx),
    f5Finding(ctx),
    f6Finding(ctx),
    f7Finding(ctx),
    f8Finding(ctx),
    fractionFinding(ctx, "F9", "copy-small", "copy-large"),
    fractionFinding(ctx, "F10", "smooth-small", "smooth-large"),
    f11Finding(ctx)
  ]
}
