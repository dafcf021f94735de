import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Event } from "@rekindle/core"
import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Data, Html, Write } from "../src/index.ts"

const started = (seed: number, steps = 100) => Event.RunStarted.make({
  time: "2026-01-01T00:00:00.000Z", run: "r", pipelineHash: "h", seed,
  backend: { name: "wasm", threads: 1, simd: false, overrides: true }, parameters: 10, steps
})
const trainStep = (step: number, loss: number) => Event.TrainStep.make({ step, loss, lr: 1e-3, tokens: 10, ms: 1, tokensPerSec: 10 })
const evalAt = (step: number, loss: number) => Event.Eval.make({ step, loss, accuracy: 0.5, batches: 1, tokens: 10 })
const magnitude = (step: number, layer: number) =>
  Event.Histogram.make({ step, probe: "probe/magnitudes", name: "magnitude", layer, edges: [0, 1, 2], counts: [1, 2], mean: 1, std: 0.5 })

/** Writes a run folder the way a run does (events.jsonl, pipeline.json, manifest.json). */
const runFolder = (root: string, folder: string, name: string, seed: number, evalLoss: number, extra: Array<Event.Event> = []) => {
  const dir = path.join(root, folder)
  fs.mkdirSync(dir, { recursive: true })
  const events = [started(seed), evalAt(0, 9), magnitude(0, 0), trainStep(50, 6), trainStep(95, 5), trainStep(100, 4), ...extra, evalAt(100, evalLoss),
    Event.RunFinished.make({ time: "2026-01-01T00:01:00.000Z", step: 100, finalLoss: 4, finalEvalLoss: evalLoss })]
  fs.writeFileSync(path.join(dir, "events.jsonl"), events.map((e) => Event.encodeLine(e) + "\n").join("") + '{"_tag":"TrainSt')
  fs.writeFileSync(path.join(dir, "pipeline.json"), JSON.stringify({ name, seed }))
  fs.writeFileSync(path.join(dir, "manifest.json"), JSON.stringify({ status: "finished", steps: 100 }))
  return dir
}

const run = <A, E>(eff: Effect.Effect<A, E, any>) => Effect.runPromise(eff.pipe(Effect.provide(NodeServices.layer)) as Effect.Effect<A, E>)
const runExit = <A, E>(eff: Effect.Effect<A, E, any>) => Effect.runPromiseExit(eff.pipe(Effect.provide(NodeServices.layer)) as Effect.Effect<A, E>)

