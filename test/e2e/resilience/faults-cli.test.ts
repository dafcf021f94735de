/**
 * Faults met through the `rekindle` bin as a child process (issue 13): real processes, real files.
 * - a resume whose pinned wasm thread count cannot be had stops (exit 2, nothing changed); a fresh
 *   run that falls back to one thread says so on stderr.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { readJson, rekindle, runFolder, tinyProject } from "./harness.ts"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-faults-cli-"))
const cache = path.join(root, "cache")
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

/** A temp folder the threaded wasm loader cannot write to (a file where a folder should be). */
const brokenTmp = path.join(root, "not-a-folder")
fs.writeFileSync(brokenTmp, "")
/** The environment for that (tsx's transform cache, also under the temp folder, turned off). */
const brokenEnv = { TMPDIR: brokenTmp, TSX_DISABLE_CACHE: "1" }

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
    expect(readJson(path.join(runFolder(freshOut)!, "manifest.json")).backend.threads).toBe(1)
  })
})
