import { Effect, Exit } from "effect"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { builtins } from "@rekindle/builtins"
import { type AnyPipeline, Compile, isStudy, override, Plan, Registry, Resolve, Smoke, Studies, type Study } from "@rekindle/pipeline"
import { type MidpointLoss, Pruning, type Retrain } from "@rekindle/plugin-hooks"
import { Arms } from "@rekindle/replication"
import type { RunPlan } from "@rekindle/training"
import * as presets from "../src/index.ts"
import * as Scale from "../src/ReplicationScale.ts"
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
  replication,
  retrainSubsets,
  weightDecay
} from "../src/index.ts"

const registry = Effect.runSync(Registry.make(builtins))
const compile = (p: unknown) => Effect.runSync(Compile.compile(registry, p))
const schedule = (p: unknown) => Plan.schedule(Effect.runSync(Resolve.resolve(registry, p)))
const variants = (s: Study) => Effect.runSync(Studies.variants(s))
/** The built hook part `id` of a plan (undefined when the plan has none). */
const hook = <A>(plan: RunPlan, id: string): A | undefined => plan.hooks.find((h) => h.id === id)?.hook as A | undefined
const pruningOf = (plan: RunPlan) => hook<Pruning.PruningPart>(plan, "hooks/pruning")?.pruning
const retrainOf = (plan: RunPlan) => hook<Retrain.RetrainPart>(plan, "hooks/retrain")?.retrain
const midpointOf = (plan: RunPlan) => hook<MidpointLoss.MidpointLossPart>(plan, "hooks/midpoint-loss")?.config
/** The plan rows of a pipeline's hook `id`: its summary and rows. */
const hookPlan = (p: unknown, id: string) => schedule(p).hooks.find((h) => h.id === id)!

/** The problems of a pipeline that must not compile. */
const problems = (p: unknown): Array<{ path: string; message: string }> => {
  const exit = Effect.runSyncExit(Compile.compile(registry, p))
  if (Exit.isSuccess(exit)) throw new Error("expected the pipeline to be rejected")
  const error = exit.cause.reasons.find((r) => r._tag === "Fail")
  return [...((error as any)?.error?.problems ?? [])]
}

/** The steps of `rekindle run --smoke` without a number. */
const smokeSteps = 10

