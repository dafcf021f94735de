/**
 * The run-folder side of one `Experiment.run`: after the model, loop and hooks exist and before
 * anything is written, `open` checks a resumed checkpoint against the pipeline and installs it,
 * makes the folder claim real (fresh folder + lock, swap of an old folder, or events cut back to
 * the checkpoint), and writes `pipeline.json` and `manifest.json`. The session then writes
 * checkpoints for the trainer and keeps the manifest current. `RunSession.layer` opens it as the
 * run's session service, from the claimed folder, the backend, the workload and the step hooks.
 */
import { type BackendInfo, Event, EventBus, Files, RunError, type StepHook, UserError } from "@rekindle/core"
import type { BatchStream } from "@rekindle/data"
import { Engine } from "@rekindle/engine"
import { Context, Effect, FileSystem, Layer, Path } from "effect"
import type { PlatformError } from "effect/PlatformError"
import { Checkpoint, ClaimedFolder, type Manifest, Manifests, Reserve, Resume, type TrainerState, writeJsonAtomic } from "@rekindle/run"
import type { RunPlan } from "./RunPlan.ts"
import { StepHooks } from "./StepHooks.ts"
import { type Trainer, TrainLoop } from "@rekindle/loop"
import { Workload } from "./Workload.ts"

/** What `open` needs. */
export interface OpenInput {
  readonly claim: Resume.Claim
  readonly plan: Pick<RunPlan, "name" | "seed" | "resolved" | "train">
  readonly pipelineHash: string
  readonly info: BackendInfo
  readonly loop: TrainLoop.TrainLoop
  readonly hooks: ReadonlyArray<StepHook>
  readonly source?: string
  readonly keep?: number
}

/** An events bus that counts the events it has emitted (= lines of events.jsonl). */
export interface Counted {
  readonly bus: EventBus["Service"]
  readonly count: () => number
}

/** Wraps an events bus with a line counter starting at `start`. */
export const counted = (bus: EventBus["Service"], start: number): Counted => {
  let n = start
  return {
    bus: EventBus.of({ emit: (e) => bus.emit(e).pipe(Effect.tap(() => Effect.sync(() => void n++))), flush: bus.flush }),
    count: () => n
  }
}

/** An open run folder. */
export interface Session {
  readonly dir: string
  /** The step the run resumes from, if it does. */
  readonly resumedFrom: number | undefined
  /** The trainer state saved with the checkpoint resumed from. */
  readonly trainerState: TrainerState | undefined
  /** Lines of events.jsonl already written (the checkpoint's count on resume, else 0). */
  readonly eventsSoFar: number
  /** Newer checkpoints that could not be used (resume), with why. */
  readonly skipped: ReadonlyArray<{ readonly file: string; readonly problem: string }>
  /** Writes manifest.json with a status and extra fields. */
  readonly manifest: (status: Manifest["status"], extra?: Partial<Manifest>) => Effect.Effect<void, PlatformError, FileSystem.FileSystem | Path.Path>
  /**
   * What a failed run leaves on disk to continue from, in words: the newest checkpoint, or that
   * there is none (the parameters in memory are lost with the process).
   */
  readonly kept: () => string
  /** Frees the space the session holds back (call before a run's last writes: RunFailed, RunFinished, the manifest). */
  readonly release: Effect.Effect<void, never, FileSystem.FileSystem>
  /** The trainer's checkpoint callback, over the run's counted events bus and data stream. */
  readonly checkpointer: (events: Counted, stream: BatchStream) => (done: number, state: TrainerState, reason: Trainer.CheckpointReason) => Effect.Effect<void, RunError, FileSystem.FileSystem | Path.Path>
}

/** The first non-finite parameter or optimizer slot, described, or undefined when all are finite. */
export const nonFinite = (loop: TrainLoop.TrainLoop): string | undefined => {
  const params = TrainLoop.nonFiniteParams(loop.params)
  if (params.length > 0) return `parameter ${params[0]} is not finite`
  const slots = loop.optState().slots
  for (const slot of Object.keys(slots).sort()) {
    const bad = TrainLoop.nonFiniteParams(slots[slot]!)
    if (bad.length > 0) return `optimizer slot ${slot} of ${bad[0]} is not finite`
  }
  return undefined
}

const fitError = (file: string, problems: ReadonlyArray<string>) =>
  new UserError({
    message: `checkpoint ${file} does not fit the pipeline:\n` + problems.map((p) => `  ${p}`).join("\n"),
    problems: problems.map((message) => ({ path: file, message }))
  })

