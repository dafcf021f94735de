/**
 * Checkpoints at the trainer level: a run resumed from any checkpoint (weights, Adam slots with
 * per-element step state, recycler immunity/criterion state/lineage/blends, the trainer's partial
 * log window) emits exactly the events of the uninterrupted run; corrupt, truncated and
 * mismatched checkpoints are refused with messages naming the file and the tensor; writing is
 * atomic (a real ENOSPC from /dev/full leaves the old file and no temporary file); pruning keeps
 * the newest K.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Event, Key } from "@rekindle/core"
import { Backends } from "@rekindle/engine"
import { Model, Safetensors } from "@rekindle/model"
import { adam } from "@rekindle/plugin-optim"
import { smooth } from "@rekindle/plugin-reinit"
import { random, utility } from "@rekindle/plugin-select"
import * as tf from "@tensorflow/tfjs-core"
import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { EventBus, Files, type StepHook } from "@rekindle/core"
import { hook, Recycler, state as recyclingState } from "@rekindle/recycling"
import { Checkpoint, Determinism } from "@rekindle/run"
import * as Session from "../src/Session.ts"
import { Trainer, TrainLoop } from "@rekindle/loop"
import type { TrainerState } from "@rekindle/run"
import { stage } from "./recycling/helpers.ts"
import { countingStream } from "./Synthetic.ts"

const config = {
  dModel: 16, heads: 2, layers: 2, dFF: 24, seqLen: 8, vocabSize: 21,
  activation: "relu", ffBias: true, causal: false, finalLayerNorm: true
} as const
const train_ = { steps: 30, batchSize: 4, evalEvery: 8, evalBatches: 1, logEvery: 3, checkpointEvery: 5 }

/** A fresh training world: loop, stream, eval batch, recycler with stateful parts, hooks. */
const world = (dFF: number = config.dFF) => {
  const model = Model.make({ ...config, dFF })
  const loop = TrainLoop.make(model, adam({ lr: 5e-3 }), model.init(Key.make(1)))
  const stream = countingStream({ batchSize: 4, seqLen: config.seqLen, vocabSize: config.vocabSize, seed: 2 })
  const evalSet = [Model.toTensors(countingStream({ batchSize: 4, seqLen: config.seqLen, vocabSize: config.vocabSize, seed: 9 }).next())]
  const recycler = Recycler.make({
    model,
    key: Key.make(1),
    probe: evalSet[0]!,
    stages: [
      stage({
        schedule: { every: 6, from: 4 },
        criterion: ["select/utility", utility({ decay: 0.9, every: 2 })],
        reinit: ["reinit/smooth", smooth({ steps: 7 })],
        optimizerState: "zero-moments-and-step",
        immunity: 2,
        shadow: [["select/random", random()]]
      })
    ]
  })
  const hooks: Array<StepHook> = [{ ...hook(recycler), state: recyclingState(recycler) }]
  return {
    loop,
    stream,
    evalSet,
    hooks,
    dispose: () => {
      loop.dispose()
      recycler.dispose()
      evalSet.forEach(Model.disposeBatch)
    }
  }
}

/** A checkpoint callback keeping encoded bytes in memory, with the events emitted so far. */
const memoryCheckpoints = (w: ReturnType<typeof world>, events: ReadonlyArray<Event.Event>) => {
  const saved = new Map<number, Uint8Array>()
  const cb = (done: number, state: TrainerState) =>
    Effect.sync(() => {
      saved.set(done, Checkpoint.encode({
        state: {
          step: done, seed: 1, pipelineHash: "test", reason: "scheduled", time: "t", events: events.length,
          stream: w.stream.position(), trainer: Checkpoint.trainerToJson(state), hooks: {}, rng: { seed: 1, step: done }
        },
        params: w.loop.params,
        opt: w.loop.optState(),
        hooks: w.hooks.flatMap((h) => (h.state !== undefined ? [h.state] : []))
      }))
    })
  return { saved, cb }
}