describe("smoke versions of the presets (rekindle run --smoke)", () => {
  const all = Object.entries(presets).filter(([k]) => k !== "presetNames").map(([k, v]) => [k, v as AnyPipeline | Study] as const)
  for (const [name, value] of all) {
    it(`${name}: every stage, probe, evaluation, checkpoint, pruning growth and retraining window happens within ${smokeSteps} steps`, () => {
      const runs = isStudy(value) ? variants(value).map((x) => x.pipeline) : [value]
      for (const p of runs) {
        const full = compile(p)
        const resolved = full.resolved as Record<string, unknown>
        const smoke = Smoke.shorten(resolved, smokeSteps)
        const plan = compile(smoke)
        const s = schedule(smoke)
        expect(plan.train.steps).toBe(smokeSteps)
        expect(s.steps).toBeLessThanOrEqual(smokeSteps)
        expect(s.stages).toHaveLength(full.recycling.length)
        for (const stage of s.stages) expect(stage.firing.length).toBeGreaterThan(0)
        expect(s.checkpoints.length).toBeGreaterThan(0)
        expect(s.evals.length).toBeGreaterThan(0)
        // probes run at step 0 and the end anyway; their cadence fits in the run
        for (const probe of (smoke["probes"] as Array<{ every: number }>)) expect(probe.every).toBeLessThan(smokeSteps)
        const pruning = pruningOf(plan)
        if (pruning !== undefined) {
          // the mask grows at least once, and reaches its final fraction inside the run
          expect(Pruning.updateSteps(pruning.schedule, plan.train.steps).length).toBeGreaterThan(0)
          expect(pruning.schedule.until).toBeLessThan(smokeSteps)
        }
        const retrain = retrainOf(plan)
        if (retrain !== undefined) {
          expect(retrain.at).toBeGreaterThan(0)
          expect(retrain.at + retrain.steps).toBeLessThanOrEqual(smokeSteps)
          const options = (smoke["hooks"] as Array<{ use: string; warmup: number; steps: number }>).find((h) => h.use === "hooks/retrain")!
          expect(options.warmup).toBeLessThanOrEqual(options.steps)
        }
        expect(plan.hooks.map((h) => h.id)).toEqual(full.hooks.map((h) => h.id))
        const warmup = (smoke["optimizer"] as { schedule?: { warmupSteps?: number } }).schedule?.warmupSteps
        if (warmup !== undefined) expect(warmup).toBeLessThanOrEqual(smokeSteps)
        // everything but the schedule-like fields is the full run's
        expect(smoke["model"]).toEqual(resolved["model"])
        expect(smoke["data"]).toEqual(resolved["data"])
      }
    })
  }

  it("a warm-up longer than the run is a problem at optimizer.schedule.warmupSteps", () => {
    const short = override(quickstart, "train.steps", 20)
    expect(problems({ ...short, recycling: [] })).toEqual([{
      path: "optimizer.schedule.warmupSteps",
      message: "the warm-up (40 steps) is longer than the run (train.steps = 20): the learning rate would never reach its peak"
    }])
  })

  it("a stage that never fires says how to shorten a pipeline with every stage kept", () => {
    const [p] = problems(override(quickstart, "train.steps", 50))
      .filter((x) => x.path === "recycling.0.schedule")
    expect(p!.message).toContain("rekindle run <file> --smoke")
  })
})

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
    // npm start leaves report.html and TensorBoard event files next to events.jsonl
    expect((plan.resolved as { log: Array<{ use: string }> }).log.map((s) => s.use)).toEqual(["log/console", "log/jsonl", "log/report", "log/tensorboard"])
  })

  it("baseline: a small BERT (minutes on 2 cores), BERT-style AdamW with warm-up, nothing else", () => {
    const plan = compile(baseline)
    expect(plan.recycling).toEqual([])
    expect(plan.hooks).toEqual([])
    expect(plan.optimizer.id).toBe("optim/adamw")
    expect(plan.model).toMatchObject({ dModel: 128, heads: 4, layers: 2, dFF: 512, seqLen: 64 })
    expect(plan.train).toMatchObject({ steps: 400, batchSize: 32 })
    // no hooks key in the resolved pipeline, so run hashes of plain pipelines are unchanged
    const json = Effect.runSync(Resolve.resolve(registry, baseline)).json
    expect(Object.keys(json)).not.toContain("hooks")
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
    expect(vs.map((v) => pruningOf(compile(v.pipeline))!.criterion.id)).toEqual([
      "select/magnitude-smallest", "select/magnitude-largest", "select/random"
    ])
    const p = hookPlan(vs[0]!.pipeline, "hooks/pruning")
    expect(p.summary).toBe("pruning: select/magnitude-smallest, to 0.5 of every layer; the mask may grow before 26 step(s):")
    expect(p.rows[0]).toBe("step 50: target 0 -> 0 pruned per layer")
    expect(p.rows.at(-1)).toBe("step 300: target 0.5 -> 256 pruned per layer")
    expect(p.rows).toHaveLength(26)
    const pruned = p.rows.map((r) => Number(/-> (\d+) pruned/.exec(r)![1]))
    expect(pruned).toEqual([...pruned].sort((a, b) => a - b))
  })

  it("retrain-subsets: 300 steps, then 100 steps retraining one subset under a fresh warm-up optimizer, then stop", () => {
    const vs = variants(retrainSubsets)
    const plans = vs.map((v) => compile(v.pipeline))
    expect(plans.map((p) => retrainOf(p)!.subset)).toEqual(["smallest", "largest", "random", "all"])
    expect(plans.map((p) => retrainOf(p)!.criterion?.id)).toEqual(["select/magnitude-smallest", "select/magnitude-largest", "select/random", undefined])
    for (const p of plans) {
      expect(p.train.steps).toBe(400)
      expect(retrainOf(p)!.optimizer.name).toContain("warmup(10)")
      expect(retrainOf(p)!.optimizer.learningRate(0)).toBeCloseTo(1e-4)
      expect(retrainOf(p)!.optimizer.learningRate(50)).toBeCloseTo(1e-3)
    }
    expect(hookPlan(vs[0]!.pipeline, "hooks/retrain").summary).toBe(
      `retraining: steps 300-399 train only the "smallest" subset (51 neuron(s) per layer), lr 0.001, warm-up 10; then the run stops`
    )
    expect(hookPlan(vs[3]!.pipeline, "hooks/retrain").summary).toContain("(512 neuron(s) per layer)")
  })

  it("midpoint-loss: coefficient 0 / 0.01 / 0.1 × p 1 / 2", () => {
    const vs = variants(midpointLoss)
    expect(vs.map((v) => {
      const m = midpointOf(compile(v.pipeline))!
      return [m.coefficient, m.p, m.center]
    })).toEqual([[0, 1, "mean"], [0, 2, "mean"], [0.01, 1, "mean"], [0.01, 2, "mean"], [0.1, 1, "mean"], [0.1, 2, "mean"]])
  })
})

