/**
 * `rekindle run <pipeline>`: compiles the pipeline (nothing is written on a user error) and hands
 * the plan to the trainer. A pipeline whose run folder already holds a finished run is not run
 * again (it is reported, exit 0) unless `--force` is given; an unfinished run that can be resumed
 * is refused with a hint to `rekindle resume` (see docs/reproducibility.md). A study runs every
 * variant into `<out>/<study>/`, skipping variants whose run folder already holds a finished run
 * and resuming unfinished ones from their last checkpoint, then writes `study.json` and prints
 * the comparison table.
 */
import type { BackendProvider } from "@rekindle/core"
import { UserError } from "@rekindle/core/Errors"
import type { Runner, RunPlan } from "@rekindle/training"
import { Console, Effect, FileSystem, Option, Path, Schema } from "effect"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Command, Flag } from "effect/cli"
import type * as Cells from "../Cells.ts"
import * as Host from "../Host.ts"
import * as Lazy from "../Lazy.ts"
import * as LazyCells from "../LazyCells.ts"
import * as Summary from "../Summary.ts"
import { cacheFlag, keepCheckpointsFlag, outFlag, pipelineArg, setFlag } from "./Shared.ts"

/** Where and how to run (the trainer's options). */
export interface RunOptions {
  readonly outDir: string
  readonly cacheDir: string
  readonly backends: ReadonlyArray<BackendProvider>
  /** What to do with a run folder that already holds a run (`Resume.Existing` of @rekindle/training). */
  readonly existing?: "refuse" | "replace" | "resume" | "continue"
  /** The exact run folder (resume). */
  readonly dir?: string
  readonly keepCheckpoints?: number
  /** The pipeline file (recorded in the manifest). */
  readonly source?: string
}

/** What the trainer reports. */
export interface RunResult {
  readonly dir: string
  readonly finalLoss: number
  readonly finalEvalLoss?: number
}

/** The trainer's entry point, as the CLI uses it (`Runner` from `@rekindle/training`). */
export type RunFn = (plan: RunPlan, options: RunOptions) => Effect.Effect<RunResult, Runner.RunFailure, FileSystem.FileSystem | Path.Path>

/** Loads the trainer lazily, so commands that do not train never load TF.js. */
export const experiment: Effect.Effect<RunFn> = Effect.promise(async () => {
  const { Runner } = await import("@rekindle/training")
  const run: RunFn = Runner.run
  return run
})

const runOne = (run: RunFn, plan: RunPlan, options: RunOptions) =>
  run(plan, options).pipe(
    Effect.catchTag("RunError", (failed) => Effect.succeed({ failed } as const))
  )

const runPipeline = (run: RunFn, plan: RunPlan, options: RunOptions) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const { folderName, hashOf, isFinished } = yield* Lazy.runFolder
    if (options.existing !== "replace") {
      const dir = path.resolve(options.outDir, folderName(plan.name, hashOf(plan.resolved)))
      if (yield* isFinished(dir)) {
        const summary = yield* Summary.read(dir).pipe(Effect.option)
        const evalLoss = summary._tag === "Some" ? summary.value.finalEvalLoss : undefined
        yield* Console.log(
          `${plan.name}: already finished in ${dir}` +
            (evalLoss !== undefined ? ` (final eval loss ${evalLoss.toFixed(4)})` : "") +
            `; nothing to do (--force runs it again from scratch)`
        )
        return 0
      }
    }
    const result = yield* runOne(run, plan, options)
    if ("failed" in result) {
      yield* Console.error(`run failed at step ${result.failed.step}: ${result.failed.message}`)
      return 1
    }
    yield* Console.log(
      `${plan.name}: final loss ${result.finalLoss.toFixed(4)}` +
        (result.finalEvalLoss !== undefined ? `, final eval loss ${result.finalEvalLoss.toFixed(4)}` : "") +
        `\nrun folder: ${result.dir}`
    )
    return 0
  })

const runStudy = (
  run: RunFn,
  prepared: Cells.PreparedStudy,
  all: ReadonlyArray<Cells.Cell>,
  options: RunOptions
) =>
  Effect.gen(function*() {
    const Cells = yield* LazyCells.cells
    const root = yield* Cells.studyRoot(options.outDir, prepared)
    let failures = 0
    for (const cell of all) {
      const label = `[${cell.index + 1}/${all.length}] ${cell.name} seed ${cell.seed}`
      const outcome = yield* Cells.runCell(run, cell, root, {
        cacheDir: options.cacheDir,
        backends: options.backends,
        force: options.existing === "replace",
        onStart: Console.log(label),
        ...(options.keepCheckpoints !== undefined ? { keepCheckpoints: options.keepCheckpoints } : {}),
        ...(options.source !== undefined ? { source: options.source } : {})
      })
      if (outcome._tag === "Skipped") yield* Console.log(`${label}: already finished, skipped`)
      if (outcome._tag === "Failed") {
        failures++
        yield* Console.error(`  failed at step ${outcome.error.step}: ${outcome.error.message}`)
      }
    }
    yield* Cells.collect(prepared, all, root)
    return failures > 0 ? 1 : 0
  })

/** The steps of a smoke run when `--smoke` is given without a number. */
export const smokeDefaultSteps = 10

