/**
 * Fault injection through the real `rekindle` bin: a run is killed with SIGKILL at several
 * seeded-random steps (and stopped with SIGTERM once), each is resumed with `rekindle resume`,
 * and the final events.jsonl must equal the uninterrupted run's (apart from wall-clock fields and
 * the resume marker). After a kill the folder never claims to be complete and every checkpoint
 * file in it loads; `rekindle run` refuses the unfinished folder (hinting at resume), and a
 * second process is refused while a live process holds the folder's lock. (Each child process
 * costs ~2.5 s of startup; the in-process cases are in faults.test.ts.)
 */
import { NodeServices } from "@effect/platform-node"
import { Event } from "@rekindle/core"
import { Checkpoint, Determinism, Lock } from "@rekindle/run"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { beforeAll, describe, expect, it } from "vitest"
import { lcg, problems, readEvents, readJson, rekindle, runFolder, tinyProject } from "./harness.ts"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-kill-"))
const cache = path.join(root, "cache")
const steps = 100
const { file } = tinyProject(path.join(root, "project"), { steps, checkpointEvery: 5 })
let baseline: Array<Event.Event> = []

const expectSameEvents = (events: ReadonlyArray<Event.Event>) => {
  const c = Determinism.compare(baseline, events)
  expect(c.equal, Determinism.describe(c, { expected: "uninterrupted", actual: "resumed" })).toBe(true)
}

/** Every checkpoint file in a folder reads and verifies (none is half-written). */
const checkpointsLoad = (dir: string) =>
  Effect.runPromise(Effect.gen(function*() {
    const all = yield* Checkpoint.list(dir)
    for (const c of all) yield* Checkpoint.read(c.file)
    return all.map((c) => c.step)
  }).pipe(Effect.provide(NodeServices.layer)))

describe("kill and resume (rekindle bin)", { timeout: 300_000 }, () => {
  beforeAll(async () => {
    const r = await rekindle(["run", file, "--out", path.join(root, "base"), "--cache", cache])
    expect(problems(r.err)).toEqual([])
    expect(r.code).toBe(0)
    baseline = readEvents(path.join(runFolder(path.join(root, "base"))!, "events.jsonl"))
    expect(baseline.at(-1)?._tag).toBe("RunFinished")
    expect(baseline.filter((e) => e._tag === "Recycle").length).toBeGreaterThan(10)
  }, 120_000)

  it("SIGKILL at seeded random steps, then resume: the final events equal the uninterrupted run's", async () => {
    const rnd = lcg(20261124)
    const points = [0, 1, 2].map(() => 6 + Math.floor(rnd() * (steps - 30)))
    for (const [i, step] of points.entries()) {
      const out = path.join(root, `kill-${i}`)
      const killed = await rekindle(["run", file, "--out", out, "--cache", cache], { out, step, signal: "SIGKILL" })
      expect(killed.signalled && killed.signal === "SIGKILL", `run ${i} finished before it could be killed at step ${step}`).toBe(true)
      const dir = runFolder(out)!
      // the folder does not claim to be complete, and whatever checkpoints it holds load
      expect(readJson(path.join(dir, "manifest.json")).status).toBe("running")
      expect(readEvents(path.join(dir, "events.jsonl")).some((e) => e._tag === "RunFinished")).toBe(false)
      const saved = await checkpointsLoad(dir)
      expect(saved.length).toBeGreaterThan(0)
      // keep = 3, plus possibly a new one whose rename landed just before the kill and before pruning
      expect(saved.length).toBeLessThanOrEqual(4)
      expect(fs.existsSync(path.join(dir, Lock.fileName))).toBe(true) // stale: its owner is dead

      if (i === 0) {
        // `rekindle run` does not silently restart an unfinished run
        const again = await rekindle(["run", file, "--out", out, "--cache", cache])
        expect(again.code).toBe(2)
        expect(again.err).toContain("holds an unfinished run")
        expect(again.err).toContain(`rekindle resume ${dir}`)
        expect(again.err).not.toMatch(/\n\s+at /)
      }

      const resumed = await rekindle(["resume", dir, "--cache", cache])
      expect(problems(resumed.err)).toEqual([])
      expect(resumed.code).toBe(0)
      expect(resumed.out).toContain(`from the checkpoint after step ${Math.max(...saved)}`)
      const events = readEvents(path.join(dir, "events.jsonl"))
      expectSameEvents(events)
      expect(events.filter(Determinism.isResumeMarker)).toHaveLength(1)
      const manifest = readJson(path.join(dir, "manifest.json"))
      expect(manifest.status).toBe("finished")
      expect(manifest.exit).toEqual({ status: "finished", code: 0 })
      expect(manifest.resumes.map((r: { fromStep: number }) => r.fromStep)).toEqual([Math.max(...saved)])
      expect(fs.existsSync(path.join(dir, Lock.fileName))).toBe(false)
    }
  })

  it("SIGTERM writes a checkpoint at the step it stopped, exits 130, and resumes to the same events", async () => {
    const out = path.join(root, "term")
    const stopped = await rekindle(["run", file, "--out", out, "--cache", cache], { out, step: 62, signal: "SIGTERM" })
    expect(stopped.signalled).toBe(true)
    expect(stopped.code).toBe(130)
    const dir = runFolder(out)!
    const manifest = readJson(path.join(dir, "manifest.json"))
    expect(manifest.status).toBe("interrupted")
    expect(manifest.checkpoint.step).toBe(manifest.stepsDone)
    const last = readEvents(path.join(dir, "events.jsonl")).at(-1)!
    expect(last._tag === "RunFailed" && last.reason).toBe("Interrupted")
    expect(fs.existsSync(path.join(dir, Lock.fileName))).toBe(false)

    // a live process holding the lock (this test, standing in for one) makes resume refuse, changing nothing
    const before = fs.readFileSync(path.join(dir, "events.jsonl"))
    fs.writeFileSync(path.join(dir, Lock.fileName), JSON.stringify({
      pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString(), procStart: Lock.procStart(process.pid)
    }))
    const refused = await rekindle(["resume", dir, "--cache", cache])
    expect(refused.code).toBe(2)
    expect(refused.err).toContain(`is in use: process ${process.pid} is running`)
    expect(fs.readFileSync(path.join(dir, "events.jsonl")).equals(before)).toBe(true)
    fs.rmSync(path.join(dir, Lock.fileName))

    const resumed = await rekindle(["resume", dir, "--cache", cache])
    expect(resumed.code).toBe(0)
    expectSameEvents(readEvents(path.join(dir, "events.jsonl")))
    // what the resume cut off (the interruption's RunFailed) is kept aside, not lost
    expect(fs.readFileSync(path.join(dir, "events.jsonl.cut"), "utf8")).toContain("\"reason\":\"Interrupted\"")
  })
})

