/**
 * A scaled-down quickstart end to end: the real pipeline file with overrides, compiled against the
 * built-in plugins and run on the embedded wasm engine over the Brown corpus. It must learn
 * (final eval loss well below the untrained model's) and leave a complete run folder.
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Event } from "@rekindle/core"
import { builtins } from "@rekindle/builtins"
import { Compile, Load, override, Registry } from "@rekindle/pipeline"
import { Runner } from "@rekindle/training"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "../..")

describe("quickstart (scaled down)", () => {
  it.effect("learns on Brown and writes a complete run folder", () =>
    Effect.gen(function*() {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-e2e-"))
      const loaded = yield* Load.loadFile(path.join(root, "pipelines/quickstart.ts"))
      if (loaded._tag !== "Pipeline") throw new Error("quickstart.ts should default-export a pipeline")
      let p: any = loaded.pipeline
      for (const [k, v] of Object.entries({
        "model.dModel": 64, "model.dFF": 256, "model.layers": 1, "model.seqLen": 32,
        "data.tokenizer.vocabSize": 2048,
        "train.steps": 80, "train.batchSize": 16, "train.evalEvery": 40, "train.logEvery": 10, "train.evalBatches": 2,
        "optimizer.lr": 3e-3,
        "recycling.0.schedule.every": 30, "recycling.0.schedule.from": 30, "recycling.0.schedule.until": 60
      })) p = override(p, k as never, v as never)
      const registry = yield* Registry.make(builtins)
      const plan = yield* Compile.compile(registry, { ...p, log: [{ use: "log/jsonl" }] })
      const result = yield* Runner.run(plan, { outDir: out, cacheDir: path.join(root, ".cache/rekindle"), backends: [] })

      const lines = fs.readFileSync(path.join(result.dir, "events.jsonl"), "utf8").trim().split("\n")
      const events = lines.map(Event.decodeLine)
      const evals = events.filter((e) => e._tag === "Eval")
      expect(evals.map((e) => e.step)).toEqual([0, 40, 80])
      const first = evals[0]!, last = evals.at(-1)!
      expect(first._tag === "Eval" && last._tag === "Eval" && last.loss < first.loss - 1).toBe(true)
      expect(events.filter((e) => e._tag === "Recycle").map((e) => e.step)).toEqual([30, 60])
      expect(events[0]!._tag).toBe("RunStarted")
      expect(events.at(-1)!._tag).toBe("RunFinished")
      const manifest = JSON.parse(fs.readFileSync(path.join(result.dir, "manifest.json"), "utf8"))
      expect(manifest.status).toBe("finished")
      expect(manifest.stepsDone).toBe(80)
      const pipeline = JSON.parse(fs.readFileSync(path.join(result.dir, "pipeline.json"), "utf8"))
      expect(pipeline.model.dModel).toBe(64)
    }).pipe(Effect.provide(NodeServices.layer)), 600_000)
})
