import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Event, RunLocation } from "@rekindle/core"
import { Write } from "@rekindle/report"
import { Effect, Schema } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import * as Jsonl from "../src/Jsonl.ts"
import * as Report from "../src/Report.ts"

const events: Array<Event.Event> = [
  Event.RunStarted.make({
    time: "2026-01-01T00:00:00.000Z", run: "r-1", pipelineHash: "abc", seed: 3,
    backend: { name: "wasm", threads: 2, simd: true, overrides: true }, parameters: 1000, steps: 20
  }),
  Event.Eval.make({ step: 0, loss: 8, accuracy: 0, batches: 1, tokens: 10 }),
  Event.Histogram.make({ step: 0, probe: "probe/magnitudes", name: "magnitude", layer: 0, edges: [0, 1, 2], counts: [3, 1], mean: 0.7, std: 0.4 }),
  Event.TrainStep.make({ step: 10, loss: 7, lr: 1e-3, tokens: 100, ms: 5, tokensPerSec: 1000 }),
  Event.TrainStep.make({ step: 20, loss: 6, lr: 1e-3, tokens: 100, ms: 5, tokensPerSec: 1000 }),
  Event.Eval.make({ step: 20, loss: 6.5, accuracy: 0.1, batches: 1, tokens: 10 }),
  Event.RunFinished.make({ time: "2026-01-01T00:01:00.000Z", step: 20, finalLoss: 6, finalEvalLoss: 6.5 })
]

const embedded = (html: string) => JSON.parse(/<script id="report-data" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!)

describe("log/report", () => {
  it.effect("writes report.html at flush; rekindle report's page from events.jsonl is identical", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-report-"))
      fs.writeFileSync(path.join(dir, "pipeline.json"), JSON.stringify({ name: "tiny", seed: 3 }))
      yield* Effect.scoped(Effect.gen(function*() {
        const options = Schema.decodeUnknownSync(Report.ReportOptions)({})
        const report = yield* Report.make(options)
        const jsonl = yield* Jsonl.make({ file: "events.jsonl" })
        yield* report.flush // nothing yet: no file
        expect(fs.existsSync(path.join(dir, "report.html"))).toBe(false)
        for (const e of events) {
          yield* jsonl.write(e)
          yield* report.write(e)
        }
        yield* jsonl.flush
        yield* report.flush
      })).pipe(Effect.provideService(RunLocation, RunLocation.of({ path: dir })))
      const html = fs.readFileSync(path.join(dir, "report.html"), "utf8")
      const data = embedded(html)
      expect(data.kind).toBe("run")
      expect(data.name).toBe("tiny")
      expect(data.status).toBe("finished")
      expect(data.finalEvalLoss).toBe(6.5)
      expect(data.tailLoss).toBe(6) // last 10% of 20 steps: the step-20 window
      expect(data.train.map((t: { loss: number }) => t.loss)).toEqual([7, 6])
      expect(data.histograms[0].counts).toEqual([3, 1])
      // self-contained: no external scripts, styles or fetches
      expect(html).not.toMatch(/<script[^>]+src=/)
      expect(html).not.toMatch(/<link[^>]+href=/)
      expect(html).toContain("Plot") // Observable Plot is inlined

      fs.renameSync(path.join(dir, "report.html"), path.join(dir, "sink.html"))
      const written = yield* Write.write(dir)
      expect(written).toEqual([path.join(dir, "report.html")])
      expect(fs.readFileSync(path.join(dir, "report.html"), "utf8")).toBe(html)
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("a resumed run's report covers the events before the resume (read from events.jsonl)", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-report-"))
      const before = events.slice(0, 4) // RunStarted .. the step-10 train step
      fs.writeFileSync(path.join(dir, "events.jsonl"), before.map((e) => Event.encodeLine(e) + "\n").join(""))
      yield* Effect.scoped(Effect.gen(function*() {
        const report = yield* Report.make({ file: "report.html" })
        const jsonl = yield* Jsonl.make({ file: "events.jsonl" })
        for (const e of events.slice(4)) {
          yield* report.write(e)
          yield* jsonl.write(e)
        }
        yield* report.flush
      })).pipe(Effect.provideService(RunLocation, RunLocation.of({ path: dir })))
      const data = embedded(fs.readFileSync(path.join(dir, "report.html"), "utf8"))
      expect(data.train.map((t: { step: number }) => t.step)).toEqual([10, 20])
      expect(data.eval.map((t: { step: number }) => t.step)).toEqual([0, 20])
      expect(data.seed).toBe(3)
    }).pipe(Effect.provide(NodeServices.layer)))

  it("rejects a file name with a folder", () => {
    expect(() => Schema.decodeUnknownSync(Report.ReportOptions)({ file: "../x.html" })).toThrow()
    expect(Schema.decodeUnknownSync(Report.ReportOptions)({ file: "r.html" }).file).toBe("r.html")
  })
})
