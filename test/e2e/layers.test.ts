/**
 * A run is a composition of layers (`Runner.layer`), and a test can swap one: the same tiny
 * pipeline asked to run on wasm but given `Engine.layerTest` (the cpu backend) runs on cpu and
 * trains exactly as the pipeline that names cpu itself (the same events, the backend's hash aside).
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { builtins } from "@rekindle/builtins"
import type { Event } from "@rekindle/core"
import { Engine } from "@rekindle/engine"
import { Compile, Registry } from "@rekindle/pipeline"
import { Determinism } from "@rekindle/run"
import { Runner } from "@rekindle/training"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { readEvents, tinyProject } from "./resilience/harness.ts"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-layers-"))

const runEvents = (name: string, backend: { readonly name: string }, swaps: Runner.Swaps = {}) =>
  Effect.gen(function*() {
    const { pipeline } = tinyProject(path.join(root, name), { name: "same", steps: 12, checkpointEvery: 0, backend })
    const plan = yield* Compile.compile(yield* Registry.make(builtins), pipeline)
    const result = yield* Runner.run(plan, { outDir: path.join(root, name, "out"), cacheDir: path.join(root, "cache"), backends: [] }, swaps)
    return readEvents(path.join(result.dir, "events.jsonl"))
  }).pipe(Effect.provide(NodeServices.layer))

const withoutName = (events: ReadonlyArray<Event.Event>) =>
  events.map((e) => (e._tag === "RunStarted" ? { ...e, run: "", pipelineHash: "" } : e))

describe("a run composed from layers", { timeout: 300_000 }, () => {
  it.effect("Engine.layerTest swapped in runs the pipeline on the cpu backend, exactly as a cpu pipeline", () =>
    Effect.gen(function*() {
      const swapped = yield* runEvents("swapped", { name: "wasm" }, { engine: Engine.layerTest })
      const cpu = yield* runEvents("cpu", { name: "cpu" })
      const started = swapped[0]
      expect(started?._tag === "RunStarted" ? started.backend.name : undefined).toBe("cpu")
      expect(swapped.filter((e) => e._tag === "TrainStep").length).toBe(4)
      const c = Determinism.compare(withoutName(cpu), withoutName(swapped))
      expect(c.equal, Determinism.describe(c, { expected: "cpu pipeline", actual: "wasm pipeline on Engine.layerTest" })).toBe(true)
    }))
})
