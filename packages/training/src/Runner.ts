/**
 * The Runner runs one RunPlan end to end. A run is a composition of layers (`layer`: the claimed
 * run folder, the backend, the workload, the step hooks, the session, the sinks and event bus) and
 * a `program` over them (RunStarted, the step loop, RunFinished and the manifest). It is the only
 * place that knows the order of things; `run` provides the one to the other.
 */
import { type BackendInfo, type BackendProvider, Event, EventBus, type PluginError, RunError, type StepHook, type UserError } from "@rekindle/core"
import { Engine } from "@rekindle/engine"
import { ClaimedFolder, type Resume } from "@rekindle/run"
import { Effect, FileSystem, Layer, Path } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { RunEvents } from "./RunEvents.ts"
import type { RunPlan } from "./RunPlan.ts"
import { RunSession } from "./Session.ts"
import { StepHooks } from "./StepHooks.ts"
import { Trainer } from "@rekindle/loop"
import { Workload } from "./Workload.ts"

/** Where and how to run. */
export interface RunOptions {
  /** Root folder of runs (`runs/`). */
  readonly outDir: string
  /** Cache folder for tokenizers and tokenized corpora. */
  readonly cacheDir: string
  /** Backend providers from plugins, besides the built-in wasm and cpu. */
  readonly backends: ReadonlyArray<BackendProvider>
  /** Extra step hooks (recycling, probes) built by the host. */
  readonly hooks?: ReadonlyArray<StepHook>
  /**
   * What to do when the run folder already holds a run (default `refuse`: a finished run or one
   * that can be resumed is refused, an unfinished one without checkpoints is replaced; see
   * `Resume.Existing`). A folder locked by a live process is always refused.
   */
  readonly existing?: Resume.Existing
  /** The exact run folder (default `<outDir>/<name>-<hash>`); `rekindle resume` passes the one it was given. */
  readonly dir?: string
  /** Checkpoints kept (default 3). */
  readonly keepCheckpoints?: number
  /** The pipeline file the plan came from (recorded in the manifest; resume and reproduce load its plugins). */
  readonly source?: string
  /**
   * Called once a resume is certain: the folder is locked, the checkpoint chosen (newer ones that
   * do not read or belong to another pipeline or seed are in `skipped`, with why), checked against
   * the model and optimizer, and the backend is up. `rekindle resume` announces it here.
   */
  readonly onResume?: (resume: ResumeInfo) => Effect.Effect<void>
}

/** What a resumed run continues from (see `RunOptions.onResume`). */
export interface ResumeInfo {
  readonly dir: string
  readonly step: number
  readonly file: string
  readonly skipped: ReadonlyArray<{ readonly file: string; readonly problem: string }>
  /** Lines of the events files after the checkpoint that are not events (cut with the rest). */
  readonly badLines: ReadonlyArray<Resume.BadLine>
  readonly backend: BackendInfo
}

/** What a finished run reports. */
export interface RunResult {
  readonly dir: string
  readonly steps: number
  readonly finalLoss: number
  readonly finalEvalLoss?: number
  /** The checkpoint step the run resumed from, if it did. */
  readonly resumedFrom?: number
}

/** The services a run is composed of (see {@link layer}). */
export type RunServices = ClaimedFolder | Engine | Workload | StepHooks | RunSession | RunEvents

/**
 * The failures a run can end with: the user's to fix (exit 2), a plugin that could not build a
 * part, a run that failed at a step, or the file system failing the last manifest write.
 */
export type RunFailure = UserError | PluginError | RunError | PlatformError

/** Layers a test or host may swap when composing a run with {@link layer}. */
export interface Swaps {
  /** The backend (default `Engine.layer(plan.backend, options.backends)`; tests: `Engine.layerTest`, the cpu backend). */
  readonly engine?: Layer.Layer<Engine, UserError>
}

/**
 * The layers of one run, built in this order (each on the ones before it) and released in reverse:
 *
 * 1. `ClaimedFolder` (@rekindle/run): the folder claimed under its lock (fresh, replace, resume),
 *    before anything loads;
 * 2. `Engine` (@rekindle/engine): the backend, initialised;
 * 3. `Workload`: data, model, training loop;
 * 4. `StepHooks`: probes, signals, recycling, the pipeline's hooks, `options.hooks`;
 * 5. `RunSession`: the resumed checkpoint installed, the folder created or cut back,
 *    `pipeline.json` and `manifest.json` written (then `options.onResume` is told);
 * 6. `RunEvents`: the sinks acquired in the folder and the event bus over them.
 */
export const layer = (
  plan: RunPlan,
  options: RunOptions,
  swaps: Swaps = {}
): Layer.Layer<RunServices, RunFailure, FileSystem.FileSystem | Path.Path> => {
  const folder = ClaimedFolder.layer({
    name: plan.name,
    seed: plan.seed,
    resolved: plan.resolved,
    checkpointEvery: plan.train.checkpointEvery,
    outDir: options.outDir,
    ...(options.dir !== undefined ? { dir: options.dir } : {}),
    ...(options.existing !== undefined ? { existing: options.existing } : {})
  })
  const engine = swaps.engine ?? Engine.layer(plan.backend, options.backends)
  const session = RunSession.layer(plan, {
    ...(options.source !== undefined ? { source: options.source } : {}),
    ...(options.keepCheckpoints !== undefined ? { keep: options.keepCheckpoints } : {})
  })
  // a resume is announced once it is certain: locked, the checkpoint chosen, checked and installed, the backend up
  const announce = Layer.effectDiscard(Effect.gen(function*() {
    const { claim } = yield* ClaimedFolder
    const { info } = yield* Engine
    if (claim._tag !== "Resume" || options.onResume === undefined) return
    yield* options.onResume({
      dir: claim.dir,
      step: claim.checkpoint.state.step,
      file: claim.checkpoint.file,
      skipped: claim.skipped,
      badLines: claim.badLines,
      backend: info
    })
  }))
  // each `provideMerge` builds its argument first: the order above
  return RunEvents.layer(plan).pipe(
    Layer.provideMerge(announce),
    Layer.provideMerge(session),
    Layer.provideMerge(StepHooks.layer(plan, options.hooks)),
    Layer.provideMerge(Workload.layer(plan, options)),
    Layer.provideMerge(engine),
    Layer.provideMerge(folder)
  )
}

