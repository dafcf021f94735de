/**
 * The Runner runs one RunPlan end to end: backend, data, model, run folder, sinks, the step
 * loop, and the bookkeeping files (pipeline.json, manifest.json). It is the only place that knows
 * the order of things.
 */
import { type BackendInfo, type BackendProvider, Event, EventBus, FileErrors, Key, RunDir, RunError, type Sink, type StepHook, UserError } from "@rekindle/core"
import { Datasets } from "@rekindle/data"
import { Backends } from "@rekindle/engine"
import { Model, Transformer } from "@rekindle/model"
import { Recycler, hook as recyclingHook, SignalConsumers, SignalHook, SignalHost, state as recyclingState } from "@rekindle/recycling"
import { Trainer, TrainLoop } from "@rekindle/loop"
import { folderName, hashOf, Resume } from "@rekindle/run"
import { type Cause, Effect, FileSystem, Path } from "effect"
import * as Session from "./Session.ts"
import * as ProbeHook from "./probes/Hook.ts"
import type { RunPlan } from "./RunPlan.ts"

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

/** Runs synchronous setup code whose `UserError`s (thrown by data batching) become failures. */
const attempt = <A>(f: () => A): Effect.Effect<A, UserError> =>
  Effect.try({ try: f, catch: (e) => e }).pipe(
    Effect.catch((e) => (e instanceof UserError ? Effect.fail(e) : Effect.die(e)))
  )

/**
 * Runs a plan, or resumes it; the run folder is `<outDir>/<name>-<hash>/` (see `RunOptions.existing`
 * for a folder that already exists). Every user error is raised before anything is written.
 */
