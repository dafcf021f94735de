/**
 * An Experiment runs one RunPlan end to end: backend, data, model, run folder, sinks, the step
 * loop, and the bookkeeping files (pipeline.json, manifest.json). It is the only place that knows
 * the order of things.
 */
import { type BackendInfo, type BackendProvider, Event, Key, RunDir, RunError, UserError } from "@rekindle/core"
import { Data } from "@rekindle/data"
import { Backends } from "@rekindle/engine"
import { Model, Transformer } from "@rekindle/model"
import * as tf from "@tensorflow/tfjs-core"
import { execFileSync } from "node:child_process"
import { Effect, FileSystem, Path } from "effect"
import { Events } from "./Events.ts"
import { hooks as experimentHooks } from "./experiments/index.ts"
import { folderName, hashOf, type Manifest, writeJsonAtomic } from "./RunFolder.ts"
import * as ProbeHook from "./probes/Hook.ts"
import type { RunPlan } from "./RunPlan.ts"
import * as Recycler from "./recycling/Recycler.ts"
import { hook as recyclingHook } from "./recycling/Service.ts"
import { train, type StepHook } from "./Trainer.ts"
import * as TrainLoop from "./TrainLoop.ts"

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
}

/** What a finished run reports. */
export interface RunResult {
  readonly dir: string
  readonly steps: number
  readonly finalLoss: number
  readonly finalEvalLoss?: number
}

