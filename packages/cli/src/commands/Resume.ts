/**
 * `rekindle resume <run-dir>`: continues an interrupted or crashed run from its newest complete
 * checkpoint. The plan is rebuilt from the folder's own `pipeline.json` (with the plugins of the
 * pipeline file named in the manifest, when it still exists) on the backend and thread count the
 * run started with, and on the native BLAS it ran on (run's `SavedBlas`); `events.jsonl` is cut back to the checkpoint, so from there on the events are
 * those of an uninterrupted run. A finished run has nothing to resume (exit 0).
 */
import type { BackendProvider } from "@rekindle/core"
import { UserError } from "@rekindle/core/Errors"
import type { Registry } from "@rekindle/pipeline"
import type { SavedRun } from "@rekindle/run"
import type { RunPlan } from "@rekindle/training"
import { Console, Effect, FileSystem, Path } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import * as Host from "../Host.ts"
import * as Lazy from "../Lazy.ts"
import { ExitCode } from "./Run.ts"
import { cacheFlag, keepCheckpointsFlag } from "./Shared.ts"

/** The training package, loaded lazily (commands that do not train never load TF.js). */
export const training: Effect.Effect<{
  readonly Runner: typeof import("@rekindle/training").Runner
  readonly Resume: typeof import("@rekindle/run").Resume
  readonly Checkpoint: typeof import("@rekindle/run").Checkpoint
  readonly RunFolder: typeof import("@rekindle/run").RunFolder
}> = Effect.promise(() => import("@rekindle/training")).pipe(
  Effect.zip(Effect.promise(() => import("@rekindle/run"))),
  Effect.map(([{ Runner }, { Checkpoint, Resume, RunFolder }]) => ({ Runner, Resume, Checkpoint, RunFolder }))
)

/** The run-folder argument. */
export const runDirArg = Argument.String("run-dir").pipe(Argument.withDescription("A run folder (runs/<name>-<hash>)"))


/** A saved run's plan, rebuilt from its pipeline.json on the backend it ran on, and the registry's backends. */
interface SavedPlan {
  readonly plan: RunPlan
  readonly backends: ReadonlyArray<BackendProvider>
  readonly source: string | undefined
}

/**
 * Rebuilds the plan of a saved run: registry (built-ins, rekindle.config.ts, and the plugins of
 * the pipeline file the manifest names, when it still exists), compiled `pipeline.json`, checked
 * to hash to the manifest's pipeline hash, pinned to the manifest's backend and thread count.
 */
export const savedPlan = (saved: SavedRun, hashOf: (v: unknown) => string) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const { Compile, Load } = yield* Lazy.pipeline
    const source = saved.manifest.source
    let extra: ReadonlyArray<Registry.AnyPlugin> = []
    if (source !== undefined && (yield* fs.exists(source).pipe(Effect.orElseSucceed(() => false)))) {
      const loaded = yield* Load.loadFile(source).pipe(Effect.option)
      if (loaded._tag === "Some") extra = loaded.value.plugins
    }
    const registry = yield* Host.registry(extra)
    const compiled = yield* Compile.compile(registry, saved.pipeline).pipe(
      Effect.mapError((e) => Host.within(`${saved.dir}/pipeline.json`, e))
    )
    const hash = hashOf(compiled.resolved)
    if (hash !== saved.manifest.pipelineHash) {
      return yield* new UserError({
        message: `${saved.dir}/pipeline.json now resolves to pipeline ${hash}, but the run is ${saved.manifest.pipelineHash} ` +
          `(a plugin's options or defaults changed since the run started); it cannot be continued or reproduced as it was`
      })
    }
    const backend = saved.manifest.backend
    const { SavedBlas } = yield* Effect.promise(() => import("@rekindle/run"))
    const plan: RunPlan = backend === undefined
      ? compiled
      : { ...compiled, backend: { name: backend.name, threads: backend.threads, pinned: true, ...SavedBlas.pinned(backend) } }
    const warning = backend === undefined ? undefined : yield* SavedBlas.check(backend)
    if (warning !== undefined) yield* Console.error(warning)
    const backends = yield* Compile.backendProviders(registry)
    return { plan, backends, source } satisfies SavedPlan
  })

/** The `resume` command. */
export const resume = Command.make(
  "resume",
  { runDir: runDirArg, cache: cacheFlag, keepCheckpoints: keepCheckpointsFlag },
  Effect.fn("resume")(function*({ runDir, cache, keepCheckpoints }) {
    const path = yield* Path.Path
    const t = yield* training
    const saved = yield* t.Resume.readRun(runDir)
    if (saved.manifest.status === "finished") {
      yield* Console.log(`${saved.dir}: already finished (${saved.manifest.stepsDone} steps); nothing to resume`)
      return
    }
    const { plan, backends, source } = yield* savedPlan(saved, t.RunFolder.hashOf)
    const result = yield* t.Runner.run(plan, {
      // announced only once the resume is certain: locked, the checkpoint chosen and checked
      onResume: (r) =>
        Effect.gen(function*() {
          for (const s of r.skipped) yield* Console.error(`warning: skipping ${s.file}: ${s.problem}`)
          for (const b of r.badLines) {
            yield* Console.error(`warning: line ${b.line} of ${b.file} is ${b.problem}; it comes after the checkpoint and is cut (kept in ${b.file}.cut)`)
          }
          yield* Console.log(
            `resuming ${path.basename(r.dir)} from the checkpoint after step ${r.step} of ${plan.train.steps}` +
              ` (backend ${r.backend.name}, ${r.backend.threads} thread${r.backend.threads === 1 ? "" : "s"})`
          )
        }),
      outDir: path.dirname(saved.dir),
      dir: saved.dir,
      existing: "resume",
      cacheDir: cache,
      backends,
      keepCheckpoints,
      ...(source !== undefined ? { source } : {})
    }).pipe(Effect.catchTag("RunError", (failed) => Effect.succeed({ failed } as const)))
    if ("failed" in result) {
      yield* Console.error(`run failed at step ${result.failed.step}: ${result.failed.message}`)
      return yield* new ExitCode({ code: 1 })
    }
    yield* Console.log(
      `${plan.name}: final loss ${result.finalLoss.toFixed(4)}` +
        (result.finalEvalLoss !== undefined ? `, final eval loss ${result.finalEvalLoss.toFixed(4)}` : "") +
        `\nrun folder: ${result.dir}`
    )
  })
).pipe(Command.withDescription("Continue an interrupted or crashed run from its last complete checkpoint"))
