import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { builtins } from "@rekindle/builtins"
import { type AnyPipeline, Compile, isStudy, override, Plan, Registry, Resolve, Studies, type Study } from "@rekindle/pipeline"
import * as presets from "../src/index.ts"
import {
  baseline,
  dffSweep,
  midpointLoss,
  presetNames,
  pruningCriteria,
  quickstart,
  recycleCopy,
  recycleCurrentDistribution,
  recycleImmunity,
  recycleInitial,
  recycleSmooth,
  retrainSubsets,
  weightDecay
} from "../src/index.ts"

const registry = Effect.runSync(Registry.make(builtins))
const compile = (p: unknown) => Effect.runSync(Compile.compile(registry, p))
const schedule = (p: unknown) => Plan.schedule(Effect.runSync(Resolve.resolve(registry, p)))
const variants = (s: Study) => Effect.runSync(Studies.variants(s))
/** The problems of a pipeline that must not compile. */
const problems = (p: unknown): Array<{ path: string; message: string }> => {
  const exit = Effect.runSyncExit(Compile.compile(registry, p))
  if (Exit.isSuccess(exit)) throw new Error("expected the pipeline to be rejected")
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  return [...((error as any)?.error?.problems ?? [])]
}

describe("presets", () => {
  it("every preset file is exported, and every preset (every study variant) compiles", () => {
    const dir = path.resolve(import.meta.dirname, "..")
    const files = fs.readdirSync(dir).filter((f) => f.endsWith(".ts")).map((f) => f.slice(0, -3)).sort()
    expect(files).toEqual([...presetNames].sort())
    const values = Object.entries(presets).filter(([k]) => k !== "presetNames").map(([, v]) => v as AnyPipeline | Study)
    expect(values).toHaveLength(presetNames.length)
    for (const v of values) {
      const runs = isStudy(v) ? variants(v).map((x) => x.pipeline) : [v]
      for (const p of runs) {
        const plan = compile(p)
        expect(plan.train.steps).toBeGreaterThan(0)
        expect(plan.name).toMatch(/^[a-z]/)
      }
    }
  })

  it("quickstart compiles: a small BERT on Brown with one recycling stage", () => {
    const plan = compile(quickstart)
    expect(plan.model).toMatchObject({ dModel: 128, heads: 4, layers: 2, dFF: 512, seqLen: 64 })
    expect(plan.data.corpus).toEqual({ kind: "brown" })
    expect(plan.recycling.map((s) => [s.criterion.id, s.reinit.id, s.fraction])).toEqual([["select/magnitude-smallest", "reinit/initial", 0.1]])
    expect(schedule(quickstart).stages[0]!.firing).toEqual([100, 200, 300])
  })

  it("baseline: a small BERT (minutes on 2 cores), BERT-style AdamW with warm-up, nothing else", () => {
    const plan = compile(baseline)
    expect(plan.recycling).toEqual([])
    expect(plan.pruning).toBeUndefined()
    expect(plan.retrain).toBeUndefined()
    expect(plan.midpointLoss).toBeUndefined()
    expect(plan.optimizer.id).toBe("optim/adamw")
    expect(plan.model).toMatchObject({ dModel: 128, heads: 4, layers: 2, dFF: 512, seqLen: 64 })
    expect(plan.train).toMatchObject({ steps: 400, batchSize: 32 })
    // no experiment sections in the resolved pipeline, so run hashes of plain pipelines are unchanged
    const json = Effect.runSync(Resolve.resolve(registry, baseline)).json
    expect(Object.keys(json)).not.toContain("pruning")
    expect(Object.keys(json)).not.toContain("retrain")
    expect(Object.keys(json)).not.toContain("midpointLoss")
  })

  it("recycle-initial: 10% smallest every 50 steps from 50 to 300, initial reinit, a dormant shadow", () => {
    const plan = compile(recycleInitial)
    expect(plan.recycling.map((s) => [s.criterion.id, s.reinit.id, s.fraction, s.optimizerState])).toEqual([
      ["select/magnitude-smallest", "reinit/initial", 0.1, "zero-moments"]
    ])
    expect(plan.recycling[0]!.shadow.map((s) => s.id)).toEqual(["select/dormant"])
    const s = schedule(recycleInitial)
    expect(s.stages[0]!.firing).toEqual([50, 100, 150, 200, 250, 300])
    expect(s.stages[0]!.kPerLayer).toBe(51)
  })

  it("recycling variants differ from recycle-initial only in the reinitializer", () => {
    const base = compile(recycleInitial).resolved as Record<string, any>
    for (const [p, reinit] of [
      [recycleCurrentDistribution, "reinit/current-distribution"],
      [recycleCopy, "reinit/copy"],
      [recycleSmooth, "reinit/smooth"]
    ] as const) {
      const plan = compile(p)
      expect(plan.recycling[0]!.reinit.id).toBe(reinit)
      const json = plan.resolved as Record<string, any>
      expect({ ...json, name: "x", recycling: [{ ...json.recycling[0], reinit: null }] })
        .toEqual({ ...base, name: "x", recycling: [{ ...base.recycling[0], reinit: null }] })
    }
  })

  it("recycle-immunity: K = 3 and 7 over twelve rounds", () => {
    const vs = variants(recycleImmunity)
    expect(vs.map((v) => v.name)).toEqual(["recycle-immunity-immunity=3", "recycle-immunity-immunity=7"])
    expect(vs.map((v) => compile(v.pipeline).recycling[0]!.immunity)).toEqual([3, 7])
    expect(schedule(vs[0]!.pipeline).stages[0]!.firing).toHaveLength(12)
  })

  it("dff-sweep: FF widths including none (dFF = 0 compiles: attention only)", () => {
    const vs = variants(dffSweep)
    expect(vs.map((v) => compile(v.pipeline).model.dFF)).toEqual([0, 128, 256, 512, 1024])
  })

  it("weight-decay: AdamW wd 0, 0.01, 0.1", () => {
    const names = variants(weightDecay).map((v) => compile(v.pipeline).optimizer.optimizer.name)
    expect(names.map((n) => /wd=([0-9.]+)/.exec(n)?.[1])).toEqual(["0", "0.01", "0.1"])
  })

  it("pruning-criteria: a mask ramping to half of each layer between steps 50 and 300, by three rank criteria", () => {
    const vs = variants(pruningCriteria)
    expect(vs.map((v) => compile(v.pipeline).pruning!.criterion.id)).toEqual([
      "select/magnitude-smallest", "select/magnitude-largest", "select/random"
    ])
    const p = schedule(vs[0]!.pipeline).pruning!
    expect(p.updates[0]).toEqual({ step: 50, fraction: 0, prunedPerLayer: 0 })
    expect(p.updates.at(-1)).toEqual({ step: 300, fraction: 0.5, prunedPerLayer: 256 })
    expect(p.updates).toHaveLength(26)
    expect(p.updates.map((u) => u.prunedPerLayer)).toEqual([...p.updates.map((u) => u.prunedPerLayer)].sort((a, b) => a - b))
  })

  it("retrain-subsets: 300 steps, then 100 steps retraining one subset under a fresh warm-up optimizer, then stop", () => {
    const vs = variants(retrainSubsets)
    const plans = vs.map((v) => compile(v.pipeline))
    expect(plans.map((p) => p.retrain!.subset)).toEqual(["smallest", "largest", "random", "all"])
    expect(plans.map((p) => p.retrain!.criterion?.id)).toEqual(["select/magnitude-smallest", "select/magnitude-largest", "select/random", undefined])
    for (const p of plans) {
      expect(p.train.steps).toBe(400)
      expect(p.retrain!.optimizer.name).toContain("warmup(10)")
      expect(p.retrain!.optimizer.learningRate(0)).toBeCloseTo(1e-4)
      expect(p.retrain!.optimizer.learningRate(50)).toBeCloseTo(1e-3)
    }
    expect(schedule(vs[0]!.pipeline).retrain).toMatchObject({ at: 300, until: 400, neuronsPerLayer: 51, then: "stop" })
    expect(schedule(vs[3]!.pipeline).retrain!.neuronsPerLayer).toBe(512)
  })

  it("midpoint-loss: coefficient 0 / 0.01 / 0.1 × p 1 / 2", () => {
    const vs = variants(midpointLoss)
    expect(vs.map((v) => {
      const m = compile(v.pipeline).midpointLoss!
      return [m.coefficient, m.p, m.center]
    })).toEqual([[0, 1, "mean"], [0, 2, "mean"], [0.01, 1, "mean"], [0.01, 2, "mean"], [0.1, 1, "mean"], [0.1, 2, "mean"]])
  })
})

