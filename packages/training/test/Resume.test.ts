/**
 * Run-folder decisions and the events file on resume: torn lines are detected and never parsed,
 * events.jsonl is cut back to a checkpoint's line count (the cut part kept aside), a file that
 * lost lines the checkpoint relies on is refused; `claim` applies the existing-folder rule.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Event } from "@rekindle/core"
import { Safetensors } from "@rekindle/model"
import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import { Checkpoint, Determinism, Resume } from "@rekindle/run"
import * as path from "node:path"

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-resume-"))
const step = (n: number, loss = 1) => Event.TrainStep.make({ step: n, loss, lr: 0.1, tokens: 8, ms: n, tokensPerSec: 100 + n })
const lines = (events: ReadonlyArray<Event.Event>) => events.map((e) => Event.encodeLine(e) + "\n").join("")
const failure = <A, E>(exit: Exit.Exit<A, E>) => (Exit.isFailure(exit) ? String(exit.cause) : "succeeded")

const checkpointBytes = (stepN: number, events: number, seed = 1, hash = "h") => {
  const entries: Record<string, Safetensors.Entry> = { "param/w": { dtype: "F32", shape: [1], data: Float32Array.from([stepN]) } }
  const text = JSON.stringify({
    format: Checkpoint.format, step: stepN, seed, pipelineHash: hash, reason: "scheduled", time: "t", events,
    stream: { epoch: 0, index: stepN }, optimizer: { count: stepN, slots: [] },
    trainer: { windowLosses: [], windowTokens: 0, lastLoss: 1, lastEvalStep: -1 }, hooks: {}, rng: { seed, step: stepN }
  })
  return Safetensors.encode(entries, { "rekindle.state": text, "rekindle.sha256": Checkpoint.digest(text, entries) })
}

describe("events files", () => {
  it("a torn last line is reported, never parsed; bad complete lines are reported with their number", () => {
    const text = lines([step(1), step(2)]) + "{\"_tag\":\"Nope\"}\n" + "{\"_tag\":\"TrainStep\",\"st"
    const f = Determinism.parse("e", new TextEncoder().encode(text))
    expect(f.events.map((e) => e._tag === "TrainStep" && e.step)).toEqual([1, 2])
    expect(f.torn).toBe("{\"_tag\":\"TrainStep\",\"st")
    expect(f.bad.map((b) => b.line)).toEqual([3])
    // a complete JSON object without its newline is still a torn write
    const whole = Determinism.parse("e", new TextEncoder().encode(lines([step(1)]) + Event.encodeLine(step(2))))
    expect(whole.events).toHaveLength(1)
    expect(whole.torn).toBeDefined()
  })

  it("compare ignores wall-clock fields and resume markers and names the first differing field", () => {
    const started = (resumedFrom?: number) =>
      Event.RunStarted.make({
        time: `t${resumedFrom ?? 0}`, run: "r", pipelineHash: "h", seed: 1, parameters: 1, steps: 3,
        backend: { name: "cpu", threads: 1, simd: false, overrides: false },
        ...(resumedFrom !== undefined ? { resumedFrom } : {})
      })
    const a = [started(), step(1), step(2), step(3)]
    const b = [started(), step(1), started(1), { ...step(2), ms: 99, tokensPerSec: 1 }, step(3)]
    expect(Determinism.compare(a, b).equal).toBe(true)
    const c = [started(), step(1), step(2, 1.5), step(3)]
    const d = Determinism.compare(a, c)
    expect(d.equal).toBe(false)
    expect(d.difference).toMatchObject({ index: 2, path: "loss", expected: 1, actual: 1.5 })
    expect(Determinism.describe(d)).toContain("field loss: original 1, reproduction 1.5")
    expect(Determinism.compare(a, a.slice(0, 3)).difference?.actualEvent).toBeUndefined()
  })

  it.effect("truncateEvents cuts back to N lines (keeping the cut part aside) and refuses a file that lost lines", () =>
    Effect.gen(function*() {
      const dir = tmp()
      const file = path.join(dir, "events.jsonl")
      fs.writeFileSync(file, lines([step(1), step(2), step(3)]) + "{\"_tag\":\"Tra")
      expect(yield* Resume.truncateEvents(file, 2, 2)).toEqual({ cutBytes: Event.encodeLine(step(3)).length + 1 + "{\"_tag\":\"Tra".length })
      expect(fs.readFileSync(file, "utf8")).toBe(lines([step(1), step(2)]))
      expect(fs.readFileSync(`${file}.cut`, "utf8")).toBe(lines([step(3)]) + "{\"_tag\":\"Tra\n")
      expect(yield* Resume.truncateEvents(file, 2, 2)).toEqual({ cutBytes: 0 })
      const lost = yield* Effect.exit(Resume.truncateEvents(file, 5, 9))
      expect(failure(lost)).toContain("holds 2 complete lines, but the checkpoint after step 9 was written after line 5")
      expect(fs.readFileSync(file, "utf8")).toBe(lines([step(1), step(2)]))
    }).pipe(Effect.provide(NodeServices.layer)))
})

describe("claim (what happens to an existing run folder)", () => {
  const folder = (status: string | undefined, checkpoints: ReadonlyArray<number>) => {
    const dir = path.join(tmp(), "run-h")
    fs.mkdirSync(path.join(dir, Checkpoint.folder), { recursive: true })
    if (status !== undefined) fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({
      name: "run",
      pipelineHash: "h",
      seed: 1,
      status,
      startedAt: "before",
      endedAt: "then",
      steps: 10,
      stepsDone: 7,
      versions: {},
      node: process.version
    }))
    for (const s of checkpoints) fs.writeFileSync(path.join(dir, Checkpoint.folder, Checkpoint.fileName(s)), checkpointBytes(s, s))
    return dir
  }
  const run = { seed: 1, pipelineHash: "h" }
  const claim = (dir: string, existing: Resume.Existing) => Effect.scoped(Resume.claim(dir, run, existing)).pipe(Effect.exit)

  it.effect("follows the rule for each kind of folder", () =>
    Effect.gen(function*() {
      const missing = path.join(tmp(), "nothing")
      expect((yield* Effect.scoped(Resume.claim(missing, run, "refuse")))._tag).toBe("Fresh")
      expect(failure(yield* claim(missing, "resume"))).toContain("no such run folder")

      const finished = folder("finished", [10])
      expect(failure(yield* claim(finished, "refuse"))).toContain("already holds a finished run of this pipeline (finished then); pass --force")
      expect(failure(yield* claim(finished, "resume"))).toContain("nothing to resume")
      const replaced = yield* claim(finished, "replace")
      expect(Exit.isSuccess(replaced) && replaced.value._tag).toBe("Replace")

      const resumable = folder("running", [5, 10])
      expect(failure(yield* claim(resumable, "refuse"))).toContain("checkpoint after step 10); continue it with `rekindle resume")
      const r = yield* claim(resumable, "resume")
      expect(Exit.isSuccess(r) && r.value._tag === "Resume" && r.value.checkpoint.state.step).toBe(10)
      const c = yield* claim(resumable, "continue")
      expect(Exit.isSuccess(c) && c.value._tag).toBe("Resume")

      const noCheckpoint = folder("failed", [])
      expect(Exit.isSuccess(yield* claim(noCheckpoint, "refuse")) ).toBe(true)
      // the reason uses the pipeline's real checkpointEvery (the manifest says 7 steps were done)
      const resumeWith = (checkpointEvery: number) => Effect.scoped(Resume.claim(noCheckpoint, { ...run, checkpointEvery }, "resume")).pipe(Effect.exit)
      expect(failure(yield* resumeWith(10))).toContain("(the run wrote none: train.checkpointEvery is 10, and the run stopped after 7 steps, before the first was due)")
      expect(failure(yield* resumeWith(5))).toContain("(the run wrote none: train.checkpointEvery is 5, and the run stopped after 7 steps (its checkpoint writes failed))")
      expect(failure(yield* resumeWith(0))).toContain("(the run wrote none: checkpoints are off (train.checkpointEvery is 0))")

      // a checkpoint of another seed or pipeline is not resumed from
      const other = folder("running", [])
      fs.writeFileSync(path.join(other, Checkpoint.folder, Checkpoint.fileName(5)), checkpointBytes(5, 5, 2))
      expect(failure(yield* claim(other, "resume"))).toContain("its seed 2 is not the pipeline's 1")

      // every decision leaves the folder as it was (the lock is released)
      for (const d of [finished, resumable, noCheckpoint]) expect(fs.existsSync(path.join(d, "run.lock"))).toBe(false)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("materialize swaps an old folder out atomically and locks the new one", () =>
    Effect.gen(function*() {
      const dir = folder("finished", [10])
      fs.writeFileSync(path.join(dir, "events.jsonl"), "old\n")
      yield* Effect.scoped(Effect.gen(function*() {
        const c = yield* Resume.claim(dir, run, "replace")
        yield* Resume.materialize(c, ["events.jsonl"])
        expect(fs.readdirSync(dir)).toEqual(["run.lock"])
        expect(fs.readdirSync(path.dirname(dir))).toEqual(["run-h"])
      }))
      expect(fs.readdirSync(dir)).toEqual([])
    }).pipe(Effect.provide(NodeServices.layer)))
})
