import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { builtins, Compile, Plan, Registry, Resolve } from "@rekindle/pipeline"
import { baseline, quickstart } from "../src/index.ts"

const registry = Effect.runSync(Registry.make(builtins))

describe("presets", () => {
  it("quickstart compiles: a small BERT on Brown with one recycling stage", () => {
    const plan = Effect.runSync(Compile.compile(registry, quickstart))
    expect(plan.model).toMatchObject({ dModel: 128, heads: 4, layers: 2, dFF: 512, seqLen: 64 })
    expect(plan.data.corpus).toEqual({ kind: "brown" })
    expect(plan.recycling.map((s) => [s.criterion.id, s.reinit.id, s.fraction])).toEqual([["select/magnitude-smallest", "reinit/initial", 0.1]])
    const schedule = Plan.schedule(Effect.runSync(Resolve.resolve(registry, quickstart)))
    expect(schedule.stages[0]!.firing).toEqual([100, 200, 300])
  })

  it("baseline compiles: no recycling, BERT-style AdamW with warm-up", () => {
    const plan = Effect.runSync(Compile.compile(registry, baseline))
    expect(plan.recycling).toEqual([])
    expect(plan.optimizer.id).toBe("optim/adamw")
    expect(plan.model).toMatchObject({ dModel: 256, heads: 4, layers: 4, dFF: 1024, seqLen: 128 })
  })
})
