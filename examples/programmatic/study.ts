/**
 * rekindle as a library, in a few lines of user code: a study (magnitude vs random selection, two
 * seeds) built as a value, each variant compiled against the plugin registry and run, and the
 * runs compared in one table. `npx tsx study.ts` runs it into ./runs and prints the table.
 */
import { NodeRuntime, NodeServices } from "@effect/platform-node"
import { Summary } from "@rekindle/cli"
import { builtins } from "@rekindle/builtins"
import { Compile, definePipeline, Registry, Studies, study } from "@rekindle/pipeline"
import { Runner } from "@rekindle/training"
import { Console, Effect } from "effect"

/** A tiny pipeline: one FF layer of 64 neurons, 6 steps, a recycling stage every 2 steps. */
export const base = definePipeline({
  name: "programmatic",
  model: { dModel: 32, heads: 2, layers: 1, dFF: 64, seqLen: 32 },
  data: { tokenizer: { kind: "wordpiece", vocabSize: 2048, lowercase: true } },
  train: { steps: 6, batchSize: 8, evalEvery: 0, evalBatches: 1, logEvery: 2 },
  recycling: [{ schedule: { every: 2 }, select: { use: "select/magnitude-smallest", fraction: 0.1 } }],
  log: [{ use: "log/jsonl" }]
})

/** Magnitude vs random selection, two seeds each: four runs. */
export const magnitudeVsRandom = study({
  base,
  name: "magnitude-vs-random",
  grid: { "recycling.0.select": [{ use: "select/magnitude-smallest", fraction: 0.1 }, { use: "select/random", fraction: 0.1 }] },
  seeds: [1, 2]
})

/** Runs every variant of the study into `outDir`; returns the run folders and the comparison table. */
export const runStudy = (outDir: string, cacheDir = ".cache/rekindle") =>
  Effect.gen(function*() {
    const registry = yield* Registry.make(builtins)
    const dirs: Array<string> = []
    for (const variant of yield* Studies.variants(magnitudeVsRandom)) {
      const plan = yield* Compile.compile(registry, variant.pipeline)
      // a run is `Runner.program` over the layers of `Runner.layer` (folder, backend, data and model,
      // step hooks, session, sinks); `Runner.run(plan, options)` is the same in one call
      const result = yield* Runner.program(plan).pipe(Effect.provide(Runner.layer(plan, { outDir, cacheDir, backends: [] })))
      dirs.push(result.dir)
    }
    const summaries = yield* Effect.forEach(dirs, Summary.read)
    return { dirs, table: Summary.table(Summary.group(summaries)) }
  })

if (import.meta.main) {
  runStudy("runs/magnitude-vs-random").pipe(
    Effect.flatMap(({ table }) => Console.log(table)),
    Effect.provide(NodeServices.layer),
    NodeRuntime.runMain
  )
}
