import { describe, expect, it } from "vitest"
import { plugins } from "./fixtures-plugin.ts"
import * as Compile from "../src/Compile.ts"
import { definePipeline, override, withOptimizer, withStage } from "../src/Define.ts"
import * as Paths from "../src/Paths.ts"
import * as Registry from "../src/Registry.ts"
import { study, tagValue, variants } from "../src/Study.ts"
import { testPlugin } from "./fixtures-plugin.ts"
import { userErrorOf, valueOf } from "./helpers.ts"

const define = definePipeline.with([testPlugin])
const base = define({
  name: "base",
  optimizer: { use: "t/sgd", lr: 0.1 },
  train: { steps: 100 },
  recycling: [{ schedule: { every: 10 }, select: { use: "t/dormant", fraction: 0.1 }, reinit: { use: "t/initial" } }]
})

describe("composition", () => {
  it("definePipeline.with carries its plugins; the built-in form adds nothing", () => {
    expect(base.plugins).toEqual([testPlugin])
    expect(definePipeline({ name: "x" })).toEqual({ name: "x" })
    expect(definePipeline({ name: "x", plugins: [testPlugin] }).plugins).toEqual([testPlugin])
  })

  it("override sets a deep field without touching the original", () => {
    const p = override(base, "recycling.0.select.fraction", 0.3)
    expect(p.recycling?.[0]?.select.fraction).toBe(0.3)
    expect(base.recycling?.[0]?.select.fraction).toBe(0.1)
    expect(override(base, "data.masking.prob", 0.2).data).toEqual({ masking: { prob: 0.2 } })
  })

  it("override fails clearly on a path through a non-object or past a list's end", () => {
    expect(() => Paths.set({ backend: "auto" }, "backend.threads", 2)).toThrow(`"backend" is "auto", not an object`)
    expect(() => Paths.set(base, "recycling.3.immunity", 2)).toThrow(`"recycling" has 1 entries; index 3 is out of range`)
    expect(() => Paths.set(base, "recycling.x", 2)).toThrow(`"recycling" is a list; expected an index, got "x"`)
  })

  it("withStage appends and withOptimizer replaces", () => {
    const p = withOptimizer(withStage(base, { schedule: { every: 5 }, select: { use: "t/smallest", fraction: 0.5 } }), { use: "t/sgd", lr: 0.01 })
    expect(p.recycling?.map((s) => s.select.use)).toEqual(["t/dormant", "t/smallest"])
    expect(p.optimizer).toEqual({ use: "t/sgd", lr: 0.01 })
    expect(base.recycling).toHaveLength(1)
  })
})

describe("study", () => {
  it("expands the grid times seeds into named, tagged variants", () => {
    const s = study({ base, grid: { "recycling.0.select.fraction": [0.01, 0.1], "optimizer.lr": [0.1, 0.01] }, seeds: [1, 2] })
    const vs = valueOf(variants(s))
    expect(vs).toHaveLength(8)
    expect(vs.map((v) => `${v.name}/${v.seed}`).slice(0, 4)).toEqual([
      "base-fraction=0.01-lr=0.1/1",
      "base-fraction=0.01-lr=0.1/2",
      "base-fraction=0.01-lr=0.01/1",
      "base-fraction=0.01-lr=0.01/2"
    ])
    expect(vs[2]!.tags).toEqual({ fraction: 0.01, lr: 0.01, seed: 1 })
    expect(vs[2]!.pipeline.recycling?.[0]).toMatchObject({ select: { fraction: 0.01 } })
    expect(vs[2]!.pipeline.seed).toBe(1)
    expect(vs[2]!.pipeline.name).toBe("base-fraction=0.01-lr=0.01")
  })

  it("compiles every variant into a distinct run", () => {
    const registry = valueOf(Registry.make(plugins))
    const s = study({ base, grid: { "optimizer.lr": [0.1, 0.2] }, seeds: [1, 2], name: "lrs" })
    const plans = valueOf(variants(s)).map((v) => valueOf(Compile.compile(registry, v.pipeline)))
    expect(plans.map((p) => p.optimizer.optimizer.name)).toEqual([
      "sgd(lr=0.1, steps=100)", "sgd(lr=0.1, steps=100)", "sgd(lr=0.2, steps=100)", "sgd(lr=0.2, steps=100)"
    ])
    expect(new Set(plans.map((p) => JSON.stringify(p.resolved))).size).toBe(4)
    expect(plans.map((p) => p.name)).toEqual(["lrs-lr=0.1", "lrs-lr=0.1", "lrs-lr=0.2", "lrs-lr=0.2"])
  })

  it("uses longer keys when the last segments clash, and short tags for part refs", () => {
    const s = study({ base, grid: { "optimizer.lr": [0.1], "optimizer": [{ use: "t/sgd", lr: 0.5 }], "train.steps": [10] }, seeds: [3] })
    expect(valueOf(variants(s)).map((v) => v.name)).toEqual(["base-lr=0.1-optimizer=sgd-steps=10"])
    expect(tagValue({ kind: "text", path: "a b/c" })).toBe("kind_text_path_a_b_c")
  })

  it("defaults seeds to the base pipeline's seed", () => {
    expect(valueOf(variants(study({ base: { ...base, seed: 7 }, grid: { "train.steps": [10, 20] } }))).map((v) => v.seed)).toEqual([7, 7])
  })

  it("rejects an empty grid, an empty value list and no seeds", () => {
    expect(userErrorOf(variants(study({ base, grid: {} }))).message).toContain("grid: empty grid: sweep at least one path")
    expect(userErrorOf(variants(study({ base, grid: { "train.steps": [] } }))).message).toContain("grid.train.steps: expected a non-empty list of values")
    expect(userErrorOf(variants(study({ base, grid: { "train.steps": [1] }, seeds: [] }))).message).toContain("seeds: expected at least one seed")
  })
})