describe("report data", () => {
  it("reduces events: tail loss over the last 10% of steps, final eval loss, status, last scatter, lineage counts", () => {
    const events = [
      started(1), trainStep(80, 3), trainStep(90, 2), trainStep(100, 1), evalAt(100, 2.5),
      Event.Scatter.make({ step: 10, probe: "p", name: "s", layer: 0, x: [1], y: [0], pearson: 0 }),
      Event.Scatter.make({ step: 20, probe: "p", name: "s", layer: 0, x: [2], y: [1], pearson: 0.5 }),
      Event.Lineage.make({ step: 50, layer: 1, resets: [0, 0, 1, 3], lastReset: [-1, -1, 50, 50], scoreAtReset: [0, 0, 1, 1], magnitude: [1, 1, 1, 1] })
    ]
    const d = Data.fromEvents(events, { folder: "f", pipeline: { name: "n", seed: 1 } })
    expect(d.name).toBe("n")
    expect(d.tailLoss).toBe(1) // the last 10% of 100 steps is steps > 90: only the window ending at 100
    expect(d.finalEvalLoss).toBe(2.5)
    expect(d.status).toBe("running")
    expect(d.scatters).toHaveLength(1)
    expect(d.scatters[0]!.pearson).toBe(0.5)
    expect(d.recycleCounts[0]!.counts).toEqual([2, 1, 0, 1])
  })

  it("reads a study from study.json (variant order, tags), groups by name with mean ± std over seeds", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-study-"))
    runFolder(root, "wd-a-1", "s-wd=0", 1, 3)
    runFolder(root, "wd-a-2", "s-wd=0", 2, 5)
    runFolder(root, "wd-b-1", "s-wd=0.1", 1, 4, [Event.Recycle.make({
      step: 50, stage: 0, layer: 0, criterion: "select/x", reinit: "reinit/y", k: 7, indices: [1], scores: [0], magnitudeBefore: 1,
      magnitudeAfter: 1, key: "k", optimizerState: "keep", shadow: []
    })])
    fs.writeFileSync(path.join(root, "study.json"), JSON.stringify({
      name: "s", file: "pipelines/s.ts",
      variants: [
        { name: "s-wd=0.1", seed: 1, tags: { weightDecay: 0.1, seed: 1 }, dir: "wd-b-1" },
        { name: "s-wd=0", seed: 1, tags: { weightDecay: 0, seed: 1 }, dir: "wd-a-1" },
        { name: "s-wd=0", seed: 2, tags: { weightDecay: 0, seed: 2 }, dir: "wd-a-2" },
        { name: "s-wd=1", seed: 1, tags: { weightDecay: 1, seed: 1 }, dir: "missing" }
      ]
    }))
    expect(await run(Data.detect(root))).toBe("study")
    const s = await run(Data.readStudy(root))
    expect(s.name).toBe("s")
    expect(s.variants.map((v) => v.folder)).toEqual(["wd-b-1", "wd-a-1", "wd-a-2", "missing"])
    expect(s.variants[3]!.run).toBeNull()
    expect(s.variants[0]!.run!.recycles[0]!.k).toBe(7)
    expect(s.groups.map((g) => g.name)).toEqual(["s-wd=0.1", "s-wd=0", "s-wd=1"])
    expect(s.groups[1]!.finalEvalLoss.mean).toBe(4)
    expect(s.groups[1]!.finalEvalLoss.std).toBeCloseTo(Math.SQRT2, 12)
    expect(s.groups[2]!.finalEvalLoss.mean).toBeNull()
    // the torn last line was skipped
    expect(s.variants[1]!.run!.train.map((t) => t.step)).toEqual([50, 95, 100])

    const written = await run(Write.write(root))
    expect(written).toEqual([path.join(root, "report.html"), ...["wd-b-1", "wd-a-1", "wd-a-2"].map((f) => path.join(root, f, "report.html"))])
    const html = fs.readFileSync(written[0]!, "utf8")
    const data = JSON.parse(/<script id="report-data" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!)
    expect(data.kind).toBe("study")
    expect(data.variants[0].run.histograms[0].name).toBe("magnitude")
  })

  it("a folder of run folders without study.json is a study of all of them; anything else is a user error", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-study-"))
    runFolder(root, "b", "x", 1, 3)
    runFolder(root, "a", "y", 1, 3)
    const s = await run(Data.readStudy(root))
    expect(s.variants.map((v) => [v.folder, v.name])).toEqual([["a", "y"], ["b", "x"]])
    expect(await run(Data.detect(path.join(root, "a")))).toBe("run")
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-empty-"))
    const exit = await runExit(Write.write(empty))
    expect(Exit.isFailure(exit) && String(exit.cause)).toMatch(/not a run or study folder/)
    const missing = await runExit(Write.write(path.join(empty, "nope")))
    expect(Exit.isFailure(missing) && String(missing.cause)).toMatch(/no such folder/)
  })

  it("the page escapes data that looks like markup", () => {
    const d = Data.fromEvents([started(1)], { folder: "f", pipeline: { name: "a</script><script>alert(1)</script>" } })
    const html = Html.render(d)
    expect(html).not.toContain("</script><script>alert(1)")
    const data = JSON.parse(/<script id="report-data" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!)
    expect(data.name).toBe("a</script><script>alert(1)</script>")
    expect(html).toContain("<title>rekindle: a&lt;/script&gt;")
  })
})
