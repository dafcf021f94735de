/**
 * Cross-process determinism through the real bin: `rekindle run` then `rekindle reproduce` of
 * the same folder (a second process, same pipeline, seed, backend and thread count) gives
 * identical events.jsonl apart from wall-clock fields, on the `cpu` and on the `wasm` backend
 * (2 threads). A tampered original is caught: reproduce exits 1 naming the event and field.
 * A fixed vocab.txt is used (a freshly trained WordPiece vocabulary may differ between processes).
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { problems, readJson, rekindle, runFolder, tinyProject } from "./harness.ts"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-determinism-"))
const cache = path.join(root, "cache")

const runAndReproduce = async (name: string, backend: { name: string; threads?: number }, steps: number) => {
  const { file } = tinyProject(path.join(root, name), { name, backend, steps, checkpointEvery: 0 })
  const out = path.join(root, name, "out")
  const run = await rekindle(["run", file, "--out", out, "--cache", cache])
  expect(problems(run.err)).toEqual([])
  expect(run.code).toBe(0)
  const dir = runFolder(out)!
  const manifest = readJson(path.join(dir, "manifest.json"))
  expect(manifest.backend).toMatchObject({ name: backend.name, ...(backend.threads !== undefined ? { threads: backend.threads } : {}) })
  const again = await rekindle(["reproduce", dir, "--cache", cache])
  return { dir, again }
}

describe("determinism across processes (rekindle reproduce)", { timeout: 300_000 }, () => {
  it("cpu: identical events; a tampered original is reported with the differing field", async () => {
    const { dir, again } = await runAndReproduce("det-cpu", { name: "cpu" }, 40)
    expect(problems(again.err)).toEqual([])
    expect(again.out).toMatch(/identical: \d+ events match/)
    expect(again.code).toBe(0)
    // the scratch reproduction is removed when it matches
    const scratch = /into (\S+)/.exec(again.out)![1]!
    expect(fs.existsSync(scratch)).toBe(false)

    // change one logged loss in a copy of the run: reproduce must notice and say where
    const copy = path.join(root, "tampered", path.basename(dir))
    fs.cpSync(dir, copy, { recursive: true })
    const file = path.join(copy, "events.jsonl")
    const lines = fs.readFileSync(file, "utf8").split("\n")
    const i = lines.findIndex((l) => l.includes("\"_tag\":\"TrainStep\",\"step\":30,"))
    expect(i).toBeGreaterThan(0)
    lines[i] = lines[i]!.replace(/"loss":([0-9.]+)/, (_m, x: string) => `"loss":${Number(x) + 1e-6}`)
    fs.writeFileSync(file, lines.join("\n"))
    const caught = await rekindle(["reproduce", copy, "--cache", cache, "--out", path.join(root, "tampered-out")])
    expect(caught.code).toBe(1)
    expect(caught.out).toContain("original has TrainStep at step 30, reproduction has TrainStep at step 30")
    expect(caught.out).toContain("field loss:")
    expect(caught.out).toContain("reproduction kept in")
  })

  it("wasm (2 threads): identical events", async () => {
    const { again } = await runAndReproduce("det-wasm", { name: "wasm", threads: 2 }, 16)
    expect(problems(again.err)).toEqual([])
    expect(again.out).toContain("backend wasm, 2 threads")
    expect(again.out).toMatch(/identical: \d+ events match/)
    expect(again.code).toBe(0)
  })
})
