import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Event, RunLocation } from "@rekindle/core"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Writable } from "node:stream"
import * as Console from "../src/Console.ts"
import * as Jsonl from "../src/Jsonl.ts"

const started = Event.RunStarted.make({
  time: "2026-01-01T00:00:00.000Z", run: "r-1", pipelineHash: "abc", seed: 1,
  backend: { name: "wasm", threads: 2, simd: true, overrides: true }, parameters: 1_500_000, steps: 100
})
const step = Event.TrainStep.make({ step: 50, loss: 3.25, lr: 1e-3, tokens: 1000, ms: 10, tokensPerSec: 2000 })

describe("log/jsonl", () => {
  it.effect("appends one decodable event per line in the run folder", () =>
    Effect.gen(function*() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-jsonl-"))
      yield* Effect.scoped(Effect.gen(function*() {
        const sink = yield* Jsonl.make({ file: "events.jsonl" })
        yield* sink.write(started)
        yield* sink.write(step)
        yield* sink.flush
      })).pipe(Effect.provideService(RunLocation, RunLocation.of({ path: dir })))
      const lines = fs.readFileSync(path.join(dir, "events.jsonl"), "utf8").split("\n")
      expect(lines.at(-1)).toBe("")
      expect(lines.slice(0, -1).map(Event.decodeLine)).toEqual([started, step])
      expect(Jsonl.part.make).toBeTypeOf("function")
    }).pipe(Effect.provide(NodeServices.layer)))
})

describe("log/console", () => {
  it("the end of the run is one short line: the losses are the caller's final summary, not printed twice", () => {
    const finished = Event.RunFinished.make({ time: "2026-01-01T00:00:00.000Z", step: 100, finalLoss: 1.25, finalEvalLoss: 1.5 })
    expect(Console.render(finished, { total: 100, started: 0, now: 83_000 })).toBe("done: 100 steps in 1m23s")
  })

  it("renders progress with loss, tokens/s and ETA", () => {
    const text = Console.render(step, { total: 100, started: 0, now: 5000 })!
    expect(text).toContain("step  50/100")
    expect(text).toContain("loss 3.2500")
    expect(text).toContain("2000 tok/s")
    expect(text).toContain("ETA 5s")
    expect(Console.render(started, { total: 100, started: 0, now: 0 })).toContain("1.50M parameters, backend wasm (2 threads, simd)")
  })

  it.effect("prints one line per logged step when not on a terminal", () =>
    Effect.gen(function*() {
      const chunks: Array<string> = []
      const out = new Writable({ write: (c, _e, cb) => { chunks.push(String(c)); cb() } }) as unknown as NodeJS.WriteStream
      const sink = yield* Console.make({ every: 2 }, out)
      yield* sink.write(started)
      for (const s of [10, 20, 30]) yield* sink.write(Event.TrainStep.make({ ...step, step: s }))
      yield* sink.write(Event.Eval.make({ step: 30, loss: 2.5, accuracy: 0.25, batches: 1, tokens: 10 }))
      yield* sink.flush
      const lines = chunks.join("").trim().split("\n")
      expect(lines).toHaveLength(4)
      expect(lines[1]).toContain("step  10/100")
      expect(lines[2]).toContain("step  30/100")
      expect(lines[3]).toBe("eval @ 30: loss 2.5000  accuracy 25.0%")
    }))
})
