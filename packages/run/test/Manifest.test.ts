/**
 * manifest.json is decoded with the `Manifest` Schema on read: a complete one round-trips, a
 * missing or wrong field is a UserError naming the file and the field's path, and `Resume.readRun`
 * (resume, reproduce) refuses a corrupt one the same way.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Resume from "../src/Resume.ts"
import { readManifest } from "../src/RunFolder.ts"

const complete = {
  name: "quickstart",
  pipelineHash: "abcd1234",
  seed: 1,
  status: "finished",
  startedAt: "2026-01-01T00:00:00.000Z",
  endedAt: "2026-01-01T00:01:00.000Z",
  steps: 10,
  stepsDone: 10,
  backend: { name: "cpu", threads: 1, simd: false, overrides: false },
  versions: { rekindle: "0.1.0" },
  node: "v22.19.0",
  exit: { status: "finished", code: 0 }
}

const folder = (manifest: unknown) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-manifest-"))
  fs.writeFileSync(path.join(dir, "pipeline.json"), JSON.stringify({ name: "quickstart" }))
  fs.writeFileSync(path.join(dir, "manifest.json"), typeof manifest === "string" ? manifest : JSON.stringify(manifest))
  return dir
}

describe("readManifest", () => {
  it.effect("decodes a complete manifest; a folder without one has none", () =>
    Effect.gen(function*() {
      expect(yield* readManifest(folder(complete))).toEqual(complete)
      expect(yield* readManifest(fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-manifest-")))).toBeUndefined()
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("a wrong or missing field is a UserError naming the file and the field path", () =>
    Effect.gen(function*() {
      const dir = folder({ ...complete, stepsDone: "ten", backend: { ...complete.backend, threads: "1" }, node: undefined })
      const e = yield* Effect.flip(readManifest(dir))
      expect(e._tag).toBe("UserError")
      expect(e.message).toContain(path.join(dir, "manifest.json"))
      expect(e.message).toMatch(/stepsDone: Expected number/)
      expect(e.message).toMatch(/backend\.threads: Expected number/)
      expect(e.message).toMatch(/node: Missing key/)
      expect(e.problems?.map((p) => p.path.split("#")[1]).sort()).toEqual(["backend.threads", "node", "stepsDone"])
      const status = yield* Effect.flip(readManifest(folder({ ...complete, status: "done" })))
      expect(status.message).toMatch(/status: Expected "running" \| "finished" \| "failed" \| "interrupted", got "done"/)
      const json = yield* Effect.flip(readManifest(folder("{\"name\": ")))
      expect(json.message).toContain("not valid JSON")
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("readRun refuses a corrupt manifest with the same UserError", () =>
    Effect.gen(function*() {
      const e = yield* Effect.flip(Resume.readRun(folder({ ...complete, pipelineHash: 7 })))
      expect(e.message).toMatch(/pipelineHash: Expected string, got 7/)
      const ok = yield* Resume.readRun(folder(complete))
      expect(ok.manifest.status).toBe("finished")
    }).pipe(Effect.provide(NodeServices.layer)))
})
