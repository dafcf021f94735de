/**
 * The native BLAS through the real bin: a run on OpenBLAS records library, version, core type and
 * threads (manifest and RunStarted) and `rekindle reproduce` gives bitwise identical events; the
 * pure-wasm path (`blas: "none"`) gives losses equal to a committed golden digest (the same bits on
 * every x86-64 machine), and the two paths' losses agree to float32 tolerance; `blas: "openblas"`
 * without OpenBLAS is a clear error (exit 2) naming what to install; `auto` without it runs XNNPACK
 * and records why. OpenBLAS-dependent cases run where OpenBLAS is installed (`.ci/run` installs it).
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { NativeBlas } from "@rekindle/engine"
import { afterEach, describe, expect, it } from "vitest"
import { problems, readEvents, readJson, rekindle, runFolder, tinyProject } from "./harness.ts"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-blas-"))
const cache = path.join(root, "cache")

const haveOpenBlas = (() => {
  try {
    return NativeBlas.select("openblas").blas !== undefined
  } catch {
    return false
  }
})()

/**
 * The committed digest of the logged losses of the tiny run below on the pure-wasm path. Changed on
 * purpose when the fused wasm-SIMD kernels landed (their exp/ln and LayerNorm sums agree with the
 * TF.js composition to float32 rounding, not bit for bit; see packages/engine/README.md).
 */
const goldenXnnpackLosses = "414e569f4e9c2e06"

const run = async (name: string, backend: { name: string; threads?: number; blas?: string; blasThreads?: number }, steps = 12) => {
  const { file } = tinyProject(path.join(root, name), { name, backend, steps, checkpointEvery: 0, recycling: false })
  const out = path.join(root, name, "out")
  const r = await rekindle(["run", file, "--out", out, "--cache", cache])
  const dir = runFolder(out)
  return { r, dir, out }
}

const losses = (dir: string): Array<number> =>
  readEvents(path.join(dir, "events.jsonl")).flatMap((e) => (e._tag === "TrainStep" ? [e.loss] : []))

const digest = (xs: ReadonlyArray<number>): string =>
  createHash("sha256").update(Buffer.from(new Float64Array(xs).buffer)).digest("hex").slice(0, 16)

const savedEnv = process.env["REKINDLE_BLAS_CANDIDATES"]
afterEach(() => {
  if (savedEnv === undefined) delete process.env["REKINDLE_BLAS_CANDIDATES"]
  else process.env["REKINDLE_BLAS_CANDIDATES"] = savedEnv
})

describe("native BLAS (rekindle run / reproduce)", { timeout: 300_000 }, () => {
  it("blas none: XNNPACK, recorded, losses equal the golden digest", async () => {
    const { r, dir } = await run("xnn", { name: "wasm", threads: 2, blas: "none" })
    expect(problems(r.err)).toEqual([])
    expect(r.code).toBe(0)
    const manifest = readJson(path.join(dir!, "manifest.json"))
    expect(manifest.backend.blas).toMatchObject({ requested: "none", library: "none" })
    const started = readEvents(path.join(dir!, "events.jsonl"))[0]!
    expect(started._tag === "RunStarted" && started.backend.blas?.library).toBe("none")
    expect(digest(losses(dir!))).toBe(goldenXnnpackLosses)
  })

  it.runIf(haveOpenBlas)("blas openblas: recorded; reproduce is bitwise identical; losses agree with XNNPACK to float32 tolerance", async () => {
    const { r, dir } = await run("openblas", { name: "wasm", threads: 2, blas: "openblas", blasThreads: 2 })
    expect(problems(r.err)).toEqual([])
    expect(r.code).toBe(0)
    const blas = readJson(path.join(dir!, "manifest.json")).backend.blas
    expect(blas).toMatchObject({ requested: "openblas", library: "openblas", threads: 2 })
    expect(blas.version).toMatch(/^\d+\.\d+/)
    expect(typeof blas.coreType).toBe("string")
    const started = readEvents(path.join(dir!, "events.jsonl"))[0]!
    expect(started._tag === "RunStarted" && started.backend.blas).toEqual(blas)

    const again = await rekindle(["reproduce", dir!, "--cache", cache])
    expect(problems(again.err)).toEqual([])
    expect(again.out).toMatch(/identical: \d+ events match/)
    expect(again.code).toBe(0)

    // reproduce pins the recorded library: a different version warns, a library that cannot be loaded stops
    const manifestFile = path.join(dir!, "manifest.json")
    const original = fs.readFileSync(manifestFile, "utf8")
    const tampered = (blasChange: Record<string, unknown>) => {
      const m = JSON.parse(original)
      fs.writeFileSync(manifestFile, JSON.stringify({ ...m, backend: { ...m.backend, blas: { ...m.backend.blas, ...blasChange } } }))
    }
    tampered({ version: "0.0.1" })
    const warned = await rekindle(["reproduce", dir!, "--cache", cache])
    expect(warned.err).toContain(`warning: native BLAS differs from the original run (version: 0.0.1 -> ${String(blas.version)})`)
    tampered({ path: "/nonexistent/libopenblas.so.0" })
    const stopped = await rekindle(["reproduce", dir!, "--cache", cache])
    expect(stopped.code).toBe(2)
    expect(stopped.err).toMatch(/^error: the run used openblas .* which cannot be loaded here/)
    fs.writeFileSync(manifestFile, original)

    const xnn = losses(runFolder(path.join(root, "xnn", "out")) ?? (await run("xnn2", { name: "wasm", threads: 2, blas: "none" })).dir!)
    const native = losses(dir!)
    expect(native).toHaveLength(xnn.length)
    native.forEach((l, i) => expect(Math.abs(l - xnn[i]!)).toBeLessThan(1e-4 * Math.max(1, Math.abs(xnn[i]!))))
  })

  it("blas openblas without OpenBLAS: exit 2 naming what to install, nothing written", async () => {
    process.env["REKINDLE_BLAS_CANDIDATES"] = "/nonexistent/libopenblas.so.0"
    const { r, out } = await run("missing", { name: "wasm", threads: 1, blas: "openblas" })
    expect(r.code).toBe(2)
    expect(r.err).toMatch(/^error: backend\.blas: .*apt-get install libopenblas0-openmp/)
    expect(r.err).not.toMatch(/\n\s+at /)
    expect(fs.existsSync(out) ? fs.readdirSync(out) : []).toEqual([])
  })

  it("blas auto without a native library: runs on XNNPACK and records why", async () => {
    process.env["REKINDLE_BLAS_CANDIDATES"] = "/nonexistent/libopenblas.so.0"
    const { r, dir } = await run("auto-none", { name: "wasm", threads: 1, blas: "auto" }, 3)
    expect(r.code).toBe(0)
    const blas = readJson(path.join(dir!, "manifest.json")).backend.blas
    expect(blas).toMatchObject({ requested: "auto", library: "none" })
    expect(blas.reason).toMatch(/no native BLAS found/)
  })
})