describe("experiment hooks", () => {
  it("defaults: pruning every 10 with the smallest magnitudes; retrain fraction 0.1, no warm-up, the run's lr, continue; midpoint p 2, mean", () => {
    const p = {
      ...baseline,
      hooks: [
        { use: "hooks/pruning" as const, from: 0, until: 100, final: 0.2 },
        { use: "hooks/retrain" as const, at: 200, subset: "random" as const, steps: 10 },
        { use: "hooks/midpoint-loss" as const, coefficient: 0.1 }
      ]
    }
    const plan = compile(p)
    expect(pruningOf(plan)!.schedule).toEqual({ from: 0, until: 100, final: 0.2, every: 10 })
    expect(pruningOf(plan)!.criterion.id).toBe("select/magnitude-smallest")
    expect(retrainOf(plan)).toMatchObject({ at: 200, steps: 10, fraction: 0.1, then: "continue", lr: 1e-3 })
    expect(retrainOf(plan)!.optimizer.learningRate(0)).toBe(1e-3)
    expect(midpointOf(plan)).toEqual({ coefficient: 0.1, p: 2, center: "mean", log: false, belowOnly: false })
    const json = plan.resolved as Record<string, any>
    expect(json.hooks[0]).toEqual({ use: "hooks/pruning", from: 0, until: 100, final: 0.2, every: 10, criterion: { use: "select/magnitude-smallest" } })
    expect(json.hooks[1]).toEqual({ use: "hooks/retrain", at: 200, subset: "random", fraction: 0.1, steps: 10, warmup: 0, then: "continue" })
    expect(plan.train.steps).toBe(400)
  })

  it("retraining that stops ends the run at at + steps (plan and schedule agree)", () => {
    const p = override(override(retrainSubsets.base, "hooks.0.at", 100), "hooks.0.steps", 50)
    expect(compile(p).train.steps).toBe(150)
    const s = schedule(p)
    expect(s.steps).toBe(150)
    expect(s.evals).toEqual([100, 150])
  })

  it("reports every problem with its path", () => {
    // each hook reports its first problem (its make checks in order); hooks are checked independently
    const found = problems({
      ...baseline,
      hooks: [
        { use: "hooks/pruning", from: 10, until: 500, final: 0.5 },
        { use: "hooks/pruning", from: 10, until: 50, final: 0.5, criterion: { use: "select/magnitude-smalest" } },
        { use: "hooks/retrain", at: 350, subset: "random", steps: 100 }
      ]
    })
    expect(found.map((p) => p.path)).toEqual(["hooks.0.until", "hooks.1.criterion.use", "hooks.2.steps"])
    expect(found[0]!.message).toContain("training runs steps 0..399")
    expect(found[1]!.message).toContain("select/magnitude-smallest")
    expect(problems({ ...baseline, hooks: [{ use: "hooks/pruning", from: 50, until: 10, final: 0.5 }] }).map((p) => p.path)).toEqual(["hooks.0.until"])
    expect(problems({ ...baseline, hooks: [{ use: "hooks/midpoint-loss", coefficient: 1, center: "middle" }] }).map((p) => p.path)).toEqual(["hooks.0.center"])
    expect(problems({ ...baseline, hooks: [{ use: "hooks/retrain", at: 1, subset: "all", steps: 1, extra: 1 }] }).map((p) => p.path)).toEqual(["hooks.0.extra"])
    expect(problems(override({ ...baseline, hooks: [{ use: "hooks/pruning", from: 0, until: 10, final: 0.5 }] }, "model.dFF", 0)).map((p) => p.path))
      .toEqual(["hooks.0"])
    expect(problems({ ...baseline, hooks: [{ use: "hooks/pruning", from: 0, until: 10, final: 0.5, criterion: { use: "select/dormant" } }] }))
      .toEqual([{ path: "hooks.0.criterion", message: expect.stringContaining("rank criterion") }])
  })
})

