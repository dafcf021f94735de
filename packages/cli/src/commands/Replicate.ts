/**
 * `rekindle replicate`: the reference study's replication in one command. It runs the study of
 * `pipelines/replication.ts` (one arm per finding's condition, every seed) into
 * `<out>/replication/`: first a plan (cells, steps, the wall time estimated from a quick
 * calibration), then the cells, `--jobs` at a time, each a `study run-cell` in a child process
 * (`CellProcesses`, as a cluster worker runs them: a finished cell is skipped, an interrupted one
 * resumes), with progress and an ETA on stderr; or, with `--cluster`, through the distributed mode.
 * Then it analyses the finished runs (`Replicate.analyze` of @rekindle/replication), writes
 * replication.json and the study's report, and prints a verdict per finding.
 */
import { UserError } from "@rekindle/core/Errors"
import { Console, Effect, FileSystem, Option, Path, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import * as os from "node:os"
import { fileURLToPath } from "node:url"
import * as CellProcesses from "../CellProcesses.ts"
import { fileHash } from "../FileHash.ts"
import type * as Cells from "../Cells.ts"
import * as Estimate from "../Estimate.ts"
import * as Lazy from "../Lazy.ts"
import * as LazyCells from "../LazyCells.ts"
import { ExitCode, experiment, smokeDefaultSteps, smokeRoot } from "./Run.ts"
import { cacheFlag, setFlag } from "./Shared.ts"

/** The replication study (a preset). */
const studyFile = fileURLToPath(new URL("../../../../pipelines/replication.ts", import.meta.url))

/** Steps of the calibration run (fewer when the cells are shorter). */
const calibrationSteps = 20

const positive = Schema.Int.pipe(Schema.check(Schema.isGreaterThan(0)))

const time = () => new Date().toISOString().slice(11, 19)

/** `--set seeds=[1, ..., n]`: the study's seeds, as every process running its cells reads them. */
export const seedsSet = (n: number): string => `seeds=[${Array.from({ length: n }, (_, i) => i + 1).join(", ")}]`

/** The command-line arguments of `study run-cell` for one cell. */
const cellArgs = (o: { readonly file: string; readonly runsDir: string; readonly cache: string; readonly sets: ReadonlyArray<string>; readonly smoke: Option.Option<number> }, cell: Cells.Cell) => [
  o.file, "--index", String(cell.index), "--runs-dir", o.runsDir, "--cache", o.cache, "--expect-hash", cell.pipelineHash,
  ...o.sets.flatMap((s) => ["--set", s]),
  ...(Option.isSome(o.smoke) ? ["--smoke", String(o.smoke.value)] : [])
]

/** Whether a cell's run folder holds a finished run. */
const isFinished = (root: string, cell: Cells.Cell) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const RunFolder = yield* Lazy.runFolder
    return yield* RunFolder.isFinished(path.join(root, cell.runId))
  })

/** What running the cells locally did. */
interface LocalOutcome {
  readonly failed: ReadonlyArray<{ readonly cell: Cells.Cell; readonly why: string }>
  /** Cells not started because the budget was spent. */
  readonly notStarted: number
}

/**
 * Runs `pending` cells `jobs` at a time in serve-cells children, printing a progress line (done,
 * running, failed, ETA) whenever a cell starts or ends; launches no new cell once `budgetMs`
 * (from `t0`) is spent.
 */