/** Checks and installs a resumed checkpoint, then creates or updates the run folder's files. */
export const open = (input: OpenInput) =>
  Effect.gen(function*() {
    const path = yield* Path.Path
    const { claim, loop, plan } = input
    const dir = claim.dir
    const stateful = input.hooks.flatMap((h) => (h.state !== undefined ? [h.state] : []))
    let resumedFrom: number | undefined
    let trainerState: TrainerState | undefined
    let eventsSoFar = 0
    if (claim._tag === "Resume") {
      const c = claim.checkpoint
      const problems = Checkpoint.mismatches(c, Checkpoint.expectedOf(loop))
      const missing = stateful.filter((h) => !Object.hasOwn(c.state.hooks, h.name)).map((h) => `no saved state for hook "${h.name}"`)
      if (problems.length + missing.length > 0) return yield* fitError(c.file, [...problems, ...missing])
      yield* Effect.try({
        try: () => Checkpoint.apply(c, loop, stateful),
        catch: (e) => fitError(c.file, [e instanceof Error ? e.message : String(e)])
      })
      resumedFrom = c.state.step
      trainerState = Checkpoint.trainerFromJson(c.state.trainer)
      eventsSoFar = c.state.events
    }
    yield* Resume.materialize(claim, Resume.eventFiles(plan.resolved))
    // room kept back for the last words of a run that fills the disk (RunFailed, the manifest)
    const reserve = yield* Effect.acquireRelease(Reserve.make(dir), (r) => r.release)

    const now = new Date().toISOString()
    const previous = claim._tag === "Resume" ? claim.previous : undefined
    const base = Manifests.make({
      name: plan.name,
      resolved: plan.resolved,
      seed: plan.seed,
      steps: plan.train.steps,
      backend: input.info,
      ...(input.source !== undefined ? { source: input.source } : previous?.source !== undefined ? { source: previous.source } : {}),
      startedAt: previous?.startedAt ?? now
    })
    const resumes = [
      ...(previous?.resumes ?? []),
      ...(resumedFrom !== undefined ? [{ at: now, fromStep: resumedFrom }] : [])
    ]
    let last: Manifest["checkpoint"] = resumedFrom !== undefined && claim._tag === "Resume"
      ? { step: resumedFrom, file: path.relative(dir, claim.checkpoint.file) }
      : undefined
    const manifestFile = path.join(dir, "manifest.json")
    const manifest = (status: Manifest["status"], extra: Partial<Manifest> = {}) =>
      Manifests.write(manifestFile, {
        ...base,
        status,
        stepsDone: loop.stepsDone(),
        ...(resumes.length > 0 ? { resumes } : {}),
        ...(last !== undefined ? { checkpoint: last } : {}),
        ...extra
      })
    const cannotWrite = (what: string) => (e: unknown) =>
      new UserError({ message: `${what}: ${Files.describe(e)}${claim._tag === "Resume" ? "" : `; nothing was run (run it again when there is room)`}` })
    if (claim._tag !== "Resume") {
      yield* writeJsonAtomic(path.join(dir, "pipeline.json"), plan.resolved).pipe(Effect.mapError(cannotWrite(`cannot write ${dir}/pipeline.json`)))
    }
    yield* manifest("running").pipe(Effect.mapError(cannotWrite(`cannot write ${manifestFile}`)))

    const checkpointer = (events: Counted, stream: BatchStream) =>
    (done: number, state: TrainerState, reason: Trainer.CheckpointReason) =>
      Effect.gen(function*() {
        const rel = path.join(Checkpoint.folder, Checkpoint.fileName(done))
        const bad = nonFinite(loop)
        if (bad !== undefined) {
          return yield* new RunError({
            step: done,
            message: `${bad} after step ${done}; no checkpoint is written for it`
          })
        }
        if (reason === "scheduled") yield* events.bus.emit(Event.Checkpoint.make({ step: done, path: rel }))
        yield* events.bus.flush
        const bytes = yield* Effect.try({
          try: () =>
            Checkpoint.encode({
              state: {
                step: done,
                seed: plan.seed,
                pipelineHash: input.pipelineHash,
                reason,
                time: new Date().toISOString(),
                events: events.count(),
                stream: stream.position(),
                trainer: Checkpoint.trainerToJson(state),
                hooks: {},
                rng: { seed: plan.seed, step: done }
              },
              params: loop.params,
              opt: loop.optState(),
              hooks: stateful
            }),
          catch: (e) => new RunError({ step: done, message: `checkpoint after step ${done}: ${e instanceof Error ? e.message : String(e)}` })
        })
        yield* Checkpoint.write(dir, done, bytes, input.keep ?? Checkpoint.defaultKeep).pipe(
          Effect.mapError((e) =>
            new RunError({
              step: done,
              message: `the checkpoint after step ${done} could not be written to ${path.join(dir, rel)}: ${Files.describe(e)}`
            })
          )
        )
        last = { step: done, file: rel }
        yield* manifest(reason === "interrupt" ? "interrupted" : "running").pipe(Effect.ignore)
      })

    const every = plan.train.checkpointEvery
    const kept = () =>
      last !== undefined
        ? `the checkpoint after step ${last.step} is kept (\`rekindle resume ${dir}\` continues from it)`
        : `nothing is kept on disk to continue from: no checkpoint was written yet (${
          every > 0 ? `train.checkpointEvery is ${every}` : "train.checkpointEvery is 0: checkpoints are off"
        }); the run must start again`

    const session: Session = {
      dir,
      kept,
      release: reserve.release,
      resumedFrom,
      trainerState,
      eventsSoFar,
      skipped: claim._tag === "Resume" ? claim.skipped : [],
      manifest,
      checkpointer
    }
    return session
  })

/** The run's open session (see {@link open}), as a service. */
export class RunSession extends Context.Service<RunSession, Session>()("@rekindle/training/RunSession") {
  /**
   * Opens the session over the claimed folder once the backend, the workload and the step hooks
   * exist: a resumed checkpoint is checked and installed, then the folder is created, swapped or
   * cut back and `pipeline.json` and `manifest.json` are written.
   */
  static readonly layer = (
    plan: OpenInput["plan"],
    options: { readonly source?: string; readonly keep?: number } = {}
  ): Layer.Layer<RunSession, UserError, ClaimedFolder | Engine | Workload | StepHooks | FileSystem.FileSystem | Path.Path> =>
    Layer.effect(
      RunSession,
      Effect.gen(function*() {
        const { claim, pipelineHash } = yield* ClaimedFolder
        const { info } = yield* Engine
        const { loop } = yield* Workload
        const { hooks } = yield* StepHooks
        return yield* open({ claim, plan, pipelineHash, info, loop, hooks, ...options })
      })
    )
}
