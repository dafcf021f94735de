/**
 * Faults met through the `rekindle` bin as a child process (issue 13): real processes, real files.
 * - a resume whose pinned wasm thread count cannot be had stops (exit 2, nothing changed); a fresh
 *   run that falls back to one thread says so on stderr;
 * - a `.ts` pipeline whose top-level await never settles: `validate` and `run` stop with a clear
 *   error after the load time-box; `--out` under /proc is refused up front;
 * - a read-only nested `--out` and a read-only `--cache` name the real cause (read-only file
 *   system as root, where a read-only tmpfs is mounted; permission denied otherwise);
 * - resume announces the checkpoint it really continues from, only once the folder is locked and
 *   the checkpoint checked, and says why it skipped newer ones (another seed, events that do not
 *   cover them); events.jsonl cut between two checkpoints or holding a garbage line falls back to
 *   the newest checkpoint the events cover.
 */
import { NodeServices } from "@effect/platform-node"
import { Checkpoint, Lock } from "@rekindle/run"
import { Effect } from "effect"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { fileURLToPath } from "node:url"
import { readEvents, readJson, rekindle, runFolder, tinyProject } from "./harness.ts"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-faults-cli-"))
const cache = path.join(root, "cache")
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

/** A temp folder the threaded wasm loader cannot write to (a file where a folder should be). */
const brokenTmp = path.join(root, "not-a-folder")
fs.writeFileSync(brokenTmp, "")
/** The environment for that (tsx's transform cache, also under the temp folder, turned off). */
const brokenEnv = { TMPDIR: brokenTmp, TSX_DISABLE_CACHE: "1" }

const isRoot = process.getuid?.() === 0

/** A folder nothing can be written to: a read-only tmpfs as root (root ignores modes), mode 0555 otherwise. */
const readOnlyFolder = (dir: string): string => {
  fs.mkdirSync(dir, { recursive: true })
  if (isRoot) {
    execFileSync("mount", ["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", dir])
    mounts.push(dir)
  } else fs.chmodSync(dir, 0o555)
  return dir
}
const mounts: Array<string> = []
afterAll(() => {
  for (const m of mounts) execFileSync("umount", [m])
})