describe("study of named arms", () => {
  const other = define({ name: "other", optimizer: { use: "t/sgd", lr: 0.5 }, train: { steps: 40 } })

  it("expands arms times seeds into variants named <study>-<arm>, tagged by arm and seed, each arm its own pipeline", () => {
    const s = study({ name: "rep", arms: { plain: base, fast: other }, seeds: [1, 2] })
    const vs = valueOf(variants(s))
    expect(vs.map((v) => `${v.name}/${v.seed}`)).toEqual(["rep-plain/1", "rep-plain/2", "rep-fast/1", "rep-fast/2"])
    expect(vs.map((v) => v.tags)).toEqual([{ arm: "plain", seed: 1 }, { arm: "plain", seed: 2 }, { arm: "fast", seed: 1 }, { arm: "fast", seed: 2 }])
    expect(vs[3]!.pipeline).toEqual({ ...other, name: "rep-fast", seed: 2 })
    expect(vs[0]!.pipeline.recycling).toEqual(base.recycling)
  })

  it("compiles every arm into its own run, and defaults seeds to each arm's own seed", () => {
    const registry = valueOf(Registry.make(plugins))
    const s = study({ name: "rep", arms: { plain: { ...base, seed: 4 }, fast: other } })
    const vs = valueOf(variants(s))
    expect(vs.map((v) => v.seed)).toEqual([4, 1])
    const plans = vs.map((v) => valueOf(Compile.compile(registry, v.pipeline)))
    expect(plans.map((p) => [p.name, p.train.steps, p.recycling.length])).toEqual([["rep-plain", 100, 1], ["rep-fast", 40, 0]])
  })

  it("rejects no arms, an unsafe arm id, an arm that is not a pipeline and bad seeds, naming each field", () => {
    expect(userErrorOf(variants(study({ name: "rep", arms: {} }))).message).toContain("arms: expected at least one arm")
    const e = userErrorOf(variants(study({ name: "rep", arms: { "a/b": base, x: null as never }, seeds: [1, 1.5] })))
    expect(e.problems?.map((p) => p.path)).toEqual(["arms.a/b", "arms.x", "seeds.1"])
    expect(e.message).toContain("seeds.1: expected an integer, got 1.5")
    expect(userErrorOf(variants(study({ name: "rep", arms: { a: base }, seeds: [] }))).message).toContain("seeds: expected at least one seed")
    expect(userErrorOf(variants(study({ name: "rep", arms: { a: base }, seeds: "x" as never }))).message).toContain(`seeds: expected a list of integer seeds, e.g. [1, 2, 3], got "x"`)
  })
})

