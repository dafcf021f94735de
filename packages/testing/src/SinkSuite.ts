/**
 * Conformance suite for sink plugins: a sink built from its part in a fresh run folder must take
 * one event of every kind, flush (more than once), keep accepting events after a flush, and close
 * with its scope, leaving only files inside the run folder.
 */
import { Event, type Plugin, RunLocation } from "@rekindle/core"
import { Effect, Layer } from "effect"
import { NodeServices } from "@effect/platform-node"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { decodeOptions } from "./Options.ts"

/** One event of every kind, in a plausible run order. */
export const sampleEvents = (): ReadonlyArray<Event.Event> => [
  Event.RunStarted.make({
    time: "2026-01-01T00:00:00.000Z", run: "suite-1", pipelineHash: "00000000", seed: 1,
    backend: { name: "cpu", threads: 1, simd: false, overrides: false }, parameters: 1000, steps: 20
  }),
  Event.Eval.make({ step: 0, loss: 5, accuracy: 0, batches: 1, tokens: 64 }),
  Event.TrainStep.make({ step: 10, loss: 4.5, lr: 1e-3, tokens: 640, ms: 12, tokensPerSec: 5000 }),
  Event.Recycle.make({
    step: 10, stage: 0, layer: 0, criterion: "select/x", reinit: "reinit/y", k: 2, indices: [1, 3], scores: [0.1, 0.2],
    magnitudeBefore: 0.1, magnitudeAfter: 0.5, key: "seed(1)/reinit/0/10", optimizerState: "zero-moments", shadow: []
  }),
  Event.Histogram.make({ step: 10, probe: "probe/x", name: "magnitude", layer: 0, edges: [0, 1, 2], counts: [3, 1], mean: 0.8, std: 0.3 }),
  Event.Scalar.make({ step: 10, probe: "probe/x", name: "magnitude.mean", layer: 0, value: 0.8 }),
  Event.Scatter.make({ step: 10, probe: "probe/x", name: "magnitude-vs-firing", layer: 0, x: [1, 2], y: [0.5, 0.7], pearson: 1 }),
  Event.Lineage.make({ step: 10, layer: 0, resets: [0, 1, 0, 1], lastReset: [-1, 10, -1, 10], scoreAtReset: [0, 0.1, 0, 0.2], magnitude: [1, 0.5, 1, 0.5] }),
  Event.TrainStep.make({ step: 20, loss: 4, lr: 1e-3, tokens: 640, ms: 12, tokensPerSec: 5000 }),
  Event.Eval.make({ step: 20, loss: 4.2, accuracy: 0.1, batches: 1, tokens: 64 }),
  Event.RunFinished.make({ time: "2026-01-01T00:01:00.000Z", step: 20, finalLoss: 4, finalEvalLoss: 4.2 })
]

/**
 * Registers the sink conformance tests for one sink part. `options` are the part's options in
 * their encoded (pipeline) form; they are decoded by the part's own schema.
 */
export const sinkConformance = (id: string, part: Plugin.Part<"sinks", any, any>, options: Record<string, unknown> = {}) =>
  describe(`sink conformance: ${id}`, () => {
    const run = (body: (dir: string) => Effect.Effect<void, unknown, any>) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-sink-"))
      const layer = Layer.mergeAll(NodeServices.layer, Layer.succeed(RunLocation, RunLocation.of({ path: dir })))
      return Effect.runPromise(Effect.scoped(body(dir)).pipe(Effect.provide(layer)) as Effect.Effect<void, unknown>).then(() => dir)
    }
    const build = Effect.gen(function*() {
      const decoded = yield* Effect.try({ try: () => decodeOptions(`sink ${id}`, part.options, options), catch: (e) => e })
      return yield* part.make(decoded, { totalSteps: 20 })
    })

    it("has a name and a boolean `required`", async () => {
      await run(() => Effect.gen(function*() {
        const sink = yield* build
        expect(sink.name.length).toBeGreaterThan(0)
        expect(typeof sink.required).toBe("boolean")
      }))
    })

    it("accepts one event of every kind, flushes twice, and keeps writing after a flush", async () => {
      const dir = await run(() => Effect.gen(function*() {
        const sink = yield* build
        const events = sampleEvents()
        for (const e of events.slice(0, 5)) yield* sink.write(e)
        yield* sink.flush
        for (const e of events.slice(5)) yield* sink.write(e)
        yield* sink.flush
        yield* sink.flush
      }))
      for (const name of fs.readdirSync(dir, { recursive: true })) {
        expect(path.resolve(dir, String(name)).startsWith(dir)).toBe(true)
      }
    })

    it("closes with its scope even when nothing was written", async () => {
      await run(() => Effect.asVoid(build))
    })
  })
