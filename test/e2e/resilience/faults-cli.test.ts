/**
 * Faults met through the `rekindle` bin as a child process (issue 13): real processes, real files.
 * - a resume whose pinned wasm thread count cannot be had stops (exit 2, nothing changed); a fresh
 *   run that falls back to one thread says so on stderr;
 * - a `.ts` pipeline whose top-level await never settles: `validate` and `run` stop with a clear
 *   error after the load time-box; `--out` under /proc is refused up front;
 * - a read-only nested `--out` and a read-only `--cache` name the real cause (read-only file
 *   system as root, where a read-only tmpfs is mounted; permission denied otherwise).
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { fileURLToPath } from "node:url"
import { readJson, rekindle, runFolder, tinyProject } from "./harness.ts"

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
    expect(readJson(path.join(runFolder(freshOut)!, "manifest.json")).backend.threads).toBe(1)
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
})
