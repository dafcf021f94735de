/**
 * A full disk at every writer (issue 13, fault 5), on a real small tmpfs (mounted when the tests
 * run as root; skipped otherwise), through the `rekindle` bin:
 * - full when the run starts: one clear line, exit 2, no folder or 0-byte run.lock left behind, a
 *   re-run works at once when there is room;
 * - full while events.jsonl is written: one clear line (no `Cause(...)` dump), manifest `failed`
 *   with the cause, events.jsonl whole (no torn line), no temporary files; re-runnable at once;
 * - full while a checkpoint is written: the same, and `resume` continues once there is room;
 * - full while report.html is written: one warning line, no `report.html.tmp-*` left, the run
 *   finishes and its manifest says so, recording the dropped sink under `warnings`.
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { readEvents, readJson, rekindle, runFolder, tinyProject } from "./harness.ts"

const isRoot = process.getuid?.() === 0
const root = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-disk-full-"))
const cache = path.join(root, "cache")
const mounts: Array<string> = []
afterAll(() => {
  for (const m of mounts) execFileSync("umount", [m])
  fs.rmSync(root, { recursive: true, force: true })
})

/** A fresh tmpfs of `kib` KiB at `<root>/<name>`. */
const disk = (name: string, kib: number): string => {
  const dir = path.join(root, name)
  fs.mkdirSync(dir, { recursive: true })
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${kib}k`, "tmpfs", dir])
  mounts.push(dir)
  return dir
}

/** Fills `dir`'s file system until `leave` bytes remain free (0: completely); returns a function that frees it again. */
const fill = (dir: string, leave = 0): (() => void) => {
  const file = path.join(dir, `filler-${fs.readdirSync(dir).length}`)
  const fd = fs.openSync(file, "w")
  const chunk = Buffer.alloc(4096)
  try {
    while (fs.statfsSync(dir).bavail * fs.statfsSync(dir).bsize > leave) fs.writeSync(fd, chunk)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOSPC") throw e
  } finally {
    fs.closeSync(fd)
  }
  return () => fs.rmSync(file, { force: true })
}

/** Every file under `dir`, relative. */
const files = (dir: string): Array<string> => fs.readdirSync(dir, { recursive: true }).map(String)

/** What every writer's failure must look like on stderr: the cause in words, no dump, no stack. */
const expectOneClearLine = (err: string) => {
  expect(err).toContain("the disk is full (ENOSPC")
  expect(err).not.toContain("Cause(")
  expect(err).not.toMatch(/\n\s+at /)
}

describe.skipIf(!isRoot)("a full disk (tmpfs)", { timeout: 300_000 }, () => {
  it("at the start: one clear line, nothing left behind, a re-run starts at once", async () => {
    const d = disk("start", 256)
    const { file } = tinyProject(path.join(root, "start-project"), { name: "start", steps: 3, recycling: false })
    const out = path.join(d, "runs")
    fs.mkdirSync(out)
    const free = fill(d)
    const r = await rekindle(["run", file, "--out", out, "--cache", cache])
    expect(r.code, r.err).toBe(2)
    expectOneClearLine(r.err)
    expect(files(out).filter((n) => n.endsWith("run.lock"))).toEqual([])
    free()
    const again = await rekindle(["run", file, "--out", out, "--cache", cache])
    expect(again.code, again.err).toBe(0)
    expect(readJson(path.join(runFolder(out)!, "manifest.json")).status).toBe("finished")
  })

  it("while events.jsonl is written: clear failure recorded in the manifest, whole events, no temp files; re-runnable", async () => {
    const d = disk("events", 1024)
    const { file } = tinyProject(path.join(root, "events-project"), { name: "events", steps: 400, checkpointEvery: 0, recycling: false })
    const out = path.join(d, "runs")
    let free = () => {}
    const r = await rekindle(["run", file, "--out", out, "--cache", cache], { out, step: 6, action: () => (free = fill(d)) })
    expect(r.code, r.err).toBe(1)
    expectOneClearLine(r.err)
    expect(r.err).toContain("sink log/jsonl failed: the disk is full")
    const dir = runFolder(out)!
    const manifest = readJson(path.join(dir, "manifest.json"))
    expect(manifest.status).toBe("failed")
    expect(manifest.error).toContain("the disk is full")
    expect(manifest.error).toContain("nothing is kept on disk to continue from")
    const events = readEvents(path.join(dir, "events.jsonl"))
    expect(fs.readFileSync(path.join(dir, "events.jsonl"), "utf8").endsWith("\n")).toBe(true)
    expect(events.at(-1)).toMatchObject({ _tag: "RunFailed" })
    expect(files(dir).sort()).toEqual(["events.jsonl", "manifest.json", "pipeline.json"])
    free()
    const again = await rekindle(["run", file, "--out", out, "--cache", cache, "--set", "train.steps=5"])
    expect(again.code, again.err).toBe(0)
  })

  it("while a checkpoint is written: clear failure, earlier checkpoint kept, resume continues once there is room", async () => {
    const d = disk("checkpoint", 4096)
    const { file } = tinyProject(path.join(root, "ckpt-project"), { name: "ckpt", steps: 40, checkpointEvery: 5, dFF: 512, recycling: false })
    const out = path.join(d, "runs")
    let free = () => {}
    // a checkpoint of this model is far bigger than the events written until the next one
    const r = await rekindle(["run", file, "--out", out, "--cache", cache], { out, step: 11, action: () => (free = fill(d, 16 * 1024)) })
    expect(r.code, r.err).toBe(1)
    expectOneClearLine(r.err)
    expect(r.err).toMatch(/the checkpoint after step \d+ could not be written/)
    const dir = runFolder(out)!
    const manifest = readJson(path.join(dir, "manifest.json"))
    expect(manifest.status).toBe("failed")
    expect(manifest.error).toMatch(/the checkpoint after step 10 is kept \(`rekindle resume .*` continues from it\)/)
    expect(files(dir).filter((n) => /\.tmp-|run\.lock|reserve/.test(n))).toEqual([])
    free()
    const resumed = await rekindle(["resume", dir, "--cache", cache])
    expect(resumed.code, resumed.err).toBe(0)
    expect(resumed.out).toContain("from the checkpoint after step 10 of 40")
    expect(readJson(path.join(dir, "manifest.json")).status).toBe("finished")
  })

  it("while report.html is written: one warning line, no temp file, the run finishes and says so", async () => {
    const d = disk("report", 2048)
    const { file } = tinyProject(path.join(root, "report-project"), {
      name: "report",
      steps: 10,
      checkpointEvery: 0,
      recycling: false,
      log: [{ use: "log/jsonl" }, { use: "log/report" }]
    })
    const out = path.join(d, "runs")
    // room for the run's small files, not for the ~500 KB report
    fill(d, 256 * 1024)
    const r = await rekindle(["run", file, "--out", out, "--cache", cache])
    expect(r.code, r.err).toBe(0)
    expect(r.err).toMatch(/^warning: sink log\/report failed and was removed: .*report\.html: cannot write the report: the disk is full \(ENOSPC/m)
    expect(r.err).not.toMatch(/\n\s+at /)
    expect(r.err.match(/sink log\/report failed/g)).toHaveLength(1)
    const dir = runFolder(out)!
    expect(files(dir).sort()).toEqual(["events.jsonl", "manifest.json", "pipeline.json"])
    const manifest = readJson(path.join(dir, "manifest.json"))
    expect(manifest.status).toBe("finished")
    expect(manifest.warnings).toEqual([expect.stringMatching(/^sink log\/report failed and was removed: .*the disk is full \(ENOSPC/)])
  })
})
