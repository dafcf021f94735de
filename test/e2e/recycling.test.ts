/**
 * The reference study's presets end to end, scaled down: the real pipeline files with overrides,
 * compiled against the built-in plugins and run on the embedded engine over the Brown corpus.
 * - recycle-initial: `Recycle` events land at exactly the steps `rekindle plan` predicts (one per
 *   layer and firing, k neurons each), and the run folder is complete.
 * - the other experiments through the Experiment: gradual pruning (`Prune` events at the planned
 *   updates, reaching the final fraction), retraining that stops the run (a `Retrain` event per
 *   layer at `at`, the run ends at at + steps) and the midpoint loss (`Scalar` events).
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Event } from "@rekindle/core"
import { builtins } from "@rekindle/builtins"
import { Compile, Load, override, Plan, Registry, Resolve } from "@rekindle/pipeline"
import { Runner } from "@rekindle/training"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "../..")

/** A tiny model and a short run over any preset. */
const tiny: Record<string, unknown> = {
  "model.dModel": 32, "model.heads": 2, "model.dFF": 64, "model.layers": 2, "model.seqLen": 32,
  "data.tokenizer.vocabSize": 2048,
  "train.batchSize": 8, "train.evalEvery": 0, "train.logEvery": 10, "train.evalBatches": 1,
  "optimizer.lr": 3e-3, "optimizer.schedule": { kind: "constant" }
}

const load = (file: string, overrides: Record<string, unknown>) =>
  Effect.gen(function*() {
    const loaded = yield* Load.loadFile(path.join(root, "pipelines", file))
    if (loaded._tag !== "Pipeline") throw new Error(`${file} should default-export a pipeline`)
    let p: any = loaded.pipeline
    for (const [k, v] of Object.entries({ ...tiny, ...overrides })) p = override(p, k as never, v as never)
    return { ...p, log: [{ use: "log/jsonl" }] }
  })

const runAndRead = (p: unknown) =>
  Effect.gen(function*() {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-e2e-"))
    const registry = yield* Registry.make(builtins)
    const schedule = Plan.schedule(yield* Resolve.resolve(registry, p))
    const plan = yield* Compile.compile(registry, p)
    const result = yield* Runner.run(plan, { outDir: out, cacheDir: path.join(root, ".cache/rekindle"), backends: [] })
    const events = fs.readFileSync(path.join(result.dir, "events.jsonl"), "utf8").trim().split("\n").map(Event.decodeLine)
    const manifest = JSON.parse(fs.readFileSync(path.join(result.dir, "manifest.json"), "utf8"))
    return { schedule, plan, result, events, manifest }
  })

describe("reference study presets (scaled down)", () => {
  it.effect("recycle-initial: Recycle events at exactly the planned steps", () =>
    Effect.gen(function*() {
      const p = yield* load("recycle-initial.ts", {
        "train.steps": 40,
        "recycling.0.schedule": { every: 10, from: 10, until: 30 }
      })
      const { schedule, events, manifest } = yield* runAndRead(p)
      const planned = schedule.stages[0]!
      expect(planned.firing).toEqual([10, 20, 30])
      const recycles = events.filter((e): e is Event.EventOf<"Recycle"> => e._tag === "Recycle")
      // one event per layer and firing, in order, each with the planned k
      expect(recycles.map((e) => [e.step, e.layer])).toEqual(planned.firing.flatMap((s) => [[s, 0], [s, 1]]))
      for (const e of recycles) {
        expect(e.k).toBe(planned.kPerLayer)
        expect(e.indices).toHaveLength(planned.kPerLayer)
        expect(e.criterion).toBe("select/magnitude-smallest")
        expect(e.reinit).toBe("reinit/initial")
        expect(e.shadow.map((s) => s.criterion)).toEqual(["select/dormant"])
      }
      expect(events[0]!._tag).toBe("RunStarted")
      expect(events.at(-1)!._tag).toBe("RunFinished")
      expect(manifest).toMatchObject({ status: "finished", stepsDone: 40 })
    }).pipe(Effect.provide(NodeServices.layer)), 600_000)

  it.effect("pruning, retraining that stops the run, and the midpoint loss run through the Experiment", () =>
    Effect.gen(function*() {
      const p = yield* load("baseline.ts", {
        "train.steps": 60,
        pruning: { from: 4, until: 16, final: 0.25, every: 4 },
        retrain: { at: 20, subset: "smallest", fraction: 0.25, steps: 10, warmup: 2, then: "stop" },
        midpointLoss: { coefficient: 0.01 }
      })
      const { schedule, plan, events, manifest } = yield* runAndRead(p)
      expect(plan.train.steps).toBe(30)
      const prunes = events.filter((e): e is Event.EventOf<"Prune"> => e._tag === "Prune")
      const growing = schedule.pruning!.updates.filter((u) => u.prunedPerLayer > 0)
      expect(prunes.map((e) => [e.step, e.layer, e.pruned])).toEqual(growing.flatMap((u) => [[u.step, 0, u.prunedPerLayer], [u.step, 1, u.prunedPerLayer]]))
      expect(prunes.at(-1)!.pruned).toBe(16)
      const retrains = events.filter((e): e is Event.EventOf<"Retrain"> => e._tag === "Retrain")
      expect(retrains.map((e) => [e.step, e.until, e.layer, e.indices.length])).toEqual([[20, 30, 0, 16], [20, 30, 1, 16]])
      const aux = events.filter((e): e is Event.EventOf<"Scalar"> => e._tag === "Scalar" && e.probe === "midpoint-loss" && e.name === "aux").map((e) => e.step)
      expect(aux).toEqual([0, 10, 20])
      const steps = events.filter((e): e is Event.EventOf<"TrainStep"> => e._tag === "TrainStep").map((e) => e.step)
      expect(steps).toEqual([10, 20, 30])
      expect(manifest).toMatchObject({ status: "finished", stepsDone: 30 })
    }).pipe(Effect.provide(NodeServices.layer)), 600_000)
})