describe("checkpoints (trainer level)", () => {
  it.effect("resuming from every checkpoint reproduces the uninterrupted run's events exactly", () =>
    Effect.gen(function*() {
      yield* Backends.init({ name: "cpu" }, [])
      const full = world()
      const { bus, events } = EventBus.memory()
      const mem = memoryCheckpoints(full, events)
      yield* Trainer.train({ ...full, config: train_, checkpoint: mem.cb }).pipe(Effect.provideService(EventBus, bus))
      full.dispose()
      expect([...mem.saved.keys()]).toEqual([5, 10, 15, 20, 25, 30])
      expect(events.some((e) => e._tag === "Recycle")).toBe(true)
      const tensorsBefore = tf.memory().numTensors

      for (const step of [5, 10, 20]) {
        const c = yield* Checkpoint.decode(mem.saved.get(step)!, `step-${step}`)
        expect(c.state.step).toBe(step)
        const w = world()
        expect(Checkpoint.mismatches(c, Checkpoint.expectedOf(w.loop))).toEqual([])
        Checkpoint.apply(c, w.loop, w.hooks.flatMap((h) => (h.state !== undefined ? [h.state] : [])))
        for (let i = 0; i < c.state.stream.index; i++) w.stream.next() // the counting stream resumes by skipping
        const resumed = EventBus.memory()
        yield* Trainer.train({ ...w, config: train_, from: step, state: Checkpoint.trainerFromJson(c.state.trainer) }).pipe(
          Effect.provideService(EventBus, resumed.bus)
        )
        const comparison = Determinism.compare(events.slice(c.state.events), resumed.events)
        expect(comparison.difference).toBeUndefined()
        expect(comparison.equal).toBe(true)
        expect(resumed.events.length).toBe(events.length - c.state.events)
        w.dispose()
      }
      expect(tf.memory().numTensors).toBe(tensorsBefore)
    }))

  it.effect("a checkpoint that does not fit the model is refused, naming the tensor and both shapes", () =>
    Effect.gen(function*() {
      yield* Backends.init({ name: "cpu" }, [])
      const a = world()
      const bytes = Checkpoint.encode({
        state: {
          step: 0, seed: 1, pipelineHash: "h", reason: "scheduled", time: "t", events: 0, stream: { epoch: 0, index: 0 },
          trainer: Checkpoint.trainerToJson({ windowLosses: [], windowTokens: 0, lastLoss: Number.NaN, lastEvalStep: -1 }),
          hooks: {}, rng: { seed: 1, step: 0 }
        },
        params: a.loop.params,
        opt: a.loop.optState(),
        hooks: []
      })
      a.dispose()
      const c = yield* Checkpoint.decode(bytes, "x.safetensors")
      expect(c.state.trainer.lastLoss).toBe("NaN")
      const b = world(40)
      const problems = Checkpoint.mismatches(c, Checkpoint.expectedOf(b.loop))
      b.dispose()
      expect(problems).toContain("param/layers.0.ff.win has shape [16, 24] but the pipeline's model needs [16, 40]")
      expect(problems.some((p) => p.startsWith("opt/adam.mu/layers.1.ff.wout has shape [24, 16]"))).toBe(true)
    }))
})

describe("resume guard", () => {
  it.effect("a checkpoint without the saved state of one of the run's stateful hooks is refused; nothing is touched", () =>
    Effect.gen(function*() {
      yield* Backends.init({ name: "cpu" }, [])
      const w = world()
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-guard-"))
      const bytes = Checkpoint.encode({
        state: {
          step: 5, seed: 1, pipelineHash: "h", reason: "scheduled", time: "t", events: 0, stream: { epoch: 0, index: 20 },
          trainer: Checkpoint.trainerToJson({ windowLosses: [], windowTokens: 0, lastLoss: 1, lastEvalStep: -1 }),
          hooks: {}, rng: { seed: 1, step: 5 }
        },
        params: w.loop.params,
        opt: w.loop.optState(),
        hooks: []
      })
      const checkpoint = yield* Checkpoint.decode(bytes, "c")
      const open = (extra: object) =>
        Session.open({
          claim: { _tag: "Resume", dir, checkpoint, skipped: [], badLines: [], previous: undefined },
          plan: { name: "x", seed: 1, resolved: {}, train: train_, ...extra } as any,
          pipelineHash: "h",
          info: { name: "cpu", threads: 1, simd: false, overrides: false } as any,
          loop: w.loop,
          hooks: w.hooks
        }).pipe(Effect.scoped, Effect.provide(NodeServices.layer), Effect.flip)
      const e = yield* open({})
      expect(e.message).toContain(`no saved state for hook "recycling"`)
      expect(fs.readdirSync(dir)).toEqual([])
      expect(w.loop.stepsDone()).toBe(0)
      w.dispose()
    }))
})

const fixtureBytes = () => {
  const entries: Record<string, Safetensors.Entry> = {
    "param/w": { dtype: "F32", shape: [2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) },
    "opt/adam.mu/w": { dtype: "F32", shape: [2, 3], data: new Float32Array(6) }
  }
  const state = {
    format: Checkpoint.format, step: 7, seed: 1, pipelineHash: "h", reason: "scheduled", time: "t", events: 3,
    stream: { epoch: 0, index: 28 }, optimizer: { count: 7, slots: ["adam.mu"] },
    trainer: { windowLosses: [1.5], windowTokens: 32, lastLoss: 2, lastEvalStep: 5 }, hooks: {}, rng: { seed: 1, step: 7 }
  }
  const text = JSON.stringify(state)
  return Safetensors.encode(entries, { "rekindle.state": text, "rekindle.sha256": Checkpoint.digest(text, entries) })
}

