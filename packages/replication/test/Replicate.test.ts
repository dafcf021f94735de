import { NodeServices } from "@effect/platform-node"
import { Effect } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Arms, Replicate } from "../src/index.ts"
import { likeTheStudy, nothingHappens, writeStudy } from "./studyFixture.ts"

const run = <A, E>(effect: Effect.Effect<A, E, NodeServices.NodeServices>) => Effect.runPromise(Effect.provide(effect, NodeServices.layer))

let root: string
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-replication-"))
})
afterAll(() => fs.rmSync(root, { recursive: true, force: true }))

const outcomes = (r: Replicate.ReplicationResult) => Object.fromEntries(r.findings.map((f) => [f.finding, f.verdict.outcome]))

describe("analyze", () => {
  it("a study that behaves like the original reproduces every finding, each with its rule and figures", async () => {
    const runs = writeStudy(path.join(root, "like"), likeTheStudy)
    expect(runs).toHaveLength(Arms.armIds.length * 3)
    const r = await run(Replicate.analyze(runs))
    expect(r.findings.map((f) => f.finding)).toEqual(["F1", "F2", "F3", "F4", "F5", "F6", "F7", "F8", "F9", "F10", "F11"])
    for (const f of r.findings) {
      expect(f.verdict.outcome, `${f.finding}: ${f.verdict.reason}`).toBe("reproduced")
      expect(f.verdict.rule.length).toBeGreaterThan(40)
      expect(f.claim).not.toBe("")
      expect(f.original).not.toBe("")
      expect(f.arms.map((a) => a.arm)).toEqual(Arms.findingArms[f.finding])
    }
    const byId = Object.fromEntries(r.findings.map((f) => [f.finding, f]))
    // F1: the low group is 120 of 256 neurons (47%) in layer 0 of the fixture
    expect(byId["F1"]!.ours).toContain("layer 0: bimodal in 3/3 seeds, low group 47%")
    expect(byId["F1"]!.ours).toContain("layer 1: bimodal in 0/3 seeds")
    // F2: the arms' losses keep the fixture's order, each with an interval
    const f2 = byId["F2"]!.arms.map((a) => a.loss.mean)
    expect(f2[0]).toBeGreaterThan(f2[1]!)
    expect(f2[1]).toBeGreaterThan(f2[2]!)
    expect(f2[2]).toBeGreaterThan(f2[3]!)
    for (const a of byId["F2"]!.arms) {
      expect(a.seeds).toBe(3)
      expect(a.loss.lo).toBeLessThanOrEqual(a.loss.mean)
      expect(a.loss.hi).toBeGreaterThanOrEqual(a.loss.mean)
    }
    // F6: 20 neurons come back every round, 6 fresh ones join: 120 of 156 later picks per layer
    expect(byId["F6"]!.ours).toContain("re-selection after round 1 77%")
    expect(byId["F6"]!.ours).toContain("124 distinct neurons, 40 recycled in every round")
    // F7: 2 × 182 distinct neurons with immunity 7 (each once)
    expect(byId["F7"]!.ours).toContain("immunity-7 364")
    // F8: the fixture's recycle-current adds 0.5 for 30 of every 60 steps after an event
    expect(byId["F8"]!.ours).toMatch(/recycle-current 0\.2[3-7]/)
  })

  it("a study where nothing happens contradicts the split and the cycle, and leaves the orderings inconclusive", async () => {
    const r = await run(Replicate.analyze(writeStudy(path.join(root, "null"), nothingHappens)))
    const o = outcomes(r)
    expect(o["F1"]).toBe("contradicted")
    expect(o["F2"]).toBe("inconclusive")
    expect(o["F3"]).toBe("inconclusive")
    // random picks: the re-selection share is chance, so the cycle half of F6 is contradicted
    expect(o["F6"]).toBe("contradicted")
    expect(r.findings.find((f) => f.finding === "F6")!.verdict.reason).toContain("contradicted")
    // no arm improves on the baseline beyond the noise margin, but the larger fraction does not hurt either
    expect(o["F9"]).toBe("inconclusive")
    // equal losses: no coefficient improves, which is F11's claim
    expect(o["F11"]).toBe("reproduced")
  })

  it("a missing arm makes exactly the findings that read it inconclusive, and says which", async () => {
    const runs = writeStudy(path.join(root, "missing"), likeTheStudy, [1, 2, 3], ["dff-double"])
    const r = await run(Replicate.analyze(runs))
    const f2 = r.findings.find((f) => f.finding === "F2")!
    expect(f2.verdict.outcome).toBe("inconclusive")
    expect(f2.verdict.reason).toContain("dff-double 0")
    for (const f of r.findings.filter((f) => !Arms.findingArms[f.finding].includes("dff-double"))) {
      expect(f.verdict.outcome, f.finding).toBe("reproduced")
    }
  })

  it("one seed is inconclusive everywhere, whatever the numbers", async () => {
    const r = await run(Replicate.analyze(writeStudy(path.join(root, "one"), likeTheStudy, [1])))
    for (const f of r.findings) {
      expect(f.verdict.outcome, f.finding).toBe("inconclusive")
      expect(f.verdict.reason).toContain("too few runs")
    }
  })

  it("a run folder that is not one fails with a user error naming it", async () => {
    const dir = path.join(root, "not-a-run")
    fs.mkdirSync(dir, { recursive: true })
    const error = await run(Effect.flip(Replicate.analyze([{ arm: "baseline", seed: 1, dir }])))
    expect(error._tag).toBe("UserError")
    expect(error.message).toContain(dir)
  })
})

