/**
 * Independent keys per purpose: adding shadow criteria (one of them random) and probes to a
 * pipeline must not change its training trajectory. Two in-process runs on the cpu backend; the
 * second's events, with the probes' own events and the shadow overlaps removed, equal the first's.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import type { Event } from "@rekindle/core"
import { builtins } from "@rekindle/builtins"
import { Compile, Registry } from "@rekindle/pipeline"
import { Determinism } from "@rekindle/run"
import { Runner } from "@rekindle/training"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { readEvents, tinyProject } from "./harness.ts"

const root = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-independence-"))

const runEvents = (name: string, edit: (p: any) => any) =>
  Effect.gen(function*() {
    const { pipeline } = tinyProject(path.join(root, name), { name: "same", steps: 40, checkpointEvery: 0 })
    const registry = yield* Registry.make(builtins)
    const plan = yield* Compile.compile(registry, edit(pipeline))
    const result = yield* Runner.run(plan, { outDir: path.join(root, name, "out"), cacheDir: path.join(root, "cache"), backends: [] })
    return readEvents(path.join(result.dir, "events.jsonl"))
  }).pipe(Effect.provide(NodeServices.layer))

/** Events without what the extras add: probe events, shadow overlaps, and the run's name and hash. */
const trajectory = (events: ReadonlyArray<Event.Event>): Array<Event.Event> =>
  events
    .filter((e) => e._tag !== "Histogram" && e._tag !== "Scalar" && e._tag !== "Scatter")
    .map((e) => (e._tag === "Recycle" ? { ...e, shadow: [] } : e._tag === "RunStarted" ? { ...e, run: "", pipelineHash: "" } : e))

describe("independent keys", { timeout: 300_000 }, () => {
  it.effect("shadow criteria and probes do not change the training trajectory", () =>
    Effect.gen(function*() {
      const plain = yield* runEvents("plain", (p) => ({ ...p, recycling: [{ ...p.recycling[0], shadow: [] }] }))
      const extra = yield* runEvents("extra", (p) => ({
        ...p,
        recycling: [{ ...p.recycling[0], shadow: [{ use: "select/random" }, { use: "select/magnitude-smallest" }, { use: "select/random-bernoulli" }] }],
        probes: [{ use: "probe/magnitudes", every: 3 }, { use: "probe/activations", every: 5 }]
      }))
      expect(extra.some((e) => e._tag === "Histogram")).toBe(true)
      expect(extra.some((e) => e._tag === "Recycle" && e.shadow.length === 3)).toBe(true)
      expect(plain.filter((e) => e._tag === "Recycle").length).toBeGreaterThan(4)
      const c = Determinism.compare(trajectory(plain), trajectory(extra))
      expect(c.equal, Determinism.describe(c, { expected: "without extras", actual: "with shadows and probes" })).toBe(true)
    }))
})
