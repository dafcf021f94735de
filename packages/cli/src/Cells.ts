/**
 * A study's cells: one per variant (grid point × seed), in the study's stable order, each with
 * its index, run id (`<name>-<hash>`, the run folder's name) and pipeline hash. Any scheduler
 * (the in-process loop of `rekindle run`, a SLURM array, a Kubernetes Indexed Job, the cluster
 * workers) runs cells by index with `runCell` and writes the study's summary with `collect`.
 */
import type { BackendProvider } from "@rekindle/core"
import { Files, RunError, UserError } from "@rekindle/core"
import { Compile, type Registry, Smoke } from "@rekindle/pipeline"
import { Write } from "@rekindle/report"
import { folderName, hashOf, isFinished } from "@rekindle/run/RunFolder"
import type { Runner, RunPlan } from "@rekindle/training"
import { Console, Effect, FileSystem, Path } from "effect"
import { fileHash } from "./FileHash.ts"
import * as Host from "./Host.ts"
import * as Summary from "./Summary.ts"

/** A loaded study (see `Host.prepare`). */
export type PreparedStudy = Extract<Host.Prepared, { _tag: "Study" }>

/** One cell of a study. */
export interface Cell {
  readonly index: number
  readonly name: string
  readonly seed: number
  readonly tags: Readonly<Record<string, unknown>>
  /** The run folder's name, `<name>-<pipeline hash>`. */
  readonly runId: string
  readonly pipelineHash: string
  readonly plan: RunPlan
}

/** A compiled cell's run id and pipeline hash (the resolved pipeline hashed once). */
const identity = (plan: RunPlan): Pick<Cell, "runId" | "pipelineHash"> => {
  const pipelineHash = hashOf(plan.resolved)
  return { runId: folderName(plan.name, pipelineHash), pipelineHash }
}

/** Compiles every variant of a study into cells (a user error anywhere stops before anything is written). */
export const cells = (prepared: PreparedStudy): Effect.Effect<ReadonlyArray<Cell>, UserError> =>
  Effect.forEach(prepared.variants, (v, index) =>
    Compile.compile(prepared.registry, v.pipeline).pipe(
      Effect.mapError((e) => new UserError({ message: `variant ${v.name} (seed ${v.seed}): ${e.message}`, ...(e.problems !== undefined ? { problems: e.problems } : {}) })),
      Effect.map((plan): Cell => ({ index, name: v.name, seed: v.seed, tags: v.tags, ...identity(plan), plan }))
    ))

/**
 * Plans shortened to `steps` steps with every stage, probe, evaluation and checkpoint compressed
 * into them (`Smoke.shorten`) and compiled again (new run ids): `--smoke` of `rekindle run` and of
 * `study run-cell`. Each `where` names its plan in errors (` (variant x)`, or "" for a pipeline).
 */
export const shortenPlans = (
  registry: Registry.Registry,
  plans: ReadonlyArray<{ readonly plan: RunPlan; readonly where: string }>,
  steps: number
): Effect.Effect<Array<RunPlan>, UserError> =>
  steps < 2
    ? Effect.fail(new UserError({ message: `--smoke: expected at least 2 steps, got ${steps}` }))
    : Effect.forEach(plans, ({ plan, where }) =>
      Compile.compile(registry, Smoke.shorten(plan.resolved, steps)).pipe(
        Effect.mapError((e) => Host.within(`--smoke ${steps}${where}`, e))
      ))

/** The smoke versions of cells ({@link shortenPlans}; a new run id each). */
export const shorten = (prepared: PreparedStudy, all: ReadonlyArray<Cell>, steps: number): Effect.Effect<ReadonlyArray<Cell>, UserError> =>
  shortenPlans(prepared.registry, all.map((c) => ({ plan: c.plan, where: ` (variant ${c.name})` })), steps).pipe(
    Effect.map((plans) => plans.map((plan, i): Cell => ({ ...all[i]!, plan, ...identity(plan) })))
  )

/** Loads a study file (a single pipeline is a user error) and compiles its cells. */
export const load = (
  file: string,
  sets: ReadonlyArray<string>
): Effect.Effect<{ readonly prepared: PreparedStudy; readonly cells: ReadonlyArray<Cell> }, UserError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function*() {
    const prepared = yield* Host.prepare(file, sets)
    if (prepared._tag !== "Study") {
      return yield* new UserError({ message: `${file}: expected a study (export default study({...})), got a single pipeline` })
    }
    const all = yield* cells(prepared)
    return { prepared, cells: all }
  })

/** The study `loadKept` loaded last, by file path, content hash and overrides. */
let kept: { readonly key: string; readonly loaded: { readonly prepared: PreparedStudy; readonly cells: ReadonlyArray<Cell> } } | undefined

/**
 * `load`, kept for the next call with the same file content and overrides: a worker's cell
 * process runs many cells of one study and reads and compiles it once (a finished cell's plan is
 * not run again: its cell is skipped; a failed cell retires the process).
 */
