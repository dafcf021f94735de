/**
 * Faults and bad inputs, in-process through `Experiment.run` on the cpu backend (the tiny
 * project of harness.ts, a fixed vocabulary):
 * - interruption (the in-process stand-in for SIGINT) at seeded random steps, then resume: the
 *   final events equal the uninterrupted run's;
 * - a full disk while a checkpoint is written (a real ENOSPC: the temporary file is a symlink to
 *   /dev/full): the run fails with a clear message, the previous checkpoints survive, a resume
 *   completes identically;
 * - a non-finite loss: RunFailed names the step and the first non-finite parameter, the manifest
 *   says failed, and no checkpoint holds non-finite values;
 * - a checkpoint that does not fit the pipeline, an unwritable output folder, and a finished
 *   run: user errors, nothing written or changed.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Event, RunError, UserError } from "@rekindle/core"
import { builtins } from "@rekindle/builtins"
import { Compile, Registry } from "@rekindle/pipeline"
import { Checkpoint, Determinism } from "@rekindle/run"
import { type RunPlan, Runner } from "@rekindle/training"
import { Cause, Effect, Exit, Fiber } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { beforeAll } from "vitest"
import { lcg, readEvents, readJson, runFolder, tinyProject, type TinyOptions } from "./harness.ts"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-faults-"))
const cacheDir = path.join(root, "cache")
const steps = 60

const compile = (name: string, o: TinyOptions = {}, edit: (p: any) => any = (p) => p) =>
  Effect.gen(function*() {
    const { pipeline } = tinyProject(path.join(root, name), { steps, ...o })
    const registry = yield* Registry.make(builtins)
    return yield* Compile.compile(registry, edit(pipeline))
  })

const run = (plan: RunPlan, outDir: string, options: Partial<Runner.RunOptions> = {}) =>
  Runner.run(plan, { outDir, cacheDir, backends: [], ...options }).pipe(Effect.provide(NodeServices.layer))

/** The failure of a run (its error type is unknown: sinks may fail with anything). */
const failureOf = (eff: Effect.Effect<unknown, unknown>) => Effect.flip(eff).pipe(Effect.map((e) => e as Error))

/** Runs a plan in a fiber and interrupts it once its events reach `step`. */
const interruptAt = (plan: RunPlan, outDir: string, step: number) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.forkDetach(run(plan, outDir))
    yield* Effect.promise(() => new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const dir = runFolder(outDir)
        if (dir === undefined || !fs.existsSync(path.join(dir, "events.jsonl"))) return
        const m = [...fs.readFileSync(path.join(dir, "events.jsonl"), "utf8").matchAll(/"_tag":"TrainStep","step":(\d+)/g)]
        if (m.length > 0 && Number(m.at(-1)![1]) >= step) {
          clearInterval(timer)
          resolve()
        }
      }, 2)
    }))
    const exit = yield* Fiber.interrupt(fiber).pipe(Effect.andThen(Fiber.await(fiber)))
    expect(Exit.isFailure(exit) && Cause.hasInterruptsOnly(exit.cause)).toBe(true)
    return runFolder(outDir)!
  })

const eventsOf = (dir: string) => readEvents(path.join(dir, "events.jsonl"))
let baseline: Array<Event.Event> = []
const expectBaseline = (events: ReadonlyArray<Event.Event>) => {
  const c = Determinism.compare(baseline, events)
  expect(c.equal, Determinism.describe(c, { expected: "uninterrupted", actual: "resumed" })).toBe(true)
}