describe("replication (the reference study as one study of named arms)", () => {
  const vs = variants(replication)
  const byArm = (arm: string) => vs.filter((v) => v.tags["arm"] === arm)
  const planOf = (arm: string) => compile(byArm(arm)[0]!.pipeline)

  it("has one arm per arm id of the analysis, in its order, each with seeds 1, 2, 3, and every arm compiles and plans", () => {
    expect(Object.keys(replication.arms)).toEqual([...Arms.armIds])
    expect(vs.map((v) => `${v.tags["arm"]}/${v.seed}`)).toEqual(Arms.armIds.flatMap((a) => [1, 2, 3].map((s) => `${a}/${s}`)))
    expect(vs.every((v) => v.name === `replication-${v.tags["arm"]}`)).toBe(true)
    for (const v of vs) {
      const plan = compile(v.pipeline)
      expect(plan.seed).toBe(v.seed)
      expect(schedule(v.pipeline).steps).toBe(plan.train.steps)
    }
  })

  it("every arm is at the replication scale: the model, batch, constant-lr AdamW without decay, the magnitude histograms, one wasm thread", () => {
    for (const arm of Arms.armIds) {
      const plan = planOf(arm)
      const json = plan.resolved as Record<string, any>
      expect(json.model).toMatchObject({ ...Scale.model, dFF: arm.startsWith("dff-") ? json.model.dFF : 256 })
      expect(json.train).toMatchObject({ batchSize: 16, evalEvery: 375 })
      expect(plan.train.steps).toBe(arm.startsWith("retrain-") ? 2250 : 3000)
      expect(json.optimizer).toMatchObject({ use: "optim/adamw", lr: 1e-3, weightDecay: arm === "weight-decay" ? Scale.weightDecay : 0, schedule: { kind: "constant" } })
      expect(json.backend).toEqual({ name: "wasm", threads: 1 })
      // no FF layer in dff-0: no magnitudes to histogram
      if (arm === "dff-0") expect(json.probes).toEqual([])
      else expect(json.probes).toContainEqual(expect.objectContaining({ use: "probe/magnitudes", every: 375 }))
    }
    expect(Scale.weightDecay * 1e-3 * 3000).toBeCloseTo(1e-3 * 0.01 * 80_000)
    expect(Scale.weightDecay).toBeCloseTo(0.2667, 4)
  })

  it("each arm makes its finding's one change, at the study's event times scaled to 3000 steps", () => {
    expect(["dff-0", "dff-half", "baseline", "dff-double"].map((a) => planOf(a).model.dFF)).toEqual([0, 128, 256, 512])
    for (const [arm, criterion] of [["prune-smallest", "select/magnitude-smallest"], ["prune-random", "select/random"], ["prune-largest", "select/magnitude-largest"]]) {
      const pruning = pruningOf(planOf(arm!))!
      expect(pruning.criterion.id).toBe(criterion)
      expect(pruning.schedule).toEqual({ from: 375, until: 2999, final: 1, every: 37 })
    }
    expect(hookPlan(byArm("prune-smallest")[0]!.pipeline, "hooks/pruning").rows.at(-1)).toBe("step 2999: target 1 -> 256 pruned per layer")
    expect(["retrain-smallest", "retrain-largest", "retrain-all"].map((a) => retrainOf(planOf(a))).map((r) => [r!.subset, r!.at, r!.steps, r!.fraction, r!.then]))
      .toEqual([["smallest", 1875, 375, 0.1, "stop"], ["largest", 1875, 375, 0.1, "stop"], ["all", 1875, 375, 0.1, "stop"]])
    const recycling = (arm: string) => {
      const stage = planOf(arm).recycling[0]!
      return [stage.criterion.id, stage.reinit.id, stage.fraction, stage.immunity, schedule(byArm(arm)[0]!.pipeline).stages[0]!.firing]
    }
    const rounds = [375, 750, 1125, 1500, 1875, 2250, 2625]
    expect(recycling("recycle-initial")).toEqual(["select/magnitude-smallest", "reinit/initial", 0.1, 0, rounds])
    expect(recycling("immunity-3")).toEqual(["select/magnitude-smallest", "reinit/initial", 0.1, 3, rounds])
    expect(recycling("immunity-7")).toEqual(["select/magnitude-smallest", "reinit/initial", 0.1, 7, rounds])
    expect(recycling("recycle-current")).toEqual(["select/magnitude-smallest", "reinit/current-distribution", 0.1, 0, rounds])
    expect(recycling("copy-small")).toEqual(["select/magnitude-smallest", "reinit/copy", 0.01, 0, rounds])
    expect(recycling("copy-large")).toEqual(["select/magnitude-smallest", "reinit/copy", 0.05, 0, rounds])
    expect(recycling("smooth-small")).toEqual(["select/magnitude-smallest", "reinit/smooth", 0.01, 0, rounds])
    expect(recycling("smooth-large")).toEqual(["select/magnitude-smallest", "reinit/smooth", 0.1, 0, rounds])
    const reinit = (arm: string) => (planOf(arm).resolved as Record<string, any>).recycling[0].reinit
    expect(reinit("copy-small")).toMatchObject({ use: "reinit/copy", noise: 0.05 })
    expect(reinit("smooth-large")).toMatchObject({ use: "reinit/smooth", steps: 37 })
    expect(["midpoint-1e-7", "midpoint-1e-3", "midpoint-1"].map((a) => midpointOf(planOf(a))))
      .toEqual([1e-7, 1e-3, 1].map((coefficient) => ({ coefficient, p: 1, center: "mean", log: false, belowOnly: false })))
    for (const arm of ["baseline", "weight-decay", "dff-half"]) {
      expect(planOf(arm).recycling).toEqual([])
      expect(planOf(arm).hooks).toEqual([])
    }
  })

  it("every arm runs as a 4-step smoke run (rekindle replicate --smoke 4)", () => {
    for (const arm of Arms.armIds) {
      const smoke = Smoke.shorten(planOf(arm).resolved as Record<string, unknown>, 4)
      expect(compile(smoke).train.steps).toBe(4)
      for (const stage of schedule(smoke).stages) expect(stage.firing.length).toBeGreaterThan(0)
    }
  })
})