/** The finding sections of the page: id, the outcome its verdict shows, its rule text. */
const sections = (html: string) =>
  [...html.matchAll(/<section id="(F\d+)" data-finding="\1">([\s\S]*?)<\/section>/g)].map((m) => ({
    id: m[1]!,
    outcome: /<span class="verdict verdict-(\w+)" data-outcome="\1">\1<\/span>/.exec(m[2]!)?.[1],
    rule: /<p class="rule"><b>Rule \(fixed before the runs\):<\/b> ([^<]*)<\/p>/.exec(m[2]!)?.[1],
    charts: m[2]!.includes(`<div data-charts="${m[1]}"></div>`)
  }))

describe("write", () => {
  it("writes replication.json with 11 findings and a page with each finding's verdict, rule and charts", async () => {
    const runs = writeStudy(path.join(root, "write"), likeTheStudy, [1, 2, 3], ["midpoint-1"])
    const result = await run(Replicate.analyze(runs))
    const out = path.join(root, "out", "nested")
    const files = await run(Replicate.write(out, result))
    expect(files).toEqual([path.join(out, "replication.json"), path.join(out, "replication.html")])
    const json = JSON.parse(fs.readFileSync(files[0]!, "utf8"))
    expect(json.findings).toHaveLength(11)
    expect(json.runs).toHaveLength(runs.length)
    expect(json.findings.find((f: { finding: string }) => f.finding === "F11").verdict.outcome).toBe("inconclusive")
    const html = fs.readFileSync(files[1]!, "utf8")
    const found = sections(html)
    expect(found.map((s) => s.id)).toEqual(result.findings.map((f) => f.finding))
    for (const [i, s] of found.entries()) {
      const f = result.findings[i]!
      expect(s.outcome, s.id).toBe(f.verdict.outcome)
      expect(s.rule, s.id).toBe(f.verdict.rule.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;"))
      expect(s.charts, s.id).toBe(true)
    }
    // the charts the page script draws are embedded: F1's magnitude histograms, F6's loss curves with the events
    const data = JSON.parse(/<script id="report-data" type="application\/json">(.*?)<\/script>/s.exec(html)![1]!)
    expect(data.kind).toBe("charts")
    expect(data.charts.F1[0].type).toBe("histograms")
    expect(data.charts.F1[0].histograms.length).toBe(2 * 9)
    expect(data.charts.F6[0].events).toEqual([375, 750, 1125, 1500, 1875, 2250, 2625])
    expect(data.charts.F6[1].type).toBe("counts")
  })
})