/** Where smoke runs go: a scratch folder under the system's temporary folder. */
export const smokeRoot = (): string => join(tmpdir(), "rekindle-smoke")

/**
 * The smoke version of a prepared file and its compiled plans: every run shortened to `steps`
 * steps and compiled again (`Cells.shortenPlans`); a study keeps one seed (the first) of each variant.
 */
const smokeOf = (prepared: Host.Prepared, plans: ReadonlyArray<RunPlan>, steps: number) =>
  Effect.gen(function*() {
    const { shortenPlans } = yield* LazyCells.cells
    if (prepared._tag === "Pipeline") return { prepared, plans: yield* shortenPlans(prepared.registry, [{ plan: plans[0]!, where: "" }], steps) }
    const chosen = prepared.variants.flatMap((v, i) =>
      prepared.variants.findIndex((w) => w.name === v.name) === i ? [{ variant: v, plan: plans[i]! }] : [])
    const shortened = yield* shortenPlans(prepared.registry, chosen.map(({ variant, plan }) => ({ plan, where: ` (variant ${variant.name})` })), steps)
    return {
      prepared: { ...prepared, variants: chosen.map(({ variant }, i) => ({ ...variant, pipeline: shortened[i]!.resolved as typeof variant.pipeline })) },
      plans: shortened
    }
  })

/** A command that finished but asks for a non-zero exit code (a run failed numerically; already reported). */
export class ExitCode extends Schema.TaggedError<ExitCode>()("ExitCode", { code: Schema.Number }) {}

/** The `run` command. */
export const make = (trainer: Effect.Effect<RunFn> = experiment) =>
  Command.make(
    "run",
    {
      pipeline: pipelineArg,
      out: outFlag,
      set: setFlag,
      cache: cacheFlag,
      force: Flag.Boolean("force").pipe(
        Flag.withDescription("Run again from scratch even when the run folder holds a finished or resumable run (it is replaced)"),
        Flag.withDefault(false)
      ),
      keepCheckpoints: keepCheckpointsFlag,
      smoke: Flag.Int("smoke").pipe(
        Flag.withDescription(
          `Smoke run: N steps (default ${smokeDefaultSteps}) with every stage, probe, evaluation and checkpoint compressed so each happens ` +
            `at least once; one seed per study variant; written to ${smokeRoot()} (or --out), replaced each time`
        ),
        Flag.optional
      ),
      cluster: Flag.String("cluster").pipe(
        Flag.withDescription("Run the study on a cluster: the PostgreSQL URL its workers serve (see docs/distributed.md)"),
        Flag.optional
      )
    },
    Effect.fn("run")(function*({ pipeline, out, set, cache, force, keepCheckpoints, smoke, cluster }) {
      const path = yield* Path.Path
      const { Compile } = yield* Lazy.pipeline
      const Cells = yield* LazyCells.cells
      const original = yield* Host.prepare(pipeline, set)
      if (Option.isSome(cluster)) {
        if (original._tag !== "Study") {
          return yield* new UserError({ message: `--cluster: ${pipeline} is a single pipeline; a cluster runs studies (export default study({...}))` })
        }
        if (force) return yield* new UserError({ message: `--force cannot be combined with --cluster` })
        if (Option.isSome(smoke)) return yield* new UserError({ message: `--smoke cannot be combined with --cluster` })
        const cells = yield* Cells.cells(original)
        const { submitStudy } = yield* Effect.promise(() => import("./Cluster.ts"))
        const code = yield* submitStudy(cluster.value, pipeline, set, Option.getOrElse(out, () => "runs"), original, cells)
        if (code !== 0) return yield* new ExitCode({ code })
        return
      }
      // everything is checked before the trainer loads or anything is written
      const full = original._tag === "Pipeline"
        ? [yield* Compile.compile(original.registry, original.pipeline)]
        : (yield* Cells.cells(original)).map((c) => c.plan)
      const { prepared, plans } = Option.isSome(smoke)
        ? yield* smokeOf(original, full, smoke.value)
        : { prepared: original, plans: full }
      const cells = prepared._tag === "Study" ? yield* Cells.cells(prepared) : []
      const backends = yield* Compile.backendProviders(prepared.registry)
      const run = yield* trainer
      const outDir = Option.getOrElse(out, () => (Option.isSome(smoke) ? smokeRoot() : "runs"))
      // the trainer brings rekindle's TF.js: a plugin's own copy shows up only now
      yield* Host.singleCopies
      const options: RunOptions = {
        outDir,
        cacheDir: cache,
        backends,
        keepCheckpoints,
        source: path.resolve(pipeline),
        ...(force || Option.isSome(smoke) ? { existing: "replace" as const } : {})
      }
      if (Option.isSome(smoke)) {
        yield* Console.log(
          `smoke run: ${plans[0]!.train.steps} steps of ${plans.length} run(s), every stage, probe, evaluation and checkpoint ` +
            `compressed into them, written to ${path.resolve(outDir)} (replaced by the next smoke run)`
        )
      }
      const code = prepared._tag === "Pipeline"
        ? yield* runPipeline(run, plans[0]!, options)
        : yield* runStudy(run, prepared, cells, options)
      if (code !== 0) return yield* new ExitCode({ code })
    })
  ).pipe(Command.withDescription("Train a pipeline, or every run of a study"))
