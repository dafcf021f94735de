/**
 * The replication page: one section per finding (claim, the original's figures beside ours, the
 * verdict with its rule) written here as static HTML, and the chart that shows it drawn by the
 * report's page script (`@rekindle/report` `Html`: one implementation of the charts) from the
 * embedded chart data.
 */
import { Html } from "@rekindle/report"
import type { ArmId, FindingId } from "./Arms.ts"
import type { FindingResult } from "./Findings.ts"
import * as Measures from "./Measures.ts"
import type { Study } from "./Runs.ts"

/** The page's title. */
const title = "rekindle replication of the reference study (Neuron Recycling, 2023)"

const lossChart = (study: Study, chartTitle: string, arms: ReadonlyArray<ArmId>): Html.Chart => ({
  type: "lines",
  title: chartTitle,
  yLabel: "train loss (mean over seeds)",
  series: arms.flatMap((arm) => {
    const runs = (study.get(arm) ?? []).map((d) => d.run)
    return runs.length === 0 ? [] : [{ group: arm, id: arm, points: Measures.meanCurve(runs) }]
  }),
  events: [...new Set(arms.flatMap((arm) => (study.get(arm) ?? []).flatMap((d) => Measures.eventSteps(d.run))))].sort((a, b) => a - b)
})

const recycleCounts = (study: Study, arms: ReadonlyArray<ArmId>): Html.Chart => ({
  type: "counts",
  title: "How often each neuron was recycled (first seed, from the last Lineage event)",
  xLabel: "times recycled",
  counts: arms.flatMap((arm) => {
    const first = (study.get(arm) ?? [])[0]
    return first === undefined ? [] : first.run.recycleCounts.map((c) => ({ group: arm, layer: c.layer, edges: c.edges, counts: c.counts }))
  })
})

const magnitudeHistograms = (study: Study, arm: ArmId, chartTitle: string): ReadonlyArray<Html.Chart> => {
  const first = (study.get(arm) ?? [])[0]
  return first === undefined ? [] : [{ type: "histograms", title: chartTitle, name: "magnitude", histograms: first.run.histograms.filter((h) => h.name === "magnitude") }]
}

/** The charts of each finding. */
export const charts = (study: Study): Record<FindingId, ReadonlyArray<Html.Chart>> => ({
  F1: magnitudeHistograms(study, "baseline", "Magnitude histograms over training, baseline (first seed)"),
  F2: [lossChart(study, "Loss curves by d_ff", ["dff-0", "dff-half", "baseline", "dff-double"])],
  F3: [lossChart(study, "Pruning: loss curves", ["baseline", "prune-smallest", "prune-random", "prune-largest"])],
  F4: [lossChart(study, "Retraining subsets: loss curves", ["baseline", "retrain-largest", "retrain-smallest", "retrain-all"])],
  F5: [
    ...magnitudeHistograms(study, "baseline", "Magnitudes without weight decay (first seed)"),
    ...magnitudeHistograms(study, "weight-decay", "Magnitudes with weight decay (first seed)")
  ],
  F6: [lossChart(study, "Loss curves, recycling events dashed", ["baseline", "recycle-initial"]), recycleCounts(study, ["recycle-initial"])],
  F7: [lossChart(study, "Loss curves, recycling events dashed", ["baseline", "recycle-initial", "immunity-3", "immunity-7"]), recycleCounts(study, ["recycle-initial", "immunity-3", "immunity-7"])],
  F8: [lossChart(study, "Loss curves, recycling events dashed", ["baseline", "recycle-initial", "recycle-current"]), recycleCounts(study, ["recycle-initial", "recycle-current"])],
  F9: [lossChart(study, "Loss curves, recycling events dashed", ["baseline", "copy-small", "copy-large"])],
  F10: [lossChart(study, "Loss curves, recycling events dashed", ["baseline", "smooth-small", "smooth-large"])],
  F11: [lossChart(study, "Loss curves by midpoint-loss coefficient", ["baseline", "midpoint-1e-7", "midpoint-1e-3", "midpoint-1"])]
})

const e = Html.escapeHtml

/** One finding's section: claim, figures side by side, verdict and rule, and the charts' slot. */
const sectionOf = (f: FindingResult): string =>
  [
    `<section id="${f.finding}" data-finding="${f.finding}">`,
    `<h2>${f.finding}: <span class="verdict verdict-${f.verdict.outcome}" data-outcome="${f.verdict.outcome}">${f.verdict.outcome}</span></h2>`,
    `<p class="claim">${e(f.claim)}</p>`,
    `<table><tr><th class="text">the study</th><th class="text">this replication</th></tr>`,
    `<tr><td class="text original">${e(f.original)}</td><td class="text ours">${e(f.ours)}</td></tr></table>`,
    `<p class="reason"><b>Why:</b> ${e(f.verdict.reason)}</p>`,
    `<p class="rule"><b>Rule (fixed before the runs):</b> ${e(f.verdict.rule)}</p>`,
    `<div data-charts="${f.finding}"></div>`,
    `</section>`
  ].join("\n")

/** The whole page's static body (header, summary table, one section per finding). */
const body = (findings: ReadonlyArray<FindingResult>, runs: number): string =>
  [
    `<header><h1>${e(title)}</h1><div class="sub">${findings.length} findings from ${runs} runs · reference: ../shared/reference-study.md</div></header>`,
    `<section id="summary"><h2>Summary</h2><table><tr><th>finding</th><th>verdict</th></tr>`,
    ...findings.map((f) => `<tr><td><a href="#${f.finding}">${f.finding}</a></td><td class="text"><span class="verdict verdict-${f.verdict.outcome}">${f.verdict.outcome}</span></td></tr>`),
    `</table></section>`,
    ...findings.map(sectionOf)
  ].join("\n")

/** The complete page. */
export const render = (findings: ReadonlyArray<FindingResult>, chartData: Readonly<Record<string, ReadonlyArray<Html.Chart>>>, runs: number): string =>
  Html.render({ kind: "charts", title, charts: chartData }, body(findings, runs))
