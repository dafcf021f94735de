/**
 * The threaded loader's script files (issue 13, faults 1 and 7): a worker script is never visible
 * half-written (a pthread worker reads it asynchronously after `new Worker()` returns, while the
 * glue asks for the next worker's URL), and processes share one folder, so a SIGKILLed process
 * leaves nothing new in the temp folder.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Worker } from "node:worker_threads"
import { afterAll, describe, expect, it } from "vitest"
import * as ThreadedWasmLoader from "../src/ThreadedWasmLoader.ts"

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-loader-test-"))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

/** Reads `file` in a tight loop on another thread until told to stop; counts reads that differ from `expected`. */
const reader = `
const { parentPort, workerData } = require("node:worker_threads")
const fs = require("node:fs")
const flag = new Int32Array(workerData.flag)
let reads = 0, torn = 0
parentPort.postMessage("ready")
while (Atomics.load(flag, 0) === 0) {
  const text = fs.readFileSync(workerData.file, "utf8")
  reads++
  if (text !== workerData.expected) torn++
}
parentPort.postMessage({ reads, torn })
`

const wasmDirs = (dir: string) => fs.readdirSync(dir).filter((n) => n.startsWith("rekindle-wasm-mt-"))

describe("threaded loader files", () => {
  it("never shows a half-written worker script while the glue asks for more workers", async () => {
    process.env["TMPDIR"] = fs.mkdtempSync(path.join(tmp, "race-"))
    ThreadedWasmLoader.install()
    // a marked worker script (the real one is ~3 KB; a bigger one widens a rewrite's window)
    const text = `/*${"x".repeat(400_000)}*/WasmBackendModuleThreadedSimd(Module)`
    const blob = new Blob([text])
    const file = URL.createObjectURL(blob)
    const expected = fs.readFileSync(file, "utf8")
    expect(expected.endsWith(text)).toBe(true)
    const flag = new SharedArrayBuffer(4)
    const w = new Worker(reader, { eval: true, workerData: { file, expected, flag } })
    const result = await new Promise<{ reads: number; torn: number }>((resolve, reject) => {
      w.on("error", reject)
      w.on("message", (m) => {
        if (m !== "ready") return resolve(m)
        // what the glue does: one URL per pool worker, while earlier workers load theirs
        for (let i = 0; i < 300; i++) expect(URL.createObjectURL(blob)).toBe(file)
        Atomics.store(new Int32Array(flag), 0, 1)
      })
    })
    await w.terminate()
    expect(result.reads).toBeGreaterThan(0)
    expect(result.torn).toBe(0)
  })

  it("SIGKILLed processes leave no temp folder per process: one shared folder is reused", async () => {
    const tmpdir = fs.mkdtempSync(path.join(tmp, "kill-"))
    const child = fileURLToPath(new URL("./fixtures/hold-threaded.ts", import.meta.url))
    const tsx = createRequire(import.meta.url).resolve("tsx")
    const killOnce = () =>
      new Promise<string>((resolve, reject) => {
        const p = spawn(process.execPath, ["--import", tsx, child], {
          env: { ...process.env, TMPDIR: tmpdir },
          stdio: ["ignore", "pipe", "inherit"]
        })
        let out = ""
        p.stdout.on("data", (d) => {
          out += String(d)
          if (out.includes("\n")) p.kill("SIGKILL")
        })
        p.on("error", reject)
        p.on("close", (_code, signal) => (signal === "SIGKILL" ? resolve(out) : reject(new Error(`child ended without SIGKILL: ${out}`))))
      })
    const first = JSON.parse(await killOnce())
    const second = JSON.parse(await killOnce())
    expect(first.threaded).toBe(true)
    expect(second.threaded).toBe(true)
    const dirs = wasmDirs(tmpdir)
    expect(dirs).toHaveLength(1)
    // nothing but the scripts (no temporary files of an interrupted write)
    expect(fs.readdirSync(path.join(tmpdir, dirs[0]!)).every((n) => /^(main|worker-[0-9a-f]+)\.cjs$/.test(n))).toBe(true)
    expect(fs.statSync(path.join(tmpdir, dirs[0]!)).mode & 0o077).toBe(0)
  }, 60_000)
})
