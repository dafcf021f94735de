/**
 * The report page: one self-contained HTML file. The data (a run, a study or checkpoint
 * magnitudes) is embedded as JSON; the plotting code is inlined from npm packages — d3 and
 * Observable Plot's UMD bundles — followed by the page script and stylesheet in `assets/`.
 * Nothing is fetched when the page opens, so it works offline and from `file://`.
 */
import { createRequire } from "node:module"
import * as nodeFs from "node:fs"
import * as nodePath from "node:path"
import { fileURLToPath } from "node:url"
import type { HistogramPoint, RunData, StudyData } from "./Data.ts"
import type { MagnitudesData } from "./Pretrained.ts"

/** One chart of a {@link ChartsPage}, drawn by the page script's own chart code. */
export type Chart =
  | {
    /** Each layer's histograms of `name` over training, one outline per step (the run report's chart). */
    readonly type: "histograms"
    readonly title: string
    readonly name: string
    readonly histograms: ReadonlyArray<HistogramPoint>
  }
  | {
    /** Curves over steps, one per series (coloured by `group`), with dashed rules at `events` (recycling steps). */
    readonly type: "lines"
    readonly title: string
    readonly yLabel: string
    readonly series: ReadonlyArray<{ readonly group: string; readonly id: string; readonly points: ReadonlyArray<{ readonly step: number; readonly value: number }> }>
    readonly events: ReadonlyArray<number>
  }
  | {
    /** Integer histograms (e.g. how often each neuron was recycled), one panel per layer, groups side by side. */
    readonly type: "counts"
    readonly title: string
    readonly xLabel: string
    readonly counts: ReadonlyArray<{ readonly group: string; readonly layer: number; readonly edges: ReadonlyArray<number>; readonly counts: ReadonlyArray<number> }>
  }

/**
 * A page whose text is rendered here (the `body` given to {@link render}) and whose charts the page
 * script draws into each `<div data-charts="KEY">` from `charts[KEY]` (the replication page).
 */
export interface ChartsPage {
  readonly kind: "charts"
  readonly title: string
  readonly charts: Readonly<Record<string, ReadonlyArray<Chart>>>
}

/** Anything a report page shows. */
export type ReportData = RunData | StudyData | MagnitudesData | ChartsPage

const assetsDir = nodePath.resolve(nodePath.dirname(fileURLToPath(import.meta.url)), "../assets")

let cached: { readonly scripts: ReadonlyArray<string>; readonly css: string } | undefined

/** The inlined JS (d3, Observable Plot, the page script) and CSS; read once per process. */
export const assets = () => {
  if (cached !== undefined) return cached
  const require = createRequire(import.meta.url)
  // both packages' main entry lives next to (d3) or one level above (Plot: src/) their dist/ folder
  const d3 = nodePath.join(nodePath.dirname(require.resolve("d3")), "d3.min.js")
  const plot = nodePath.join(nodePath.dirname(require.resolve("@observablehq/plot")), "../dist/plot.umd.min.js")
  const read = (f: string) => nodeFs.readFileSync(f, "utf8")
  cached = {
    scripts: [read(d3), read(plot), read(nodePath.join(assetsDir, "report.js"))],
    css: read(nodePath.join(assetsDir, "report.css"))
  }
  return cached
}

/** Rounds floats to 6 significant digits (the page plots; full precision stays in events.jsonl). */
const compact = (_key: string, v: unknown) =>
  typeof v === "number" && !Number.isInteger(v) && Number.isFinite(v) ? Number(v.toPrecision(6)) : v

/** Makes text safe inside a <script> element. */
const scriptSafe = (s: string) => s.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--")

/** Escapes text for HTML content and attribute values. */
export const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/** The title a report gets. */
export const titleOf = (data: ReportData): string =>
  data.kind === "run"
    ? `rekindle: ${data.name}`
    : data.kind === "study"
    ? `rekindle study: ${data.name}`
    : data.kind === "charts"
    ? data.title
    : `rekindle magnitudes: ${nodePath.basename(data.file)}`

/** The complete HTML page for `data`; `body` (trusted HTML) is the page's static content, before what the script adds. */
export const render = (data: ReportData, body = ""): string => {
  const a = assets()
  // JSON inside a script element: escape "<" so no "</script>" or "<!--" can end it early
  const json = JSON.stringify(data, compact).replace(/</g, "\\u003c")
  return [
    "<!doctype html>",
    `<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">`,
    `<meta name="generator" content="rekindle report">`,
    `<title>${escapeHtml(titleOf(data))}</title>`,
    `<style>${a.css.replace(/<\/style/gi, "<\\/style")}</style>`,
    `</head><body><div id="app">${body}</div>`,
    `<script id="report-data" type="application/json">${json}</script>`,
    ...a.scripts.map((s) => `<script>${scriptSafe(s)}</script>`),
    "</body></html>",
    ""
  ].join("\n")
}
