/**
 * `rekindle study cells|run-cell|collect|status`: a study's cells for any scheduler. `cells`
 * lists them (index, run id, pipeline hash; stable order); `run-cell` runs one idempotently
 * (finished: nothing; interrupted: resumed from its newest checkpoint; a different pipeline hash
 * than `--expect-hash`: refused); `collect` writes study.json, the comparison and report.html from
 * the run folders; `status --cluster` shows a study's progress on a cluster without submitting.
 */
import { asUserError, formatUserError, UserError } from "@rekindle/core/Errors"
import { Cause, Console, Effect, Option, Path } from "effect"
import { Command, Flag } from "effect/cli"
import * as CellProcesses from "../CellProcesses.ts"
import * as CellReport from "../CellReport.ts"
import type * as Cells from "../Cells.ts"
import * as Lazy from "../Lazy.ts"
import * as LazyCells from "../LazyCells.ts"
import { runCommand } from "../Exit.ts"
import * as Summary from "../Summary.ts"
import * as Cluster from "./Cluster.ts"
import { experiment, ExitCode } from "./Run.ts"
import { cacheFlag, keepCheckpointsFlag, pipelineArg, runsDirFlag, setFlag, threadsFlag } from "./Shared.ts"

const cells = Command.make(
  "cells",
  { study: pipelineArg, set: setFlag, json: Flag.Boolean("json").pipe(Flag.withDescription("One JSON object per line"), Flag.withDefault(false)) },
  Effect.fn("study.cells")(function*({ study, set, json }) {
    const { cells } = yield* (yield* LazyCells.cells).load(study, set)
    if (json) {
      for (const c of cells) {
        yield* Console.log(JSON.stringify({ index: c.index, runId: c.runId, pipelineHash: c.pipelineHash, name: c.name, seed: c.seed, tags: c.tags }))
      }
      return
    }
    const w = Math.max(6, ...cells.map((c) => c.runId.length))
    yield* Console.log(`index  ${"run id".padEnd(w)}  pipeline hash`)
    for (const c of cells) yield* Console.log(`${String(c.index).padStart(5)}  ${c.runId.padEnd(w)}  ${c.pipelineHash}`)
  })
).pipe(Command.withDescription("List a study's cells (index, run id, pipeline hash) in their stable order"))