const gitCommit = (): string | undefined => {
  try {
    return execFileSync("git", ["rev-parse", "HEAD"], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim()
  } catch {
    return undefined
  }
}

const versions = (): Record<string, string> => ({
  rekindle: "0.1.0",
  "@tensorflow/tfjs-core": tf.version_core
})

/** Runs synchronous setup code whose `UserError`s (thrown by data batching) become failures. */
const attempt = <A>(f: () => A): Effect.Effect<A, UserError> =>
  Effect.try({ try: f, catch: (e) => e }).pipe(
    Effect.catch((e) => (e instanceof UserError ? Effect.fail(e) : Effect.die(e)))
  )

/** Runs a plan; the run folder is `<outDir>/<name>-<hash>/` (replaced if it exists). */
export const run = (plan: RunPlan, options: RunOptions) =>
  Effect.scoped(Effect.gen(function*() {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const info: BackendInfo = yield* Backends.init(plan.backend, options.backends)
    const root = Key.make(plan.seed)
    const dataset = yield* Data.load(plan.data, { cacheDir: options.cacheDir, key: Key.split(root, "split") })
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
    const stream = yield* attempt(() => Data.trainStream(dataset, { ...batchOptions, key: Key.split(root, "data") }))
    const evalSet = yield* Effect.acquireRelease(
      attempt(() =>
        Data.evalBatches(dataset, { ...batchOptions, key: Key.split(root, "eval"), count: plan.train.evalBatches })
          .map(Model.toTensors)
      ),
      (bs) => Effect.sync(() => bs.forEach(Model.disposeBatch))
    )

    // One fixed held-out batch for criteria and probes that measure activations.
    const probe = yield* Effect.acquireRelease(
      attempt(() =>
        Model.toTensors(Data.evalBatches(dataset, { ...batchOptions, key: Key.split(root, "probe"), count: 1 })[0]!)
      ),
      (b) => Effect.sync(() => Model.disposeBatch(b))
    )
    const dir = path.resolve(options.outDir, folderName(plan.name, plan.resolved))
    if (yield* fs.exists(dir)) yield* fs.remove(dir, { recursive: true })
    yield* fs.makeDirectory(dir, { recursive: true })
    const startedAt = new Date().toISOString()
    const git = gitCommit()
    const manifest = (status: Manifest["status"], extra: Partial<Manifest>): Manifest => ({
      name: plan.name,
      pipelineHash: hashOf(plan.resolved),
      seed: plan.seed,
      status,
      startedAt,
      steps: plan.train.steps,
      stepsDone: 0,
      backend: { name: info.name, threads: info.threads, simd: info.simd },
      versions: versions(),
      node: process.version,
      ...(git !== undefined ? { git } : {}),
      ...extra
    })
    yield* writeJsonAtomic(path.join(dir, "pipeline.json"), plan.resolved)
    yield* writeJsonAtomic(path.join(dir, "manifest.json"), manifest("running", {}))

    const sinks = yield* Effect.forEach(plan.sinks, (s) => s.acquire).pipe(
      Effect.provideService(RunDir, RunDir.of({ path: dir }))
    )
    const events = yield* Events.make(sinks)
    yield* Effect.addFinalizer(() => events.flush.pipe(Effect.ignore))

    const loop = yield* Effect.acquireRelease(
      Effect.sync(() => TrainLoop.make(model, plan.optimizer.optimizer, model.init(Key.split(root, "init")))),
      (l) => Effect.sync(() => l.dispose())
    )
    const hooks: Array<StepHook> = []
    let recycling: Recycler.Recycler | undefined
    if (plan.recycling.length > 0) {
      const recycler = yield* Effect.acquireRelease(
        Effect.sync(() => Recycler.make({ model, stages: plan.recycling, key: root, probe })),
        (r) => Effect.sync(() => r.dispose())
      )
      hooks.push(recyclingHook(recycler))
      recycling = recycler
    }
    hooks.push(...(yield* experimentHooks(plan, { model, key: root, probe })))
    hooks.push(...(options.hooks ?? []))
    // probes run first, so they see each step's state before that step's recycling
    const probes = plan.probes.length === 0 ? undefined : ProbeHook.make({
      model,
      probes: plan.probes,
      batch: probe,
      ...(recycling !== undefined ? { lineage: recycling.lineageView, forward: recycling.forwardOptions } : {})
    })
    if (probes !== undefined) hooks.unshift(probes)

    yield* events.emit(Event.RunStarted.make({
      time: startedAt,
      run: path.basename(dir),
      pipelineHash: hashOf(plan.resolved),
      seed: plan.seed,
      backend: { name: info.name, threads: info.threads, simd: info.simd, overrides: info.overrides },
      parameters: model.parameterCount,
      steps: plan.train.steps
    }))

    const result = yield* train({
      loop,
      stream,
      evalSet,
      config: plan.train,
      hooks
    }).pipe(
      Effect.tap(() => (probes !== undefined ? probes.end(loop) : Effect.void)),
      Effect.provideService(Events, events),
      Effect.tapError((e: RunError) =>
        Effect.gen(function*() {
          yield* events.emit(Event.RunFailed.make({
            time: new Date().toISOString(),
            step: e.step,
            reason: "RunError",
            message: e.message
          })).pipe(Effect.ignore)
          yield* events.flush.pipe(Effect.ignore)
          yield* writeJsonAtomic(path.join(dir, "manifest.json"), manifest("failed", {
            endedAt: new Date().toISOString(),
            stepsDone: loop.stepsDone(),
            error: e.message
          })).pipe(Effect.ignore)
        })
      )
    )

    const endedAt = new Date().toISOString()
    yield* events.emit(Event.RunFinished.make({
      time: endedAt,
      step: result.steps,
      finalLoss: result.finalLoss,
      ...(result.finalEvalLoss !== undefined ? { finalEvalLoss: result.finalEvalLoss } : {})
    }))
    yield* events.flush
    yield* writeJsonAtomic(path.join(dir, "manifest.json"), manifest("finished", { endedAt, stepsDone: result.steps }))
    const out: RunResult = {
      dir,
      steps: result.steps,
      finalLoss: result.finalLoss,
      ...(result.finalEvalLoss !== undefined ? { finalEvalLoss: result.finalEvalLoss } : {})
    }
    return out
  }))
