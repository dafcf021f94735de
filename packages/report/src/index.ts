/**
 * @rekindle/report: self-contained HTML reports of runs and studies (`Write.write(dir)`), the data
 * they show (`Data`), the page itself (`Html`), and FF magnitudes of pretrained safetensors
 * checkpoints (`Pretrained.analyze`).
 */
export * as Data from "./Data.ts"
export * as Html from "./Html.ts"
export * as Pretrained from "./Pretrained.ts"
export * as Write from "./Write.ts"