const messageOf = <A>(exit: Exit.Exit<A, { readonly message: string }>) => (Exit.isFailure(exit) ? String(exit.cause) : "succeeded")

describe("checkpoint files", () => {
  it.effect("verifies the digest: a flipped data byte, a changed state and a truncated file are refused", () =>
    Effect.gen(function*() {
      const good = fixtureBytes()
      const ok = yield* Checkpoint.decode(good, "good")
      expect(ok.state.stream).toEqual({ epoch: 0, index: 28 })
      const flipped = good.slice()
      flipped[flipped.length - 3]! ^= 0x40
      expect(messageOf(yield* Effect.exit(Checkpoint.decode(flipped, "f")))).toContain("checkpoint f: its contents do not match its digest")
      const edited = good.slice()
      const at = Buffer.from(edited).indexOf('\\"index\\":28')
      expect(at).toBeGreaterThan(0)
      edited[at + 10] = "9".charCodeAt(0)
      expect(messageOf(yield* Effect.exit(Checkpoint.decode(edited, "e")))).toContain("do not match its digest")
      expect(messageOf(yield* Effect.exit(Checkpoint.decode(good.subarray(0, good.length - 5), "t")))).toContain("exceed the")
      const plain = Safetensors.encode({ w: { dtype: "F32", shape: [1], data: Float32Array.from([1]) } })
      expect(messageOf(yield* Effect.exit(Checkpoint.decode(plain, "p")))).toContain("not a rekindle checkpoint")
    }))

  it.effect("writes atomically, keeps the newest K, and `latest` skips a corrupt newest checkpoint", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-ckpt-"))
      const good = fixtureBytes()
      for (const step of [5, 10, 15, 20]) yield* Checkpoint.write(dir, step, good, 2)
      const folder = path.join(dir, Checkpoint.folder)
      expect(fs.readdirSync(folder).sort()).toEqual(["step-00000015.safetensors", "step-00000020.safetensors"])
      // a corrupt newest file (bit rot) and a torn temporary file of a killed writer
      const corrupt = good.slice()
      corrupt[corrupt.length - 1]! ^= 1
      fs.writeFileSync(path.join(folder, Checkpoint.fileName(25)), corrupt)
      fs.writeFileSync(path.join(folder, `${Checkpoint.fileName(30)}.tmp-999999`), good.subarray(0, 10))
      const latest = yield* Checkpoint.latest(dir)
      expect(latest.skipped.slice(1)).toEqual([])
      expect(latest.checkpoint?.file).toBe(path.join(folder, Checkpoint.fileName(20)))
      expect(latest.skipped.map((s) => path.basename(s.file))).toEqual([Checkpoint.fileName(25)])
      expect(latest.skipped[0]!.problem).toContain("do not match its digest")
      // the next prune removes the killed writer's temporary file
      yield* Checkpoint.prune(dir, 3)
      expect(fs.readdirSync(folder).some((n) => n.includes(".tmp-"))).toBe(false)
      fs.rmSync(dir, { recursive: true })
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("a full disk (ENOSPC from /dev/full) fails the write with a clear message and leaves the old file", () =>
    Effect.gen(function*() {
      if (!fs.existsSync("/dev/full")) return
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-enospc-"))
      const file = path.join(dir, "x.safetensors")
      fs.writeFileSync(file, "old")
      fs.symlinkSync("/dev/full", `${file}.tmp-${process.pid}`)
      const error = yield* Effect.flip(Files.writeAtomic(file, new Uint8Array(64)))
      expect(Files.errnoOf(error)).toBe("ENOSPC")
      expect(Files.describe(error)).toContain("the disk is full (ENOSPC")
      expect(fs.readFileSync(file, "utf8")).toBe("old")
      expect(fs.readdirSync(dir)).toEqual(["x.safetensors"])
      fs.rmSync(dir, { recursive: true })
    }).pipe(Effect.provide(NodeServices.layer)))

  it("describes errno failures in words", () => {
    const e = Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" })
    expect(Files.describe({ reason: { cause: e } })).toBe("the disk is full (ENOSPC: no space left on device, write)")
    expect(Files.errnoOf({ reason: { cause: e } })).toBe("ENOSPC")
  })
})
