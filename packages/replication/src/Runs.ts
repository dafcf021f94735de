/**
 * The study's runs as the findings read them: each run folder through `@rekindle/report`'s reader
 * (the report's data plus the decoded events), with the recycling picks (the Recycle events'
 * indices) and the FF width the re-selection measures need, grouped by arm and sorted by seed.
 */
import { UserError } from "@rekindle/core"
import { Data } from "@rekindle/report"
import { Effect, type FileSystem, type Path } from "effect"
import type { ArmId } from "./Arms.ts"
import type { Pick } from "./Reselection.ts"

/** One run of the study, as the findings read it. */
export interface ArmData {
  readonly arm: ArmId
  readonly seed: number
  readonly dir: string
  readonly run: Data.RunData
  /** Every Recycle event's `{ step, layer, indices }`. */
  readonly picks: ReadonlyArray<Pick>
  /** d_ff (pipeline.json's `model.dFF`, else the width of a Lineage event or a magnitude histogram). */
  readonly dFF: number
}

/** The runs of each arm, sorted by seed. */
export type Study = ReadonlyMap<ArmId, ReadonlyArray<ArmData>>

const widthOf = (files: Data.RunFiles): number | null => {
  const model = (files.pipeline as { model?: { dFF?: unknown } } | null | undefined)?.model
  if (typeof model?.dFF === "number") return model.dFF
  for (const e of files.events) {
    if (e._tag === "Lineage") return e.resets.length
    if (e._tag === "Histogram" && e.name === "magnitude") return e.counts.reduce((a, b) => a + b, 0)
  }
  return null
}

/** Reads one run of the study. */
const load = (r: { readonly arm: ArmId; readonly seed: number; readonly dir: string }): Effect.Effect<ArmData, UserError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const files = yield* Data.readRunFiles(r.dir)
    const dFF = widthOf(files)
    if (dFF === null) return yield* new UserError({ message: `${r.dir}: cannot tell the FF width (no pipeline.json model.dFF, Lineage event or magnitude histogram)` })
    const picks: Array<Pick> = []
    for (const e of files.events) if (e._tag === "Recycle") picks.push({ step: e.step, layer: e.layer, indices: e.indices })
    return { arm: r.arm, seed: r.seed, dir: r.dir, run: Data.fromEvents(files.events, files), picks, dFF }
  })

/** Reads every run and groups them by arm (seeds sorted). */
export const loadAll = (runs: ReadonlyArray<{ readonly arm: ArmId; readonly seed: number; readonly dir: string }>) =>
  Effect.gen(function*() {
    const out = new Map<ArmId, Array<ArmData>>()
    for (const r of runs) {
      const d = yield* load(r)
      out.set(r.arm, [...(out.get(r.arm) ?? []), d])
    }
    for (const list of out.values()) list.sort((a, b) => a.seed - b.seed)
    return out as Study
  })
