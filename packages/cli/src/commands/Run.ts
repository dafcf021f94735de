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
import { RunError } from "@rekindle/core"
import { Compile } from "@rekindle/pipeline"
import { Write } from "@rekindle/report"
import { folderName, readManifest } from "@rekindle/run/RunFolder"
import type { RunPlan } from "@rekindle/training"
import { Console, Data, Effect, FileSystem, Path } from "effect"
import { Command, Flag } from "effect/cli"
import * as Host from "../Host.ts"
import * as Summary from "../Summary.ts"
import { keepCheckpointsFlag, pipelineArg, setFlag } from "./Shared.ts"

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
export type RunFn = (plan: RunPlan, options: RunOptions) => Effect.Effect<RunResult, unknown, FileSystem.FileSystem | Path.Path>

/** Loads the trainer lazily, so commands that do not train never load TF.js. */
export const experiment: Effect.Effect<RunFn> = Effect.promise(async () => {
  const { Runner } = await import("@rekindle/training")
  const run: RunFn = Runner.run
  return run
})

const runOne = (run: RunFn, plan: RunPlan, options: RunOptions) =>
  run(plan, options).pipe(
    Effect.catch((e: unknown) => (e instanceof RunError ? Effect.succeed({ failed: e } as const) : Effect.fail(e)))
  )

const runPipeline = (run: RunFn, plan: RunPlan, options: RunOptions) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    if (options.existing !== "replace") {
      const dir = path.resolve(options.outDir, folderName(plan.name, plan.resolved))
      const manifest = yield* readManifest(dir).pipe(Effect.orElseSucceed(() => undefined))
      if (manifest?.status === "finished") {
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

/** Compiles every variant of a study (a user error anywhere stops the study before anything is written). */
const compileStudy = (prepared: Extract<Host.Prepared, { _tag: "Study" }>) =>
  Effect.forEach(prepared.variants, (v) =>
    Compile.compile(prepared.registry, v.pipeline).pipe(
      Effect.mapError((e) => Host.within(`variant ${v.name} (seed ${v.seed})`, e))
    ))

const runStudy = (
  run: RunFn,
  prepared: Extract<Host.Prepared, { _tag: "Study" }>,
  plans: ReadonlyArray<RunPlan>,
  options: RunOptions
) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const root = path.resolve(options.outDir, prepared.study.name)
    const dirs: Array<string> = []
    let failures = 0
    for (const [i, plan] of plans.entries()) {
      const v = prepared.variants[i]!
      const dir = path.join(root, folderName(plan.name, plan.resolved))
      dirs.push(dir)
      const manifest = yield* readManifest(dir).pipe(Effect.orElseSucceed(() => undefined))
      if (manifest?.status === "finished" && options.existing !== "replace") {
        yield* Console.log(`[${i + 1}/${plans.length}] ${v.name} seed ${v.seed}: already finished, skipped`)
        continue
      }
      yield* Console.log(`[${i + 1}/${plans.length}] ${v.name} seed ${v.seed}`)
      // an unfinished variant continues from its last checkpoint (or starts over when it has none)
      const result = yield* runOne(run, plan, { ...options, outDir: root, existing: options.existing ?? "continue" })
      if ("failed" in result) {
        failures++
        yield* Console.error(`  failed at step ${result.failed.step}: ${result.failed.message}`)
      }
    }
    const summaries = yield* Effect.forEach(dirs, (d) => Summary.read(d).pipe(Effect.option))
    const runs = summaries.flatMap((s) => (s._tag === "Some" ? [s.value] : []))
    const groups = Summary.group(runs)
    const study = {
      name: prepared.study.name,
      file: prepared.file,
      variants: prepared.variants.map((v, i) => {
        const s = runs.find((r) => r.dir === dirs[i])
        return {
          name: v.name,
          seed: v.seed,
          tags: v.tags,
          dir: path.relative(root, dirs[i]!),
          status: s?.status ?? "missing",
          finalEvalLoss: s?.finalEvalLoss ?? null,
          trainLossLast10pct: s?.tailLoss ?? null
        }
      }),
      groups: groups.map((g) => ({ name: g.name, seeds: g.runs.length, finalEvalLoss: g.evalLoss, trainLossLast10pct: g.trainLoss }))
    }
    yield* fs.makeDirectory(root, { recursive: true })
    yield* fs.writeFileString(path.join(root, "study.json"), JSON.stringify(study, null, 2) + "\n")
    yield* Write.writeStudy(root, { runs: false })
    yield* Console.log(`\n${Summary.table(groups)}\n\nstudy: ${path.join(root, "study.json")}`)
    return failures > 0 ? 1 : 0
  })

/** A command that finished but asks for a non-zero exit code (a run failed numerically; already reported). */
export class ExitCode extends Data.TaggedError("ExitCode")<{ readonly code: number }> {}

/** The `run` command. */
export const make = (trainer: Effect.Effect<RunFn> = experiment) =>
  Command.make(
    "run",
    {
      pipeline: pipelineArg,
      out: Flag.String("out").pipe(Flag.withDescription("Root folder of runs"), Flag.withDefault("runs")),
      set: setFlag,
      cache: Flag.String("cache").pipe(
        Flag.withDescription("Cache folder for tokenizers and tokenized corpora"),
        Flag.withDefault(".cache/rekindle")
      ),
      force: Flag.Boolean("force").pipe(
        Flag.withDescription("Run again from scratch even when the run folder holds a finished or resumable run (it is replaced)"),
        Flag.withDefault(false)
      ),
      keepCheckpoints: keepCheckpointsFlag
    },
    Effect.fn("run")(function*({ pipeline, out, set, cache, force, keepCheckpoints }) {
      const path = yield* Path.Path
      const prepared = yield* Host.prepare(pipeline, set)
      // everything is checked before the trainer loads or anything is written
      const plans = prepared._tag === "Pipeline"
        ? [yield* Compile.compile(prepared.registry, prepared.pipeline)]
        : yield* compileStudy(prepared)
      const backends = yield* Compile.backendProviders(prepared.registry)
      const run = yield* trainer
      const options: RunOptions = {
        outDir: out,
        cacheDir: cache,
        backends,
        keepCheckpoints,
        source: path.resolve(pipeline),
        ...(force ? { existing: "replace" as const } : {})
      }
      const code = prepared._tag === "Pipeline"
        ? yield* runPipeline(run, plans[0]!, options)
        : yield* runStudy(run, prepared, plans, options)
      if (code !== 0) return yield* new ExitCode({ code })
    })
  ).pipe(Command.withDescription("Train a pipeline, or every run of a study"))
