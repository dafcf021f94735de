import { describe, expect, it } from "vitest"
import { plugins } from "./fixtures-plugin.ts"
import * as Compile from "../src/Compile.ts"
import * as Registry from "../src/Registry.ts"
import * as Resolve from "../src/Resolve.ts"
import { testPlugin } from "./fixtures-plugin.ts"
import { lines, userErrorOf, valueOf } from "./helpers.ts"

const registry = valueOf(Registry.make(plugins))

const good = {
  name: "unit",
  optimizer: { use: "t/sgd", lr: 0.5 },
  train: { steps: 300 },
  recycling: [{
    schedule: { every: 100 },
    select: { use: "t/dormant", fraction: 0.1, tau: 0.2 },
    reinit: { use: "t/initial" },
    shadow: [{ use: "t/smallest" }]
  }],
  probes: [{ use: "t/count", every: 50 }]
}

const problemsOf = (input: unknown) => lines(userErrorOf(Compile.compile(registry, input)))

describe("compile", () => {
  it("builds every part with its decoded options and the run's total steps", () => {
    const plan = valueOf(Compile.compile(registry, good))
    expect(plan.optimizer.id).toBe("t/sgd")
    expect(plan.optimizer.optimizer.name).toBe("sgd(lr=0.5, steps=300)")
    expect(plan.recycling).toHaveLength(1)
    const stage = plan.recycling[0]!
    expect(stage.schedule).toEqual({ every: 100, from: 100 })
    expect(stage.criterion.id).toBe("t/dormant")
    expect(stage.criterion.criterion.init({} as never)).toBe(0.2)
    expect(stage.fraction).toBe(0.1)
    expect(stage.scope).toBe("per-layer")
    expect(stage.optimizerState).toBe("zero-moments")
    expect(stage.shadow.map((s) => s.id)).toEqual(["t/smallest"])
    expect(plan.probes.map((p) => [p.id, p.probe.every])).toEqual([["t/count", 50]])
    expect(plan.sinks.map((s) => s.id)).toEqual(["log/console", "log/jsonl"])
    expect(plan.model).toEqual({
      dModel: 128, heads: 4, layers: 2, dFF: 512, seqLen: 64,
      activation: "relu", ffBias: false, causal: false, finalLayerNorm: true
    })
    expect(plan.backend).toEqual({ name: "auto" })
  })

  it("records the fully defaulted pipeline as JSON (options included)", () => {
    const plan = valueOf(Compile.compile(registry, good))
    const r = plan.resolved as Record<string, any>
    expect(r.optimizer).toEqual({ use: "t/sgd", lr: 0.5 })
    expect(r.recycling[0].select).toEqual({ use: "t/dormant", fraction: 0.1, tau: 0.2, every: 1 })
    expect(r.recycling[0].schedule).toEqual({ every: 100, from: 100 })
    expect(r.log).toEqual([{ use: "log/console", every: 1 }, { use: "log/jsonl", file: "events.jsonl" }])
    expect(r.data.tokenizer).toEqual({ kind: "wordpiece", vocabSize: 4096, lowercase: true })
    expect(r.train).toEqual({ steps: 300, batchSize: 32, evalEvery: 100, evalBatches: 4, logEvery: 10, checkpointEvery: 0 })
    expect(JSON.parse(JSON.stringify(r))).toEqual(r)
  })

  it("accepts the backend as a name or { name, threads }", () => {
    expect(valueOf(Compile.compile(registry, { ...good, backend: { name: "wasm", threads: 2 } })).backend).toEqual({ name: "wasm", threads: 2 })
    expect(valueOf(Compile.compile(registry, { ...good, backend: "fake" })).backend).toEqual({ name: "fake" })
  })

  it("ignores a .ts pipeline's plugin values", () => {
    expect(valueOf(Compile.compile(registry, { ...good, plugins: [testPlugin] })).name).toBe("unit")
  })

  it("rejects an unknown top-level key, suggesting the closest", () => {
    expect(problemsOf({ ...good, modle: {} })).toEqual([`modle: unknown key; did you mean "model"?`])
  })

  it("rejects a wrong type, showing what it got", () => {
    expect(problemsOf({ ...good, train: { steps: "many" } })).toEqual([`train.steps: Expected number, got "many"`])
  })

  it("rejects an out-of-range fraction", () => {
    const bad = { ...good, recycling: [{ ...good.recycling[0], select: { use: "t/dormant", fraction: 1.5 } }] }
    expect(problemsOf(bad)).toEqual([`recycling.0.select.fraction: Expected a fraction in (0, 1], got 1.5`])
    const zero = { ...good, recycling: [{ ...good.recycling[0], select: { use: "t/dormant", fraction: 0 } }] }
    expect(problemsOf(zero)).toEqual([`recycling.0.select.fraction: Expected a fraction in (0, 1], got 0`])
  })

  it("rejects negative steps", () => {
    expect(problemsOf({ ...good, train: { steps: -5 } })).toEqual([`train.steps: Expected a value greater than 0, got -5`])
  })

  it("rejects an unknown plugin id, suggesting the closest known ids", () => {
    expect(problemsOf({ ...good, optimizer: { use: "t/sdg" } })).toEqual([`optimizer.use: unknown optimizer "t/sdg"; did you mean "t/sgd"?`])
  })

  it("rejects a plugin option typo, suggesting the option", () => {
    const bad = { ...good, recycling: [{ ...good.recycling[0], select: { use: "t/dormant", fraction: 0.1, tua: 0.1 } }] }
    expect(problemsOf(bad)).toEqual([`recycling.0.select.tua: unknown option; did you mean "tau"?`])
  })

  it("rejects a bad option value with the part's own schema", () => {
    expect(problemsOf({ ...good, optimizer: { use: "t/sgd", lr: -1 } })).toEqual([`optimizer.lr: Expected a value greater than 0, got -1`])
  })

  it("rejects a stage whose schedule never fires", () => {
    const late = { ...good, recycling: [{ ...good.recycling[0], schedule: { every: 100, from: 500 } }] }
    expect(problemsOf(late)).toEqual([
      "recycling.0.schedule: never fires: its first step would be 500, but training runs steps 0..299 (train.steps = 300); " +
        "to try a pipeline in a few steps, `rekindle run <file> --smoke` shortens it with every stage kept"
    ])
    const inverted = { ...good, recycling: [{ ...good.recycling[0], schedule: { every: 10, from: 50, until: 20 } }] }
    expect(problemsOf(inverted)).toEqual(["recycling.0.schedule: never fires: until (20) is before from (50)"])
  })

  it("rejects dModel not divisible by heads", () => {
    expect(problemsOf({ ...good, model: { dModel: 130, heads: 4 } })).toEqual(["model.heads: dModel (130) must be divisible by heads (4)"])
  })

  it("rejects an unknown backend, listing the known ones", () => {
    expect(problemsOf({ ...good, backend: "tpu" })).toEqual([`backend: unknown backend "tpu"; known: auto, wasm, cpu, fake`])
    expect(problemsOf({ ...good, backend: { name: "tpu" } })).toEqual([`backend.name: unknown backend "tpu"; known: auto, wasm, cpu, fake`])
  })

  it("reports every problem at once, each with its full path", () => {
    const e = userErrorOf(Compile.compile(registry, {
      ...good,
      optimizer: { use: "t/sdg" },
      recycling: [{ ...good.recycling[0], select: { use: "t/dormant", fraction: 0.1, tua: 1 }, reinit: { use: "t/initial", x: 1 } }],
      log: [{ use: "log/consol" }]
    }))
    expect(lines(e)).toEqual([
      `optimizer.use: unknown optimizer "t/sdg"; did you mean "t/sgd"?`,
      `recycling.0.select.tua: unknown option; did you mean "tau"?`,
      "recycling.0.reinit.x: unknown option (t/initial takes no options)",
      `log.0.use: unknown sink "log/consol"; did you mean "log/console"?`
    ])
    expect(e.message).toContain("invalid pipeline:\n  optimizer.use: unknown optimizer")
  })

  it("console progress and events.jsonl are always on: a pipeline's log adds sinks to them, never replaces them", () => {
    const logOf = (log: unknown) => (valueOf(Compile.compile(registry, { ...good, ...(log !== undefined ? { log } : {}) })).resolved as { log: Array<{ use: string }> }).log
    const ids = (log: unknown) => logOf(log).map((s) => s.use)
    expect(ids(undefined)).toEqual(["log/console", "log/jsonl"])
    expect(ids([{ use: "log/report" }])).toEqual(["log/console", "log/jsonl", "log/report"])
    expect(ids([])).toEqual(["log/console", "log/jsonl"])
    // listed ones keep their place and options (so presets that list them resolve as before)
    expect(ids([{ use: "log/console" }, { use: "log/jsonl" }, { use: "log/report" }])).toEqual(["log/console", "log/jsonl", "log/report"])
    expect(logOf([{ use: "log/console", every: 5 }])).toEqual([{ use: "log/jsonl", file: "events.jsonl" }, { use: "log/console", every: 5 }])
    // a jsonl sink writing elsewhere is an extra: events.jsonl is still written
    expect(ids([{ use: "log/jsonl", file: "extra.jsonl" }])).toEqual(["log/console", "log/jsonl", "log/jsonl"])
  })

  it("requires a name", () => {
    expect(problemsOf({ train: { steps: 10 } })).toEqual(["name: Missing key"])
  })

  it("builds backend providers for the trainer", () => {
    const providers = valueOf(Compile.backendProviders(registry))
    expect(providers.map((p) => [p.name, p.priority])).toEqual([["fake", -1]])
  })
})