export const run = (plan: RunPlan, options: RunOptions) =>
  Effect.scoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = options.dir !== undefined ? path.resolve(options.dir) : path.resolve(options.outDir, folderName(plan.name, plan.resolved))
    const pipelineHash = hashOf(plan.resolved)
    // what to do with an existing folder is decided (under its lock) before anything loads
    const claim = yield* Resume.claim(dir, {
      seed: plan.seed,
      pipelineHash,
      checkpointEvery: plan.train.checkpointEvery,
      eventFiles: Resume.eventFiles(plan.resolved)
    }, options.existing ?? "refuse")
    const from = claim._tag === "Resume" ? claim.checkpoint.state.stream : undefined
    const info: BackendInfo = yield* Backends.init(plan.backend, options.backends)
    const root = Key.make(plan.seed)
    const dataset = yield* Datasets.load(plan.data, { cacheDir: options.cacheDir, key: Key.split(root, "split") })
    const vocabSize = dataset.tokenizer.vocabSize
    if (plan.model.vocabSize !== undefined && plan.model.vocabSize !== vocabSize) {
      return yield* new UserError({
        message: `model.vocabSize: the pipeline says ${plan.model.vocabSize} but the tokenizer has ${vocabSize} entries; ` +
          `omit model.vocabSize to use the tokenizer's`
      })
    }
    const model = Transformer.make({ ...plan.model, vocabSize })

    const batchOptions = {
      batchSize: plan.train.batchSize,
      seqLen: plan.model.seqLen,
      objective: plan.data.objective,
      masking: plan.data.masking
    }
    const stream = yield* attempt(() =>
      Datasets.trainStream(dataset, { ...batchOptions, key: Key.split(root, "data"), ...(from !== undefined ? { from } : {}) })
    )
    const evalSet = yield* Effect.acquireRelease(
      attempt(() =>
        Datasets.evalBatches(dataset, { ...batchOptions, key: Key.split(root, "eval"), count: plan.train.evalBatches })
          .map(Model.toTensors)
      ),
      (bs) => Effect.sync(() => bs.forEach(Model.disposeBatch))
    )

    // One fixed held-out batch for criteria and probes that measure activations.
    const probe = yield* Effect.acquireRelease(
      attempt(() =>
        Model.toTensors(Datasets.evalBatches(dataset, { ...batchOptions, key: Key.split(root, "probe"), count: 1 })[0]!)
      ),
      (b) => Effect.sync(() => Model.disposeBatch(b))
    )
    const loop = yield* Effect.acquireRelease(
      Effect.sync(() => TrainLoop.make(model, plan.optimizer.optimizer, model.init(Key.split(root, "init")))),
      (l) => Effect.sync(() => l.dispose())
    )
    const hooks: Array<StepHook> = []
    // the signals parts asked for, measured inside the steps (no host, no observer: nothing asked)
    const bound = plan.signals ?? []
    const signals = bound.length === 0 ? undefined : yield* Effect.acquireRelease(
      attempt(() => SignalHost.make({ topology: model.topology, config: model.config, bound, probe })),
      (h) => Effect.sync(() => h.dispose())
    )
    if (signals !== undefined) hooks.push(SignalHook.hook(signals))
    let recycling: Recycler.Recycler | undefined
    if (plan.recycling.length > 0) {
      const recycler = yield* Effect.acquireRelease(
        Effect.sync(() => Recycler.make({ model, stages: plan.recycling, key: root, probe, ...(signals !== undefined ? { signals } : {}) })),
        (r) => Effect.sync(() => r.dispose())
      )
      hooks.push({ ...recyclingHook(recycler), state: recyclingState(recycler) })
      recycling = recycler
    }
    // the pipeline's step hooks (hooks/pruning, hooks/retrain, ...), built now that the model exists
    for (const [i, h] of plan.hooks.entries()) {
      const consumer = SignalConsumers.hookConsumer(i)
      const read = signals !== undefined && signals.has(consumer) ? { signals: () => signals.read(consumer) } : {}
      hooks.push(yield* h.hook.build({ model, key: root, logEvery: plan.train.logEvery, probe, ...read }))
    }
    hooks.push(...(options.hooks ?? []))
    // probes run first, so they see each step's state before that step's recycling
    const probes = plan.probes.length === 0 ? undefined : ProbeHook.make({
      model,
      probes: plan.probes,
      batch: probe,
      ...(recycling !== undefined ? { lineage: recycling.lineageView, forward: recycling.forwardOptions } : {}),
      ...(signals !== undefined ? { signals } : {})
    })
    if (probes !== undefined) hooks.unshift(probes)

    // a resumed checkpoint is checked and installed, then the folder is created, swapped or cut back
    const session = yield* Session.open({
      claim,
      plan,
      pipelineHash,
      info,
      loop,
      hooks,
      ...(options.source !== undefined ? { source: options.source } : {}),
      ...(options.keepCheckpoints !== undefined ? { keep: options.keepCheckpoints } : {})
    })
    if (claim._tag === "Resume" && options.onResume !== undefined) {
      yield* options.onResume({
        dir,
        step: claim.checkpoint.state.step,
        file: claim.checkpoint.file,
        skipped: claim.skipped,
        badLines: claim.badLines,
        backend: info
      })
    }
    const startedAt = new Date().toISOString()
    const sinks = yield* Effect.forEach(plan.sinks, (s) => s.acquire).pipe(
      Effect.provideService(RunDir, RunDir.of({ path: dir }))
    )
    // a backend fallback and failures of optional sinks (dropped by the bus with a warning) are recorded in the manifest
    const warnings: Array<string> = info.fallback !== undefined
      ? [`${info.name} ran on ${info.threads} thread${info.threads === 1 ? "" : "s"}, not the ${plan.backend.threads ?? "all available"} asked for: ${info.fallback}`]
      : []
    const noted = sinks.map((sink): Sink =>
      sink.required ? sink : {
        ...sink,
        write: (event) => sink.write(event).pipe(Effect.tapCause((c) => note(sink, c))),
        flush: sink.flush.pipe(Effect.tapCause((c) => note(sink, c)))
      }
    )
    const note = (sink: Sink, cause: Cause.Cause<unknown>) =>
      Effect.sync(() => void warnings.push(`sink ${sink.name} failed and was removed: ${FileErrors.describeCause(cause)}`))
    const warned = () => (warnings.length > 0 ? { warnings: [...warnings] } : {})
    const counted = Session.counted(yield* EventBus.make(noted), session.eventsSoFar)
    const events = counted.bus
    yield* Effect.addFinalizer(() => events.flush.pipe(Effect.ignore))
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
  }))