describe("experiment sections", () => {
  it("defaults: pruning every 10 with the smallest magnitudes; retrain fraction 0.1, no warm-up, the run's lr, continue; midpoint p 2, mean", () => {
    const p = { ...baseline, pruning: { from: 0, until: 100, final: 0.2 }, retrain: { at: 200, subset: "random" as const, steps: 10 }, midpointLoss: { coefficient: 0.1 } }
    const plan = compile(p)
    expect(plan.pruning!.schedule).toEqual({ from: 0, until: 100, final: 0.2, every: 10 })
    expect(plan.pruning!.criterion.id).toBe("select/magnitude-smallest")
    expect(plan.retrain).toMatchObject({ at: 200, steps: 10, fraction: 0.1, then: "continue", lr: 1e-3 })
    expect(plan.retrain!.optimizer.learningRate(0)).toBe(1e-3)
    expect(plan.midpointLoss).toEqual({ coefficient: 0.1, p: 2, center: "mean", log: false, belowOnly: false })
    const json = plan.resolved as Record<string, any>
    expect(json.pruning).toEqual({ from: 0, until: 100, final: 0.2, every: 10, criterion: { use: "select/magnitude-smallest" } })
    expect(json.retrain).toEqual({ at: 200, subset: "random", fraction: 0.1, steps: 10, warmup: 0, then: "continue" })
    expect(plan.train.steps).toBe(400)
  })

  it("retraining that stops ends the run at at + steps (plan and schedule agree)", () => {
    const p = override(override(retrainSubsets.base, "retrain.at", 100), "retrain.steps", 50)
    expect(compile(p).train.steps).toBe(150)
    const s = schedule(p)
    expect(s.steps).toBe(150)
    expect(s.evals).toEqual([100, 150])
  })

  it("reports every problem with its path", () => {
    const found = problems({
      ...baseline,
      pruning: { from: 10, until: 500, final: 0.5, criterion: { use: "select/magnitude-smalest" } },
      retrain: { at: 350, subset: "random", steps: 100 }
    })
    expect(found.map((p) => p.path)).toEqual(["pruning.until", "pruning.criterion.use", "retrain.steps"])
    expect(found[0]!.message).toContain("training runs steps 0..399")
    expect(found[1]!.message).toContain("select/magnitude-smallest")
    expect(problems({ ...baseline, pruning: { from: 50, until: 10, final: 0.5 } }).map((p) => p.path)).toEqual(["pruning.until"])
    expect(problems({ ...baseline, midpointLoss: { coefficient: 1, center: "middle" } }).map((p) => p.path)).toEqual(["midpointLoss.center"])
    expect(problems({ ...baseline, retrain: { at: 1, subset: "all", steps: 1, extra: 1 } }).map((p) => p.path)).toEqual(["retrain.extra"])
    expect(problems(override({ ...baseline, pruning: { from: 0, until: 10, final: 0.5 } }, "model.dFF", 0)).map((p) => p.path)).toEqual(["pruning"])
    expect(problems({ ...baseline, pruning: { from: 0, until: 10, final: 0.5, criterion: { use: "select/dormant" } } }))
      .toEqual([{ path: "pruning.criterion", message: expect.stringContaining("rank criterion") }])
  })
})
