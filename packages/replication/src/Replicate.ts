/**
 * The replication's entry points for the `rekindle replicate` command: `analyze` reads the study's
 * run folders (one per arm and seed) and gives a verdict for every finding (F1-F11, rules in
 * `Findings.ts`); `write` leaves `replication.json` and the replication page `replication.html`
 * in the output folder.
 */
import { Files, UserError } from "@rekindle/core"
import type { Html } from "@rekindle/report"
import { Effect, FileSystem, Path } from "effect"
import type { ArmId, FindingId } from "./Arms.ts"
import { type FindingResult, findings } from "./Findings.ts"
import * as Page from "./Page.ts"
import { loadAll } from "./Runs.ts"

export type { ArmFigures, FindingResult } from "./Findings.ts"

/** One finished run of the study: its arm, seed and run folder. */
export interface ArmRun {
  readonly arm: ArmId
  readonly seed: number
  readonly dir: string
}

/** The whole replication: a result per finding, and the runs it was computed from. */
export interface ReplicationResult {
  readonly findings: ReadonlyArray<FindingResult>
  readonly runs: ReadonlyArray<ArmRun>
  /** Each finding's charts for the page (left out of `replication.json`). */
  readonly charts: Readonly<Record<FindingId, ReadonlyArray<Html.Chart>>>
}

/** The JSON file's name in the output folder. */
export const jsonFile = "replication.json"
/** The page's name in the output folder. */
export const htmlFile = "replication.html"

/** Computes a verdict for every finding from the study's runs. */
export const analyze = (
  runs: ReadonlyArray<ArmRun>
): Effect.Effect<ReplicationResult, UserError, FileSystem.FileSystem | Path.Path> =>
  Effect.map(loadAll(runs), (study) => ({ runs, findings: findings(study), charts: Page.charts(study) }))

/** Writes `replication.json` (findings and runs) and `replication.html` into `outDir`; returns the files written. */
export const write = (
  outDir: string,
  result: ReplicationResult
): Effect.Effect<ReadonlyArray<string>, UserError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = path.resolve(outDir)
    yield* fs.makeDirectory(dir, { recursive: true }).pipe(
      Effect.mapError((e) => new UserError({ message: `cannot create ${dir}: ${e.message}` }))
    )
    const put = (name: string, text: string) => {
      const file = path.join(dir, name)
      return Files.writeTextAtomic(file, text).pipe(
        Effect.mapError((e) => new UserError({ message: `cannot write ${file}: ${Files.describe(e)}` })),
        Effect.as(file)
      )
    }
    const json = yield* put(jsonFile, JSON.stringify({ findings: result.findings, runs: result.runs }, null, 2) + "\n")
    const html = yield* put(htmlFile, Page.render(result.findings, result.charts, result.runs.length))
    return [json, html]
  })