describe("faults through the bin", { timeout: 300_000 }, () => {
  it("threaded wasm: a resume pinned to 2 threads that cannot get them stops; a fresh run warns loudly", async () => {
    const dir = path.join(root, "pinned")
    const { file } = tinyProject(dir, { backend: { name: "wasm", threads: 2 }, steps: 400, checkpointEvery: 5, recycling: false })
    const out = path.join(dir, "runs")
    const first = await rekindle(["run", file, "--out", out, "--cache", cache], { out, step: 8, signal: "SIGTERM" })
    expect(first.code, first.err).toBe(130)
    const run = runFolder(out)!
    expect(readJson(path.join(run, "manifest.json")).backend.threads).toBe(2)
    const before = fs.readFileSync(path.join(run, "events.jsonl"), "utf8")
    const manifestBefore = fs.readFileSync(path.join(run, "manifest.json"), "utf8")

    const resumed = await rekindle(["resume", run, "--cache", cache], undefined, brokenEnv)
    expect(resumed.code, resumed.err).toBe(2)
    expect(resumed.err).toMatch(/recorded on wasm with 2 threads, but only 1 could be had here \(the threaded wasm binary failed: .*not-a-folder/)
    expect(resumed.err).not.toMatch(/\n\s+at /) // no stack trace
    expect(fs.readFileSync(path.join(run, "events.jsonl"), "utf8")).toBe(before)
    expect(fs.readFileSync(path.join(run, "manifest.json"), "utf8")).toBe(manifestBefore)
    expect(fs.existsSync(path.join(run, "run.lock"))).toBe(false)

    const fresh = tinyProject(path.join(root, "fresh"), { name: "fresh", backend: { name: "wasm", threads: 2 }, steps: 3, recycling: false })
    const freshOut = path.join(root, "fresh", "runs")
    const ran = await rekindle(["run", fresh.file, "--out", freshOut, "--cache", cache], undefined, brokenEnv)
    expect(ran.code, ran.err).toBe(0)
    expect(ran.err).toMatch(/warning: wasm runs on 1 thread, not the 2 asked for: the threaded wasm binary failed/)
    const manifest = readJson(path.join(runFolder(freshOut)!, "manifest.json"))
    expect(manifest.backend.threads).toBe(1)
    expect(manifest.warnings).toEqual([expect.stringMatching(/^wasm ran on 1 thread, not the 2 asked for: the threaded wasm binary failed/)])
  })

  it("a pipeline file whose top-level await never settles: validate and run stop with a clear error", async () => {
    const file = fileURLToPath(new URL("../fixtures/never-settles.ts", import.meta.url))
    for (const args of [["validate", file], ["run", file, "--out", path.join(root, "never")]]) {
      const r = await rekindle(args, undefined, { REKINDLE_LOAD_TIMEOUT: "2" })
      expect(r.code, r.err).toBe(2)
      expect(r.err).toContain("never-settles.ts: loading did not finish within 2 s (a top-level await that never settles?)")
      expect(r.err).toContain("REKINDLE_LOAD_TIMEOUT")
    }
    expect(fs.existsSync(path.join(root, "never"))).toBe(false)
  })

  it("--out under /proc is refused up front, naming the pseudo-file system", async () => {
    const { file } = tinyProject(path.join(root, "proc"), { name: "proc", steps: 3, recycling: false })
    const r = await rekindle(["run", file, "--out", "/proc/rekindle-out", "--cache", cache])
    expect(r.code, r.err).toBe(2)
    expect(r.err).toMatch(/--out: \/proc\/rekindle-out\/\S+ is on a proc pseudo-file system that cannot hold files/)
  })

  it("a read-only nested --out and a read-only --cache are reported by their real cause", async () => {
    const { file } = tinyProject(path.join(root, "ro"), { name: "ro", steps: 3, recycling: false })
    const ro = readOnlyFolder(path.join(root, "ro", "locked"))
    const cause = isRoot ? "the file system is read-only (EROFS" : "permission denied (EACCES"
    const out = await rekindle(["run", file, "--out", path.join(ro, "nested", "runs"), "--cache", cache])
    expect(out.code, out.err).toBe(2)
    expect(out.err).toContain(`--out: cannot create ${path.join(ro, "nested", "runs")}`)
    expect(out.err).toContain(cause)
    expect(out.err).not.toMatch(/ENOENT|NotFound/)
    const cached = await rekindle(["run", file, "--out", path.join(root, "ro", "runs"), "--cache", path.join(ro, "cache")])
    expect(cached.code, cached.err).toBe(2)
    expect(cached.err).toContain("cache (--cache): cannot create")
    expect(cached.err).toContain(cause)
    expect(cached.err).not.toMatch(/ENOENT|NotFound/)
    expect(fs.existsSync(path.join(root, "ro", "runs"))).toBe(false)
  })

  describe("resume picks and names the right checkpoint", () => {
    const base = path.join(root, "resume")
    let interrupted = ""
    let coverage = new Map<number, number>()
    let foreign = ""
    const steps = 60

    /** A copy of the interrupted run folder to resume in one scenario. */
    const copy = (name: string) => {
      const dir = path.join(base, "copies", name, path.basename(interrupted))
      fs.cpSync(interrupted, dir, { recursive: true })
      return dir
    }
    const lines = (dir: string) => fs.readFileSync(path.join(dir, "events.jsonl"), "utf8").split("\n").slice(0, -1)
    const checkpointsOf = (dir: string) =>
      Effect.runPromise(Checkpoint.list(dir).pipe(Effect.provide(NodeServices.layer))).then((l) => l.map((c) => c.step).sort((a, b) => a - b))

    it("setup: an interrupted run with three checkpoints, and a newer checkpoint of another seed", async () => {
      const { file } = tinyProject(base, { steps, checkpointEvery: 5, recycling: false })
      const out = path.join(base, "runs")
      const first = await rekindle(["run", file, "--out", out, "--cache", cache], { out, step: 22, signal: "SIGTERM" })
      expect(first.code, first.err).toBe(130)
      interrupted = runFolder(out)!
      for (const step of await checkpointsOf(interrupted)) {
        const c = await Effect.runPromise(Checkpoint.read(path.join(interrupted, Checkpoint.folder, Checkpoint.fileName(step))).pipe(Effect.provide(NodeServices.layer)))
        coverage.set(step, c.state.events)
      }
      expect(coverage.size).toBe(3)
      const other = path.join(base, "other")
      const second = await rekindle(["run", file, "--out", other, "--cache", cache, "--set", "seed=8"])
      expect(second.code, second.err).toBe(0)
      foreign = path.join(runFolder(other)!, Checkpoint.folder, Checkpoint.fileName(steps))
      expect(fs.existsSync(foreign)).toBe(true)
    })

    it("a newer checkpoint of another seed is skipped with its reason, and the announcement names the one used", async () => {
      const dir = copy("seed")
      fs.copyFileSync(foreign, path.join(dir, Checkpoint.folder, Checkpoint.fileName(steps)))
      const newest = Math.max(...coverage.keys())
      const r = await rekindle(["resume", dir, "--cache", cache])
      expect(r.code, r.err).toBe(0)
      expect(r.err).toContain(`warning: skipping ${path.join(dir, Checkpoint.folder, Checkpoint.fileName(steps))}: its seed 8 is not the pipeline's 7`)
      expect(r.out).toContain(`resuming ${path.basename(dir)} from the checkpoint after step ${newest} of ${steps} (backend cpu, 1 thread)`)
      expect(r.out).not.toContain(`after step ${steps} of`)
      expect(readEvents(path.join(dir, "events.jsonl")).find((e) => e._tag === "RunStarted" && e.resumedFrom !== undefined)).toMatchObject({ resumedFrom: newest })
    })

    it("a locked folder is refused before anything is announced", async () => {
      const dir = copy("locked")
      const r = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
        yield* Lock.acquire(dir, "test")
        return yield* Effect.promise(() => rekindle(["resume", dir, "--cache", cache]))
      })).pipe(Effect.provide(NodeServices.layer)))
      expect(r.code, r.err).toBe(2)
      expect(r.err).toContain(String(process.pid))
      expect(r.out).not.toContain("resuming")
    })

    it("events.jsonl cut between two checkpoints: falls back to the newest checkpoint the events cover", async () => {
      const dir = copy("cut")
      const [older, newest] = [...coverage.keys()].sort((a, b) => a - b).slice(-2) as [number, number]
      const keep = coverage.get(older)! + 1
      expect(keep).toBeLessThan(coverage.get(newest)!)
      fs.writeFileSync(path.join(dir, "events.jsonl"), lines(dir).slice(0, keep).join("\n") + "\n")
      const r = await rekindle(["resume", dir, "--cache", cache])
      expect(r.code, r.err).toBe(0)
      expect(r.err).toContain(
        `skipping ${path.join(dir, Checkpoint.folder, Checkpoint.fileName(newest))}: events.jsonl holds ${keep} complete lines but this checkpoint was written after line ${coverage.get(newest)}`
      )
      expect(r.out).toContain(`from the checkpoint after step ${older} of ${steps}`)
      expect(readJson(path.join(dir, "manifest.json")).status).toBe("finished")
      // the record is whole: every line an event, one TrainStep... up to the end
      const events = readEvents(path.join(dir, "events.jsonl"))
      expect(events.at(-1)).toMatchObject({ _tag: "RunFinished", step: steps })
    })

    it("a garbage line in the middle of events.jsonl is detected and reported, and the resume falls back before it", async () => {
      const dir = copy("garbage")
      const [oldest, middle] = [...coverage.keys()].sort((a, b) => a - b) as [number, number, number]
      const at = coverage.get(oldest)! + 1 // a line covered by the middle checkpoint, not by the oldest
      expect(at).toBeLessThanOrEqual(coverage.get(middle)!)
      const all = lines(dir)
      all[at - 1] = "{\"_tag\":\"TrainStep\",garbage"
      fs.writeFileSync(path.join(dir, "events.jsonl"), all.join("\n") + "\n")
      const r = await rekindle(["resume", dir, "--cache", cache])
      expect(r.code, r.err).toBe(0)
      expect(r.err).toMatch(new RegExp(`skipping \\S+${Checkpoint.fileName(middle)}: line ${at} of events.jsonl, which this checkpoint covers, is not an event`))
      expect(r.out).toContain(`from the checkpoint after step ${oldest} of ${steps}`)
      expect(fs.readFileSync(path.join(dir, "events.jsonl.cut"), "utf8")).toContain("garbage")
      expect(readEvents(path.join(dir, "events.jsonl")).at(-1)).toMatchObject({ _tag: "RunFinished", step: steps })
    })

    it("a garbage line after the newest checkpoint is reported and cut", async () => {
      const dir = copy("garbage-late")
      const all = lines(dir)
      const newest = Math.max(...coverage.keys())
      expect(all.length).toBeGreaterThanOrEqual(coverage.get(newest)!)
      all.push("not json at all")
      fs.writeFileSync(path.join(dir, "events.jsonl"), all.join("\n") + "\n")
      const r = await rekindle(["resume", dir, "--cache", cache])
      expect(r.code, r.err).toBe(0)
      expect(r.err).toContain(`warning: line ${all.length} of events.jsonl is not an event`)
      expect(r.out).toContain(`from the checkpoint after step ${newest} of ${steps}`)
    })
  })
})