describe("kill and resume with gradient criteria on GLU layers (rekindle bin)", { timeout: 300_000 }, () => {
  it("select/taylor acting, select/snip shadowing: SIGKILL mid-window, resume, and the events equal the uninterrupted run's", async () => {
    const gsteps = 40
    const project = tinyProject(path.join(root, "gradient"), { name: "gradient", steps: gsteps, checkpointEvery: 5, gradient: true })
    const base = await rekindle(["run", project.file, "--out", path.join(root, "gradient-base"), "--cache", cache])
    expect(problems(base.err)).toEqual([])
    expect(base.code).toBe(0)
    const uninterrupted = readEvents(path.join(runFolder(path.join(root, "gradient-base"))!, "events.jsonl"))
    const recycled = uninterrupted.filter((e) => e._tag === "Recycle")
    expect(recycled.length).toBeGreaterThan(4)
    expect(recycled.every((e) => e._tag === "Recycle" && e.criterion === "select/taylor" && e.shadow[0]!.criterion === "select/snip")).toBe(true)
    // Taylor scores come from the steps' own gradients: positive, and not all equal
    const scores = recycled.flatMap((e) => (e._tag === "Recycle" ? e.scores : []))
    expect(scores.every((x) => x >= 0) && new Set(scores).size > 1).toBe(true)

    // killed between checkpoints (the mean window of the acting criterion is half full)
    const out = path.join(root, "gradient-kill")
    const killed = await rekindle(["run", project.file, "--out", out, "--cache", cache], { out, step: 23, signal: "SIGKILL" })
    expect(killed.signalled && killed.signal === "SIGKILL").toBe(true)
    const dir = runFolder(out)!
    const resumed = await rekindle(["resume", dir, "--cache", cache])
    expect(problems(resumed.err)).toEqual([])
    expect(resumed.code).toBe(0)
    const c = Determinism.compare(uninterrupted, readEvents(path.join(dir, "events.jsonl")))
    expect(c.equal, Determinism.describe(c, { expected: "uninterrupted", actual: "resumed" })).toBe(true)
  })
})