/**
 * The run itself, over the services of {@link layer}: `RunStarted`, the trainer's step loop with
 * checkpoints, then `RunFinished` and the manifest's `finished` (or `RunFailed` and `failed` /
 * `interrupted`).
 */
export const program = (plan: RunPlan) =>
  Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const { claim: { dir }, pipelineHash } = yield* ClaimedFolder
    const { info } = yield* Engine
    const { loop, model, stream, evalSet } = yield* Workload
    const { hooks, probes } = yield* StepHooks
    const session = yield* RunSession
    const { events: counted, warned } = yield* RunEvents
    const events = counted.bus
    const startedAt = new Date().toISOString()
    const checkpoint = session.checkpointer(counted, stream)

    yield* events.emit(Event.RunStarted.make({
      time: startedAt,
      run: path.basename(dir),
      pipelineHash,
      seed: plan.seed,
      backend: {
        name: info.name,
        threads: info.threads,
        simd: info.simd,
        overrides: info.overrides,
        ...(info.blas === undefined ? {} : { blas: info.blas })
      },
      parameters: model.parameterCount,
      steps: plan.train.steps,
      ...(session.resumedFrom !== undefined ? { resumedFrom: session.resumedFrom } : {})
    }))

    const result = yield* Trainer.train({
      loop,
      stream,
      evalSet,
      config: plan.train,
      hooks,
      ...(session.resumedFrom !== undefined ? { from: session.resumedFrom } : {}),
      ...(session.trainerState !== undefined ? { state: session.trainerState } : {}),
      checkpoint: (done, state, reason) =>
        checkpoint(done, state, reason).pipe(
          Effect.provideService(FileSystem.FileSystem, fs),
          Effect.provideService(Path.Path, path)
        )
    }).pipe(
      Effect.tap(() => (probes !== undefined ? probes.end(loop) : Effect.void)),
      Effect.provideService(EventBus, events),
      // every failure says what is left on disk to continue from
      Effect.mapError((e: RunError) => new RunError({ step: e.step, message: `${e.message}; ${session.kept()}` })),
      Effect.tapError((e: RunError) =>
        Effect.gen(function*() {
          yield* session.release
          yield* events.emit(Event.RunFailed.make({
            time: new Date().toISOString(),
            step: e.step,
            reason: "RunError",
            message: e.message
          })).pipe(Effect.ignore)
          yield* events.flush.pipe(Effect.ignore)
          yield* session.manifest("failed", {
            ...warned(),
            endedAt: new Date().toISOString(),
            error: e.message,
            exit: { status: "failed", code: 1 }
          }).pipe(Effect.ignore)
        })
      ),
      // SIGINT/SIGTERM: the trainer has written a checkpoint; say so in the events and the manifest
      Effect.onInterrupt(() =>
        Effect.gen(function*() {
          yield* session.release
          yield* events.emit(Event.RunFailed.make({
            time: new Date().toISOString(),
            step: loop.stepsDone(),
            reason: "Interrupted",
            message: `interrupted after step ${loop.stepsDone()}; continue with \`rekindle resume ${dir}\``
          })).pipe(Effect.ignore)
          yield* events.flush.pipe(Effect.ignore)
          yield* session.manifest("interrupted", {
            ...warned(),
            endedAt: new Date().toISOString(),
            exit: { status: "interrupted", code: 130 }
          }).pipe(Effect.ignore)
        })
      )
    )

    const endedAt = new Date().toISOString()
    yield* session.release
    yield* events.emit(Event.RunFinished.make({
      time: endedAt,
      step: result.steps,
      finalLoss: result.finalLoss,
      ...(result.finalEvalLoss !== undefined ? { finalEvalLoss: result.finalEvalLoss } : {})
    }))
    yield* events.flush
    yield* session.manifest("finished", { ...warned(), endedAt, exit: { status: "finished", code: 0 } })
    const out: RunResult = {
      dir,
      steps: result.steps,
      finalLoss: result.finalLoss,
      ...(result.finalEvalLoss !== undefined ? { finalEvalLoss: result.finalEvalLoss } : {}),
      ...(session.resumedFrom !== undefined ? { resumedFrom: session.resumedFrom } : {})
    }
    return out
  })

/**
 * Runs a plan, or resumes it; the run folder is `<outDir>/<name>-<hash>/` (see `RunOptions.existing`
 * for a folder that already exists). Every user error is raised before anything is written.
 * `swaps` replaces layers of the run (see {@link layer}).
 */
export const run = (plan: RunPlan, options: RunOptions, swaps: Swaps = {}): Effect.Effect<RunResult, RunFailure, FileSystem.FileSystem | Path.Path> =>
  program(plan).pipe(Effect.provide(layer(plan, options, swaps)))