describe("faults (in-process)", { timeout: 300_000 }, () => {
  beforeAll(async () => {
    const plan = await Effect.runPromise(compile("base"))
    const result = await Effect.runPromise(run(plan, path.join(root, "base", "out")))
    baseline = eventsOf(result.dir)
    expect(baseline.at(-1)?._tag).toBe("RunFinished")
  }, 120_000)

  it.effect("interrupted at seeded random steps and resumed: the final events equal the uninterrupted run's", () =>
    Effect.gen(function*() {
      const plan = yield* compile("base")
      const rnd = lcg(7)
      for (let i = 0; i < 3; i++) {
        const at = 2 + Math.floor(rnd() * (steps - 10))
        const out = path.join(root, `interrupt-${i}`)
        const dir = yield* interruptAt(plan, out, at)
        const manifest = readJson(path.join(dir, "manifest.json"))
        expect(manifest.status).toBe("interrupted")
        expect(manifest.checkpoint.step).toBe(manifest.stepsDone)
        expect(eventsOf(dir).at(-1)).toMatchObject({ _tag: "RunFailed", reason: "Interrupted" })
        const resumed = yield* run(plan, out, { existing: "resume" })
        expect(resumed.resumedFrom).toBe(manifest.stepsDone)
        expectBaseline(eventsOf(dir))
      }
    }))

  it.effect("a full disk while writing a checkpoint: clear failure, earlier checkpoints kept, resume completes identically", () =>
    Effect.gen(function*() {
      if (!fs.existsSync("/dev/full")) return
      const plan = yield* compile("base")
      const out = path.join(root, "enospc")
      const dir = yield* interruptAt(plan, out, 12)
      const stoppedAt: number = readJson(path.join(dir, "manifest.json")).stepsDone
      const next = (Math.floor(stoppedAt / 5) + 1) * 5
      const tmp = path.join(dir, Checkpoint.folder, `${Checkpoint.fileName(next)}.tmp-${process.pid}`)
      fs.symlinkSync("/dev/full", tmp)
      const before = fs.readdirSync(path.join(dir, Checkpoint.folder)).filter((n) => n.endsWith(".safetensors")).sort()

      const failed = yield* failureOf(run(plan, out, { existing: "resume" }))
      expect(failed).toBeInstanceOf(RunError)
      expect(failed.message).toContain(`the checkpoint after step ${next} could not be written`)
      expect(failed.message).toContain("the disk is full (ENOSPC")
      expect(failed.message).toContain(`the checkpoint after step ${stoppedAt} is kept`)
      const manifest = readJson(path.join(dir, "manifest.json"))
      expect(manifest.status).toBe("failed")
      expect(manifest.exit).toEqual({ status: "failed", code: 1 })
      expect(eventsOf(dir).at(-1)).toMatchObject({ _tag: "RunFailed", step: next })
      // the earlier checkpoints are intact and load; the temporary file is gone
      const after = fs.readdirSync(path.join(dir, Checkpoint.folder)).sort()
      expect(after).toEqual(before)
      for (const n of after) yield* Checkpoint.read(path.join(dir, Checkpoint.folder, n)).pipe(Effect.provide(NodeServices.layer))

      yield* run(plan, out, { existing: "resume" })
      expectBaseline(eventsOf(dir))
    }))

  it.effect("a non-finite loss stops the run naming the step and parameter; no checkpoint holds non-finite values", () =>
    Effect.gen(function*() {
      const plan = yield* compile("nan", { lr: 1e6, recycling: false, checkpointEvery: 1 }, (p) => ({ ...p, optimizer: { use: "optim/sgd", lr: 1e6 } }))
      const out = path.join(root, "nan", "out")
      const failed = yield* failureOf(run(plan, out))
      expect(failed).toBeInstanceOf(RunError)
      const dir = runFolder(out)!
      const last = eventsOf(dir).at(-1)!
      expect(last._tag).toBe("RunFailed")
      if (last._tag !== "RunFailed") return
      expect(last.message).toMatch(new RegExp(`step ${last.step}`))
      expect(last.message).toMatch(/first non-finite parameter: \S+|the forward pass overflowed|is not finite/)
      const manifest = readJson(path.join(dir, "manifest.json"))
      expect(manifest.status).toBe("failed")
      expect(manifest.error).toBe(last.message)
      const saved = yield* Checkpoint.latest(dir).pipe(Effect.provide(NodeServices.layer))
      for (const e of Object.values(saved.checkpoint?.entries ?? {})) {
        expect(Array.from(e.data as Float32Array).every(Number.isFinite)).toBe(true)
      }
      if (saved.checkpoint !== undefined) expect(saved.checkpoint.state.step).toBeLessThan(last.step)
    }))

  it.effect("user errors write or change nothing: a checkpoint that does not fit, an unwritable folder, a finished run", () =>
    Effect.gen(function*() {
      // a checkpoint whose shapes do not match the model (same pipeline hash, other dFF)
      const plan = yield* compile("base")
      const out = path.join(root, "misfit")
      const dir = yield* interruptAt(plan, out, 8)
      const wider = yield* compile("wider", { dFF: 48 })
      const snapshot = () => fs.readdirSync(dir).sort().map((n) => [n, fs.statSync(path.join(dir, n)).mtimeMs])
      const before = snapshot()
      const misfit = yield* failureOf(run({ ...wider, resolved: plan.resolved }, out, { existing: "resume" }))
      expect(misfit).toBeInstanceOf(UserError)
      expect(misfit.message).toContain("does not fit the pipeline")
      expect(misfit.message).toContain("param/layers.0.ff.win has shape [16, 32] but the pipeline's model needs [16, 48]")
      expect(snapshot()).toEqual(before)

      // an output folder that cannot be created (its parent is a file)
      const blocker = path.join(root, "a-file")
      fs.writeFileSync(blocker, "")
      const unwritable = yield* failureOf(run(plan, path.join(blocker, "runs")))
      expect(unwritable).toBeInstanceOf(UserError)
      expect(unwritable.message).toMatch(/cannot create .*a parent path is a file, not a folder \(ENOTDIR/)
      expect(fs.statSync(blocker).isFile()).toBe(true)

      // a finished run is not replaced unless asked to
      const finished = path.join(root, "base", "out")
      const finishedDir = runFolder(finished)!
      const events = fs.readFileSync(path.join(finishedDir, "events.jsonl"))
      const refused = yield* failureOf(run(plan, finished))
      expect(refused).toBeInstanceOf(UserError)
      expect(refused.message).toContain("already holds a finished run of this pipeline")
      expect(fs.readFileSync(path.join(finishedDir, "events.jsonl")).equals(events)).toBe(true)
      const replaced = yield* run(plan, finished, { existing: "replace" })
      expect(replaced.dir).toBe(finishedDir)
      expect(fs.readdirSync(finished)).toEqual([path.basename(finishedDir)])
      expectBaseline(eventsOf(finishedDir))
    }))
})