export const loadKept = (file: string, sets: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const hash = yield* fileHash(file).pipe(Effect.orElseSucceed(() => undefined))
    if (hash === undefined) return yield* load(file, sets)
    const key = JSON.stringify([path.resolve(file), hash, sets])
    if (kept?.key === key) return kept.loaded
    const loaded = yield* load(file, sets)
    kept = { key, loaded }
    return loaded
  })

/** The folder a study's runs go to: `<runs dir>/<study name>`. */
export const studyRoot = (runsDir: string, prepared: PreparedStudy) =>
  Effect.map(Path.Path, (path) => path.resolve(runsDir, prepared.study.name))

/** Picks a cell by index, or fails naming the valid range. */
export const pick = (all: ReadonlyArray<Cell>, index: number): Effect.Effect<Cell, UserError> =>
  index >= 0 && index < all.length && Number.isInteger(index)
    ? Effect.succeed(all[index]!)
    : Effect.fail(new UserError({ message: `--index: expected an integer from 0 to ${all.length - 1} (the study has ${all.length} cells), got ${index}` }))

/** Where and how a cell runs (the trainer's options, see `Run.RunOptions`). */
export interface CellOptions {
  readonly cacheDir: string
  readonly backends: ReadonlyArray<BackendProvider>
  readonly keepCheckpoints?: number
  readonly source?: string
  /** Start over even when the folder holds a finished or resumable run. */
  readonly force?: boolean
  /** Done just before training starts (not for a finished cell). */
  readonly onStart?: Effect.Effect<void>
}

/** The trainer, as `runCell` calls it (`Runner.run` of @rekindle/training). */
export type Trainer = (plan: RunPlan, options: {
  readonly outDir: string
  readonly cacheDir: string
  readonly backends: ReadonlyArray<BackendProvider>
  readonly existing?: "refuse" | "replace" | "resume" | "continue"
  readonly keepCheckpoints?: number
  readonly source?: string
}) => Effect.Effect<unknown, Runner.RunFailure, FileSystem.FileSystem | Path.Path>

/** What running a cell did. */
type CellOutcome =
  | { readonly _tag: "Skipped"; readonly dir: string }
  | { readonly _tag: "Finished"; readonly dir: string }
  | { readonly _tag: "Failed"; readonly dir: string; readonly error: RunError }

/**
 * Runs one cell into `<root>/<run id>` idempotently: a finished run is left alone (`Skipped`), an
 * interrupted one continues from its newest checkpoint (or starts over when it has none).
 */
export const runCell = (trainer: Trainer, cell: Cell, root: string, options: CellOptions) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const dir = path.join(root, cell.runId)
    if (options.force !== true && (yield* isFinished(dir))) return { _tag: "Skipped", dir } as CellOutcome
    if (options.onStart !== undefined) yield* options.onStart
    return yield* trainer(cell.plan, {
      outDir: root,
      cacheDir: options.cacheDir,
      backends: options.backends,
      existing: options.force === true ? "replace" : "continue",
      ...(options.keepCheckpoints !== undefined ? { keepCheckpoints: options.keepCheckpoints } : {}),
      ...(options.source !== undefined ? { source: options.source } : {})
    }).pipe(
      Effect.as({ _tag: "Finished", dir } as CellOutcome),
      Effect.catchTag("RunError", (error) => Effect.succeed({ _tag: "Failed", dir, error } as CellOutcome))
    )
  })

/**
 * Writes `<root>/study.json` (every cell with tags, status and results; per-name mean and std),
 * the study's report.html, and prints the comparison table. Cells without a run folder are
 * listed as `missing`.
 */
export const collect = (prepared: PreparedStudy, all: ReadonlyArray<Cell>, root: string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dirs = all.map((c) => path.join(root, c.runId))
    const summaries = yield* Effect.forEach(dirs, (d) => Summary.read(d).pipe(Effect.option))
    const runs = summaries.flatMap((s) => (s._tag === "Some" ? [s.value] : []))
    const groups = Summary.group(runs)
    const study = {
      name: prepared.study.name,
      file: prepared.file,
      variants: all.map((c, i) => {
        const s = runs.find((r) => r.dir === dirs[i])
        return {
          name: c.name,
          seed: c.seed,
          tags: c.tags,
          dir: c.runId,
          status: s?.status ?? "missing",
          finalEvalLoss: s?.finalEvalLoss ?? null,
          trainLossLast10pct: s?.tailLoss ?? null
        }
      }),
      groups: groups.map((g) => ({ name: g.name, seeds: g.runs.length, finalEvalLoss: g.evalLoss, trainLossLast10pct: g.trainLoss }))
    }
    yield* fs.makeDirectory(root, { recursive: true })
    yield* Files.writeTextAtomic(path.join(root, "study.json"), JSON.stringify(study, null, 2) + "\n")
    yield* Write.writeStudy(root, { runs: false })
    yield* Console.log(`\n${Summary.table(groups)}\n\nstudy: ${path.join(root, "study.json")}`)
    return study
  })