const runCell = Command.make(
  "run-cell",
  {
    study: pipelineArg,
    index: Flag.Int("index").pipe(Flag.withDescription("The cell's index (see `rekindle study cells`)")),
    runsDir: runsDirFlag,
    set: setFlag,
    cache: cacheFlag,
    keepCheckpoints: keepCheckpointsFlag,
    threads: threadsFlag,
    expectHash: Flag.String("expect-hash").pipe(
      Flag.withDescription("Refuse to run unless the cell's pipeline hash is this one (what the scheduler saw when it listed the cells)"),
      Flag.optional
    ),
    takeOverLock: Flag.Boolean("take-over-lock").pipe(
      Flag.withDescription("Treat a run.lock written on another host as stale (only for a caller holding an exclusive lease on the cell)"),
      Flag.withDefault(false)
    ),
    smoke: Flag.Int("smoke").pipe(
      Flag.withDescription("Run the cell's smoke version: N steps with every stage, probe, evaluation and checkpoint compressed into them (its own run id)"),
      Flag.optional
    ),
    result: Flag.String("result").pipe(
      Flag.withDescription("Also write the outcome as JSON to this file: status, error (as printed), final eval loss, phase times"),
      Flag.optional
    )
  },
  Effect.fn("study.run-cell")(function*({ study, index, runsDir, set, cache, keepCheckpoints, threads, expectHash, takeOverLock, smoke, result }) {
    yield* CellProcesses.exitWithParent
    const timings: { start: number; loaded?: number; trainStart?: number } = { start: Date.now() }
    const known: { runId?: string; dir?: string } = {}
    const report = (r: Pick<CellReport.CellReport, "status"> & Partial<CellReport.CellReport>) =>
      Option.isSome(result)
        ? CellReport.write(result.value, { index, ...known, ...r, timings: { ...timings, end: Date.now() } }).pipe(
          Effect.mapError((e) => new UserError({ message: `--result: cannot write ${result.value}: ${e.message}` }))
        )
        : Effect.void
    const outcome = yield* Effect.gen(function*() {
      const path = yield* Path.Path
      const { prepared, cells: full } = yield* (yield* LazyCells.cells).loadKept(study, set)
      const picked = yield* (yield* LazyCells.cells).pick(full, index)
      const cell = Option.isSome(smoke) ? (yield* (yield* LazyCells.cells).shorten(prepared, [picked], smoke.value))[0]! : picked
      known.runId = cell.runId
      if (Option.isSome(expectHash) && expectHash.value !== cell.pipelineHash) {
        return yield* new UserError({
          message: `cell ${index} (${cell.name} seed ${cell.seed}) has pipeline hash ${cell.pipelineHash} here, but ${expectHash.value} was expected: ` +
            `the study file, its --set overrides or the installed plugins differ from where the cells were listed`
        })
      }
      const plan = Option.isSome(threads) ? { ...cell.plan, backend: { ...cell.plan.backend, threads: threads.value } } : cell.plan
      const root = yield* (yield* LazyCells.cells).studyRoot(runsDir, prepared)
      known.dir = path.join(root, cell.runId)
      const backends = yield* (yield* Lazy.pipeline).Compile.backendProviders(prepared.registry)
      const trainer = yield* experiment
      const { Lock } = yield* Effect.promise(() => import("@rekindle/run"))
      timings.loaded = Date.now()
      return yield* (yield* LazyCells.cells).runCell(trainer, { ...cell, plan }, root, {
        cacheDir: cache,
        backends,
        keepCheckpoints,
        source: path.resolve(study),
        onStart: Effect.andThen(
          Effect.sync(() => (timings.trainStart = Date.now())),
          Console.log(`cell ${index}: ${cell.runId} (${cell.name} seed ${cell.seed})`)
        )
      }).pipe(Effect.provideService(Lock.ForeignLocks, takeOverLock ? "stale" : "held"))
    }).pipe(
      Effect.tapCause((cause) => {
        if (Cause.hasInterruptsOnly(cause)) return Effect.void
        const e = asUserError(Cause.squash(cause))
        return e !== undefined
          ? report({ status: "failed", kind: "user", error: formatUserError(e) })
          : report({ status: "failed", kind: "internal", error: `internal error (a bug in rekindle or a plugin):\n${Cause.pretty(cause)}` })
      })
    )
    if (outcome._tag === "Failed") {
      const error = `cell ${index}: run failed at step ${outcome.error.step}: ${outcome.error.message}`
      yield* report({ status: "failed", kind: "run", error })
      yield* Console.error(error)
      return yield* new ExitCode({ code: 1 })
    }
    const summary = yield* Summary.read(outcome.dir).pipe(Effect.option)
    const evalLoss = summary._tag === "Some" ? summary.value.finalEvalLoss : undefined
    yield* report({ status: outcome._tag === "Skipped" ? "skipped" : "finished", ...(evalLoss !== undefined ? { finalEvalLoss: evalLoss } : {}) })
    if (outcome._tag === "Skipped") yield* Console.log(`cell ${index}: ${known.runId} already finished in ${outcome.dir}; nothing to do`)
    else yield* Console.log(`cell ${index}: finished in ${outcome.dir}`)
  })
).pipe(Command.withDescription("Run one cell of a study (idempotent: a finished cell is left alone, an interrupted one resumes)"))

const collect = Command.make(
  "collect",
  { study: pipelineArg, runsDir: runsDirFlag, set: setFlag },
  Effect.fn("study.collect")(function*({ study, runsDir, set }) {
    const { prepared, cells } = yield* (yield* LazyCells.cells).load(study, set)
    const root = yield* (yield* LazyCells.cells).studyRoot(runsDir, prepared)
    const written = yield* (yield* LazyCells.cells).collect(prepared, cells, root)
    const missing = written.variants.filter((v) => v.status !== "finished")
    if (missing.length > 0) yield* Console.error(`${missing.length} of ${cells.length} cells not finished: ${missing.map((v) => v.dir).join(", ")}`)
  })
).pipe(Command.withDescription("Write study.json, the comparison table and report.html from the study's run folders"))

const serveCells = Command.make(
  "serve-cells",
  {},
  Effect.fn("study.serve-cells")(function*() {
    yield* CellProcesses.exitWithParent
    // load what every cell needs before the first one comes (the worker waits for this line)
    yield* LazyCells.cells
    yield* Lazy.pipeline
    yield* Lazy.builtins
    yield* experiment
    yield* Effect.promise(() => import("@rekindle/run"))
    process.stderr.write(`${CellProcesses.readyMarker}\n`)
    const runOne = runCommand(runCell)
    const next = yield* CellProcesses.requests
    while (true) {
      const line = yield* next
      if (line === undefined) return
      const args = JSON.parse(line) as Array<string>
      const code = yield* runOne(args)
      process.stderr.write(`${CellProcesses.doneMarker} ${code}\n`)
    }
  })
).pipe(Command.withDescription("For workers: run `study run-cell` argument lists read from stdin (one JSON array per line), one at a time"))

/** The `study` command and its subcommands. */
export const studyCommand = Command.make("study").pipe(
  Command.withDescription("A study's cells, for schedulers: list, run one, collect, cluster status"),
  Command.withSubcommands([cells, runCell, collect, Cluster.status, serveCells])
)