describe("resolve", () => {
  it("fills defaults without building anything", () => {
    const r = valueOf(Resolve.resolve(registry, { name: "defaults", optimizer: { use: "t/sgd" } }))
    expect(r.spec.data.corpus).toEqual({ kind: "brown" })
    expect(r.spec.data.masking).toEqual({ prob: 0.15, mask: 0.8, random: 0.1 })
    expect(r.spec.seed).toBe(1)
    expect(r.stages).toEqual([])
    expect(r.optimizer.options).toEqual({ lr: 0.1 })
  })
})

describe("every problem at once", () => {
  it("reports part problems even when the pipeline itself does not decode", () => {
    expect(problemsOf({
      ...good,
      modle: {},
      backend: "tpu",
      train: { steps: -1 },
      optimizer: { use: "t/sgd", lr: 0.5, momentum: 0.9 },
      recycling: [{ ...good.recycling[0], select: { use: "t/dormant", fraction: 2, tua: 1 } }]
    })).toEqual([
      `backend: unknown backend "tpu"; known: auto, wasm, cpu, fake`,
      `optimizer.momentum: unknown option; expected one of: lr`,
      "train.steps: Expected a value greater than 0, got -1",
      "recycling.0.select.fraction: Expected a fraction in (0, 1], got 2",
      `recycling.0.select.tua: unknown option; did you mean "tau"?`,
      `modle: unknown key; did you mean "model"?`
    ])
  })
})

describe("compile: shadows", () => {
  it("gives each shadow the hash of its decoded options, so one id with two option sets is told apart", () => {
    const hashes = (shadow: ReadonlyArray<Record<string, unknown>>) =>
      valueOf(Compile.compile(registry, { ...good, recycling: [{ ...good.recycling[0]!, shadow }] })).recycling[0]!.shadow.map((s) => s.optionsHash)
    const [a, b, c] = hashes([{ use: "t/dormant", tau: 0.2 }, { use: "t/dormant", tau: 0.3 }, { use: "t/dormant" }])
    expect(a).toMatch(/^[0-9a-f]{8}$/)
    expect(a).not.toBe(b)
    // defaults are filled in before hashing: the bare ref is the same shadow as the default written out
    expect(hashes([{ use: "t/dormant", tau: 0.1 }])).toEqual([c])
  })
})