const runLocally = (o: {
  readonly pending: ReadonlyArray<Cells.Cell>
  readonly total: number
  readonly alreadyDone: number
  readonly jobs: number
  readonly estimateOf: (cell: Cells.Cell) => number
  readonly args: (cell: Cells.Cell) => ReadonlyArray<string>
  readonly key: string
  readonly budgetMs: number | undefined
  readonly t0: number
}): Effect.Effect<LocalOutcome> =>
  Effect.gen(function*() {
    const children = CellProcesses.make({ echo: false })
    const running = new Map<number, { readonly start: number; readonly estimatedMs: number }>()
    const finished: Array<{ readonly estimatedMs: number; readonly actualMs: number }> = []
    const failed: Array<{ readonly cell: Cells.Cell; readonly why: string }> = []
    let queued = [...o.pending]
    let notStarted = 0
    const progress = (what: string) =>
      Effect.sync(() => {
        const now = Date.now()
        const factor = Estimate.correction(finished)
        const eta = Estimate.eta({
          queued: queued.map(o.estimateOf),
          running: [...running.values()].map((r) => ({ estimatedMs: r.estimatedMs, elapsedMs: now - r.start })),
          jobs: o.jobs,
          factor
        })
        const done = o.alreadyDone + finished.length
        const left = queued.length + running.size
        process.stderr.write(
          `[${time()}] ${what}; cells: ${done}/${o.total} done, ${running.size} running, ${failed.length} failed, ${queued.length} queued` +
            (left > 0 ? `; ETA ${Estimate.formatDuration(eta)} (about ${new Date(now + eta).toISOString().slice(11, 16)} UTC)` : "") + "\n"
        )
      })
    const runOne = (cell: Cells.Cell) =>
      Effect.gen(function*() {
        queued = queued.filter((c) => c !== cell)
        if (o.budgetMs !== undefined && Date.now() - o.t0 >= o.budgetMs) {
          notStarted++
          return
        }
        const label = `cell ${cell.index} (${String(cell.tags["arm"] ?? cell.name)} seed ${cell.seed})`
        const estimatedMs = o.estimateOf(cell)
        const start = Date.now()
        running.set(cell.index, { start, estimatedMs })
        yield* progress(`started ${label}`)
        const exit = yield* children.run(o.key, o.args(cell), `[cell ${cell.index}] `).pipe(
          Effect.ensuring(Effect.sync(() => running.delete(cell.index)))
        )
        const took = Estimate.formatDuration(Date.now() - start)
        const ended = CellProcesses.verdict(exit)
        if (ended.ok) {
          finished.push({ estimatedMs, actualMs: Date.now() - start })
          yield* progress(`finished ${label} in ${took}`)
        } else {
          const why = ended.why
          failed.push({ cell, why })
          yield* progress(`FAILED ${label} after ${took}: ${why.split("\n")[0]}`)
        }
      })
    yield* Effect.forEach(o.pending, runOne, { concurrency: o.jobs, discard: true }).pipe(Effect.ensuring(children.shutdown))
    return { failed, notStarted }
  })

/** The `replicate` command. */
export const replicate = Command.make(
  "replicate",
  {
    budget: Flag.String("budget").pipe(
      Flag.withDescription(
        "Wall-time budget, e.g. 60m, 1h30m, 90s (a bare number is minutes): refuse to start when the estimate exceeds it; " +
          "launch no new cell once it is spent (run again to continue)"
      ),
      Flag.optional
    ),
    seeds: Flag.Int("seeds").pipe(
      Flag.withSchema(positive),
      Flag.withDescription("Run seeds 1..N of every arm (default: the study's seeds, 1, 2, 3; with --smoke: 1)"),
      Flag.optional
    ),
    jobs: Flag.Int("jobs").pipe(
      Flag.withSchema(positive),
      Flag.withDescription("Cells run at once, each in its own process (default: the cores divided by the threads a cell uses)"),
      Flag.optional
    ),
    cluster: Flag.String("cluster").pipe(
      Flag.withDescription("Run the cells on a cluster instead: the PostgreSQL URL its workers serve (see docs/distributed.md)"),
      Flag.optional
    ),
    out: Flag.String("out").pipe(
      Flag.withDescription(`Root folder of runs: everything lands in DIR/replication/ (default: runs; with --smoke: ${smokeRoot()})`),
      Flag.optional
    ),
    smoke: Flag.Int("smoke").pipe(
      Flag.withDescription(`Smoke replication: every cell shortened to N steps (default ${smokeDefaultSteps}) with every stage, probe and evaluation compressed into them`),
      Flag.optional
    ),
    set: setFlag,
    cache: cacheFlag
  },
  Effect.fn("replicate")(function*({ budget, seeds, jobs, cluster, out, smoke, set, cache }) {
    const t0 = Date.now()
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const budgetMs = Option.isSome(budget) ? Estimate.parseDuration(budget.value) : undefined
    if (Option.isSome(budget) && (budgetMs === undefined || budgetMs <= 0)) {
      return yield* new UserError({ message: `--budget: expected a duration such as 45m, 1h30m or 90s, got "${budget.value}"` })
    }
    if (Option.isSome(cluster)) {
      for (const [given, flag] of [[Option.isSome(smoke), "--smoke"], [Option.isSome(jobs), "--jobs"], [Option.isSome(budget), "--budget"]] as const) {
        if (given) return yield* new UserError({ message: `${flag} cannot be combined with --cluster (the cluster's workers set the pace)` })
      }
    }
    if (!(yield* fs.exists(studyFile).pipe(Effect.orElseSucceed(() => false)))) {
      return yield* new UserError({ message: `the replication study ${studyFile} is missing (rekindle replicate runs from a rekindle checkout)` })
    }
    const Cells = yield* LazyCells.cells
    const sets = [
      ...(Option.isSome(seeds) ? [seedsSet(seeds.value)] : Option.isSome(smoke) ? [seedsSet(1)] : []),
      ...set
    ]
    const { prepared, cells: full } = yield* Cells.load(studyFile, sets)
    const cells = Option.isSome(smoke) ? yield* Cells.shorten(prepared, full, smoke.value) : full
    const runsDir = path.resolve(Option.getOrElse(out, () => (Option.isSome(smoke) ? smokeRoot() : "runs")))
    const root = yield* Cells.studyRoot(runsDir, prepared)
    const done = yield* Effect.filter(cells, (c) => isFinished(root, c))
    const pending = cells.filter((c) => !done.includes(c))
    const arms = [...new Set(cells.map((c) => String(c.tags["arm"])))]
    const steps = (cs: ReadonlyArray<Cells.Cell>) => cs.reduce((a, c) => a + c.plan.train.steps, 0)
    const threads = Math.max(1, ...cells.map((c) => c.plan.backend.threads ?? os.availableParallelism()))
    const slots = Option.getOrElse(jobs, () => Math.max(1, Math.floor(os.availableParallelism() / threads)))

    // the plan: what will run, and how long it should take here
    const speed = pending.length === 0 || Option.isSome(cluster) ? undefined : yield* Effect.gen(function*() {
      const { calibrate } = yield* Effect.promise(() => import("../Calibrate.ts"))
      const { Compile } = yield* Lazy.pipeline
      return yield* calibrate({
        trainer: yield* experiment,
        registry: prepared.registry,
        cell: pending[0]!,
        steps: Math.min(calibrationSteps, ...pending.map((c) => c.plan.train.steps)),
        cacheDir: cache,
        backends: yield* Compile.backendProviders(prepared.registry)
      })
    })
    const estimateOf = (c: Cells.Cell) => (speed === undefined ? 0 : Estimate.cellMs(speed, c.plan.train.steps))
    const estimate = speed === undefined ? 0 : Estimate.total(speed, pending.map((c) => c.plan.train.steps), slots)
    yield* Console.log(
      `replication: ${arms.length} arms × ${cells.length / arms.length} seed(s) = ${cells.length} cells, ` +
        `${steps(cells).toLocaleString("en-US")} training steps${Option.isSome(smoke) ? ` (smoke: ${smoke.value} steps a cell)` : ""}; runs in ${root}`
    )
    for (const arm of arms) {
      const of = cells.filter((c) => c.tags["arm"] === arm)
      const each = of[0]!.plan.train.steps
      yield* Console.log(
        `  ${arm.padEnd(18)} ${of.length} cell(s) × ${each} steps` +
          (speed !== undefined ? `, about ${Estimate.formatDuration(Estimate.cellMs(speed, each))} each` : "") +
          `; ${of.filter((c) => done.includes(c)).length} finished`
      )
    }
    if (Option.isSome(cluster)) {
      yield* Console.log(`plan: ${pending.length} cell(s) to run (${steps(pending).toLocaleString("en-US")} steps) on the cluster; ${done.length} already finished`)
    } else {
      yield* Console.log(
        `plan: ${pending.length} cell(s) to run (${steps(pending).toLocaleString("en-US")} steps), ${slots} at a time; ${done.length} already finished; ` +
          (speed === undefined ? "nothing to run" : `estimated wall time ${Estimate.formatDuration(estimate)} ` +
            `(calibrated: ${speed.msPerStep.toFixed(1)} ms a step, ${Estimate.formatDuration(speed.msPerCell)} a cell besides its steps, ` +
            `${Estimate.formatDuration(speed.msPerProcess)} to start each of the ${slots} processes)`)
      )
    }
    if (budgetMs !== undefined && estimate > budgetMs) {
      return yield* new UserError({
        message: `--budget ${budget.pipe(Option.getOrElse(() => ""))}: the estimate is ${Estimate.formatDuration(estimate)} for ${pending.length} cell(s), ` +
          `${slots} at a time, over the budget of ${Estimate.formatDuration(budgetMs)}; give a larger budget, more --jobs, fewer --seeds, or --cluster`
      })
    }

    // the cells
    let failures = 0
    if (Option.isSome(cluster)) {
      const { submitStudy } = yield* Effect.promise(() => import("./Cluster.ts"))
      failures = (yield* submitStudy(cluster.value, studyFile, sets, runsDir, prepared, cells)) === 0 ? 0 : 1
    } else if (pending.length > 0) {
      const hash = yield* fileHash(studyFile)
      const local = yield* runLocally({
        pending,
        total: cells.length,
        alreadyDone: done.length,
        jobs: slots,
        estimateOf,
        args: (c) => cellArgs({ file: studyFile, runsDir, cache: path.resolve(cache), sets, smoke }, c),
        key: `${studyFile} ${hash}`,
        budgetMs,
        t0
      })
      failures = local.failed.length
      for (const f of local.failed) yield* Console.error(`cell ${f.cell.index} (${f.cell.runId}) failed:\n${f.why}`)
      if (local.notStarted > 0) {
        yield* Console.error(`--budget spent: ${local.notStarted} cell(s) not started; run the same command again to continue`)
      }
    }

    // the analysis, over the finished runs
    const { Arms, Replicate } = yield* Effect.promise(() => import("@rekindle/replication"))
    const finished = yield* Effect.filter(cells, (c) => isFinished(root, c))
    const runs = finished.flatMap((c) => {
      const arm = Arms.armIds.find((a) => a === c.tags["arm"])
      return arm === undefined ? [] : [{ arm, seed: c.seed, dir: path.join(root, c.runId) }]
    })
    yield* Console.error(`analysing ${runs.length} finished run(s) of ${cells.length}`)
    const result = yield* Replicate.analyze(runs)
    const written = yield* Replicate.write(root, result)
    // a cluster submission collected the study already (submitStudy)
    if (Option.isNone(cluster)) yield* Cells.collect(prepared, cells, root)
    yield* Console.log("")
    for (const f of result.findings) {
      yield* Console.log(`${f.finding.padEnd(4)} ${f.verdict.outcome.padEnd(13)} ${f.verdict.reason.split("\n")[0]}`)
    }
    yield* Console.log(["", ...written, path.join(root, "report.html"), path.join(root, "study.json")].join("\n"))
    if (failures > 0) return yield* new ExitCode({ code: 1 })
  })
).pipe(Command.withDescription("Replicate the reference study: run its arms (with a plan and ETA, resumable), then a verdict per finding"))
