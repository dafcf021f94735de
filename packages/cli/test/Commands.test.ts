import { describe, expect, it } from "@effect/vitest"
import { Event, Plugin } from "@rekindle/core"
import { Effect, Schema } from "effect"
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describeOptions, defaultsOf } from "../src/commands/Plugins.ts"
import { calls, cli, cliWithFakeTrainer, fixture } from "./helpers.ts"

const tmp = () => mkdtempSync(join(tmpdir(), "rekindle-cli-"))

describe("validate", () => {
  it.effect("accepts a good pipeline and summarizes it", () =>
    Effect.gen(function*() {
      const r = yield* cli(["validate", fixture("good.ts")])
      expect(r.err).toBe("")
      expect(r.code).toBe(0)
      expect(r.out).toContain("good.ts: ok (good: 300 steps, 1 recycling stage(s), optimizer optim/sgd, backend auto)")
    }))

  it.effect("checks every run of a study", () =>
    Effect.gen(function*() {
      const r = yield* cli(["validate", fixture("study.ts")])
      expect(r.code).toBe(0)
      expect(r.out).toContain("ok (study lr-study: 4 run(s))")
    }))

  it.effect("a signal the run cannot provide: exit 2 naming the field, no trace; fine with Adam", () =>
    Effect.gen(function*() {
      const r = yield* cli(["validate", fixture("signal-mismatch.ts")])
      expect(r.code).toBe(2)
      expect(r.err).toContain(
          `recycling.0.select.signals.v: signal/second-moment reads the optimizer slot "adam.nu", but the optimizer keeps no slots`
      )
      expect(r.err).not.toMatch(/\n\s+at /)
      const ok = yield* cli(["validate", fixture("signal-mismatch.ts"), "--set", "optimizer.use=optim/adam"])
      expect(ok.err).toBe("")
      expect(ok.code).toBe(0)
    }))

  it.effect("a bug in a plugin is an internal error: exit 1 with the trace", () =>
    Effect.gen(function*() {
      const r = yield* cli(["validate", fixture("buggy.ts")])
      expect(r.code).toBe(1)
      expect(r.err).toContain("internal error")
      expect(r.err).toContain("bug in t/buggy")
      expect(r.err).toMatch(/\n\s+at /)
    }))
})

describe("plan", () => {
  it.effect("shows stage firings, evaluations, checkpoints and neurons per event", () =>
    Effect.gen(function*() {
      const r = yield* cli(["plan", fixture("good.ts"), "--set", "train.checkpointEvery=150"])
      expect(r.code).toBe(0)
      expect(r.out.split("\n")).toEqual([
        "good: 300 steps, 2 layer(s) × 100 FF neurons",
        "  evaluations after steps: 100, 200, 300",
        "  checkpoints after steps: 150, 300",
        "  stage 0: t/dormant -> t/initial (per-layer); k = round(0.1 × 100) = 10 per layer, 20 per event",
        "    fires before steps: 100, 200 (2 time(s), 40 neuron resets in total)"
      ])
    }))

  it.effect("exits 2 when a stage can never fire", () =>
    Effect.gen(function*() {
      const r = yield* cli(["plan", fixture("good.ts"), "--set", "recycling.0.schedule.from=300"])
      expect(r.code).toBe(2)
      expect(r.err).toContain("recycling.0.schedule: never fires")
    }))
})

describe("schema and plugins", () => {
  it.effect("schema --out writes the JSON Schema with every registered part", () =>
    Effect.gen(function*() {
      const file = join(tmp(), "pipeline.schema.json")
      const r = yield* cli(["schema", "--out", file])
      expect(r.code).toBe(0)
      const doc = JSON.parse(readFileSync(file, "utf8"))
      expect(doc.$schema).toBe("https://json-schema.org/draft/2020-12/schema")
      const ids = doc.properties.optimizer.anyOf.map((m: any) => m.properties.use.enum[0])
      expect(ids).toEqual(["optim/sgd", "optim/adam", "optim/adamw"])
      expect(doc.properties.log.items.anyOf.map((m: any) => m.properties.use.enum[0])).toEqual(["log/console", "log/jsonl", "log/tensorboard", "log/report"])
      expect(doc.properties.probes.items.anyOf.map((m: any) => m.properties.use.enum[0])).toEqual(["probe/magnitudes", "probe/recycle-counts", "probe/activations"])
    }))

  it.effect("plugins lists parts with descriptions and options", () =>
    Effect.gen(function*() {
      const r = yield* cli(["plugins"])
      expect(r.code).toBe(0)
      expect(r.out).toContain(`@rekindle/plugin-optim 0.1.0 (namespace "optim", core ^0.1.0)`)
      expect(r.out).toMatch(/ {2}optim\/adamw \[optimizer\] .+/)
      expect(r.out).toMatch(/ {6}weightDecay: number ≥ 0 \(default 0\.01\) — Decoupled weight decay/)
      expect(r.out).toMatch(/ {6}every: integer > 0 \(default 1\)/)
      expect(r.out).toContain("betas: [number in [0, 1), number in [0, 1)] (default [0.9,0.999])")
      expect(r.out).toContain(`schedule: { kind: "constant" } | { kind: "warmup", ... } |`)
      expect(r.out).toContain("backends: auto, wasm, cpu")
    }))
})

describe("plugins: option defaults", () => {
  it("a required option does not hide the defaults of the others", () => {
    const options = Schema.Struct({
      tau: Schema.Finite.pipe(Schema.annotate({ description: "required threshold" })),
      every: Schema.Int.pipe(Schema.withDecodingDefaultKey(Effect.succeed(5))),
      note: Schema.optionalKey(Schema.String)
    })
    expect(defaultsOf(options)).toEqual({ every: 5 })
    const part = Plugin.part<"criteria">()({ description: "x", options, make: () => Effect.die("unused") })
    const entry = { id: "x/c", kind: "criteria", plugin: { name: "x", version: "1", namespace: "x", core: "^0.1.0" }, part, optionNames: ["tau", "every", "note"] } as const
    expect(describeOptions(entry as never)).toEqual([
      "tau: number (required) — required threshold",
      "every: integer (default 5)",
      "note: string (optional)"
    ])
  })
})

describe("cli basics", () => {
  it.effect("help exits 0; an unknown subcommand exits 2", () =>
    Effect.gen(function*() {
      expect((yield* cli(["--help"])).code).toBe(0)
      expect((yield* cli(["bogus"])).code).toBe(2)
      expect((yield* cli(["run"])).code).toBe(2)
    }))

  it.effect("an unknown command with --help names the command (and the closest one) and exits 2, not the general help with 0", () =>
    Effect.gen(function*() {
      const r = yield* cli(["rn", "--help"])
      expect(r.code).toBe(2)
      expect(r.err).toBe(`error: unknown command "rn"; did you mean "run"? (\`rekindle --help\` lists the commands)`)
      expect(r.out).toBe("")
      const far = yield* cli(["xyzzy", "-h"])
      expect(far.code).toBe(2)
      expect(far.err).toContain(`unknown command "xyzzy"`)
    }))

  it.effect("--help names the defaults of run's folders and checkpoints", () =>
    Effect.gen(function*() {
      const r = yield* cli(["run", "--help"])
      expect(r.code).toBe(0)
      expect(r.out).toMatch(/--out string\s+Root folder of runs \(default: runs; with --smoke: the smoke scratch folder\)/)
      expect(r.out).toMatch(/--cache string\s+Cache folder for tokenizers and tokenized corpora \(default: \.cache\/rekindle\)/)
      expect(r.out).toMatch(/--keep-checkpoints integer\s+.+\(default: 3\)/)
      expect((yield* cli(["resume", "--help"])).out).toContain("(default: .cache/rekindle)")
    }))
})

const writeRun = (
  dir: string,
  name: string,
  seed: number,
  evalLoss: number,
  losses: ReadonlyArray<number>,
  config: Record<string, unknown> = {},
  manifest?: Record<string, unknown>
) => {
  mkdirSync(dir, { recursive: true })
  const time = "2026-01-01T00:00:00.000Z"
  const steps = losses.length * 10
  const events: Array<Event.Event> = [
    Event.RunStarted.make({ time, run: name, pipelineHash: "h", seed, backend: { name: "cpu", threads: 1, simd: false, overrides: false }, parameters: 1, steps }),
    ...losses.map((loss, i) => Event.TrainStep.make({ step: (i + 1) * 10, loss, lr: 1, tokens: 1, ms: 1, tokensPerSec: 1 })),
    Event.RunFinished.make({ time, step: steps, finalLoss: losses.at(-1)!, finalEvalLoss: evalLoss })
  ]
  writeFileSync(join(dir, "events.jsonl"), events.map((e) => Event.encodeLine(e) + "\n").join("") + `{"_tag":"TrainSt`)
  writeFileSync(join(dir, "pipeline.json"), JSON.stringify({ name, seed, ...config }))
  if (manifest !== undefined) writeFileSync(join(dir, "manifest.json"), JSON.stringify({ status: "finished", ...manifest }))
}

describe("compare", () => {
  it.effect("groups runs by name: final eval loss and last-10% training loss, mean ± std over seeds", () =>
    Effect.gen(function*() {
      const root = tmp()
      // 20 logged steps of 10: the last 10% of 200 steps = steps 190 and 200
      const ramp = (end: number) => [...Array.from({ length: 18 }, () => 9), end - 1, end + 1]
      writeRun(join(root, "a1"), "a", 1, 2, ramp(3))
      writeRun(join(root, "a2"), "a", 2, 4, ramp(5))
      writeRun(join(root, "b1"), "b", 1, 1.5, ramp(2))
      const r = yield* cli(["compare", join(root, "a1"), join(root, "a2"), join(root, "b1")])
      expect(r.code).toBe(0)
      const rows = r.out.split("\n")
      expect(rows[0]).toMatch(/^run\s+seeds\s+final eval loss\s+train loss \(last 10%\)$/)
      expect(rows[2]).toMatch(/^a\s+2\s+3\.0000 ± 1\.4142\s+4\.0000 ± 1\.4142$/)
      expect(rows[3]).toMatch(/^b\s+1\s+1\.5000\s+2\.0000$/)
      // a folder of run folders counts as all of them
      const again = yield* cli(["compare", root])
      expect(again.out).toBe(r.out)
    }))

  it.effect("groups by configuration, not by name: two --set variants with the same seed are two rows, with the fields that differ", () =>
    Effect.gen(function*() {
      const root = tmp()
      const lr = (v: number) => ({ optimizer: { use: "optim/adamw", lr: v }, train: { steps: 200 } })
      writeRun(join(root, "x1"), "q", 1, 2, [3, 3], lr(1e-3))
      writeRun(join(root, "x2"), "q", 1, 4, [5, 5], lr(3e-4))
      writeRun(join(root, "x3"), "q", 2, 6, [7, 7], lr(1e-3))
      const r = yield* cli(["compare", root])
      expect(r.code).toBe(0)
      const rows = r.out.split("\n")
      expect(rows[2]).toMatch(/^q \[optimizer\.lr=0\.001\]\s+2\s+4\.0000 ± 2\.8284\s+5\.0000 ± 2\.8284$/)
      expect(rows[3]).toMatch(/^q \[optimizer\.lr=0\.0003\]\s+1\s+4\.0000\s+5\.0000$/)
      expect(r.out).toContain("fields that differ between the rows: optimizer.lr")
      expect(r.err).toBe("")
    }))

  it.effect("warns when a row pools runs of different backends or code versions, or runs without pipeline.json", () =>
    Effect.gen(function*() {
      const root = tmp()
      writeRun(join(root, "w1"), "w", 1, 2, [3], {}, { backend: { name: "wasm", threads: 2 }, git: "abc" })
      writeRun(join(root, "w2"), "w", 2, 2, [3], {}, { backend: { name: "cpu", threads: 1 }, git: "abc" })
      // without pipeline.json a run is known by its folder's name only
      const other = tmp()
      writeRun(join(root, "n"), "n", 1, 2, [3])
      writeRun(join(other, "n"), "n", 2, 2, [3])
      for (const d of [root, other]) rmSync(join(d, "n", "pipeline.json"))
      const r = yield* cli(["compare", root, other])
      expect(r.code).toBe(0)
      expect(r.err).toContain("warning: w: runs mix configurations: backend wasm (2 thread(s)) vs cpu (1 thread(s))")
      expect(r.err).toContain("warning: n: 2 runs without pipeline.json are grouped by name; their configurations may differ")
    }))

  it.effect("a folder that is not a run is a user error", () =>
    Effect.gen(function*() {
      const r = yield* cli(["compare", tmp()])
      expect(r.code).toBe(2)
      expect(r.err).toContain("not a run folder")
    }))
})

describe("run", () => {
  it.effect("runs a pipeline with the trainer", () =>
    Effect.gen(function*() {
      const out = join(tmp(), "runs")
      const r = yield* cliWithFakeTrainer(["run", fixture("good.ts"), "--out", out, "--set", "train.steps=10", "--set", "recycling.0.schedule.every=5"])
      expect(r.err).toBe("")
      expect(r.code).toBe(0)
      expect(r.out).toMatch(/^good: final loss 1\.0100, final eval loss 1\.5100\nrun folder: .+\/runs\/good-[0-9a-f]{8}$/)
    }))

  it.effect("runs every variant of a study, skips finished ones, writes study.json and prints the table", () =>
    Effect.gen(function*() {
      const out = join(tmp(), "runs")
      calls.length = 0
      const r = yield* cliWithFakeTrainer(["run", fixture("study.ts"), "--out", out])
      expect(r.code).toBe(0)
      expect(calls.map((c) => `${c.name}/${c.seed}`)).toEqual([
        "lr-study-lr=0.1/1", "lr-study-lr=0.1/2", "lr-study-lr=0.01/1", "lr-study-lr=0.01/2"
      ])
      const study = JSON.parse(readFileSync(join(out, "lr-study", "study.json"), "utf8"))
      expect(study.variants.map((v: any) => [v.name, v.seed, v.tags, v.status])).toEqual([
        ["lr-study-lr=0.1", 1, { lr: 0.1, seed: 1 }, "finished"],
        ["lr-study-lr=0.1", 2, { lr: 0.1, seed: 2 }, "finished"],
        ["lr-study-lr=0.01", 1, { lr: 0.01, seed: 1 }, "finished"],
        ["lr-study-lr=0.01", 2, { lr: 0.01, seed: 2 }, "finished"]
      ])
      // final eval loss = 10 lr + seed/100 + 0.5: lr 0.1 -> 1.51, 1.52
      expect(study.groups[0].finalEvalLoss.mean).toBeCloseTo(1.515, 10)
      expect(study.groups[0].finalEvalLoss.std).toBeCloseTo(Math.SQRT1_2 / 100, 10)
      expect(r.out).toMatch(/lr-study-lr=0\.1 +2 +1\.5150 ± 0\.0071 +1\.0\d{3} ± 0\.0071/)
      expect(r.out).toMatch(/lr-study-lr=0\.01 +2 +0\.6150 ± 0\.0071/)

      calls.length = 0
      const again = yield* cliWithFakeTrainer(["run", fixture("study.ts"), "--out", out])
      expect(again.code).toBe(0)
      expect(calls).toEqual([])
      expect(again.out.match(/already finished, skipped/g)).toHaveLength(4)
      expect(existsSync(join(out, "lr-study", "study.json"))).toBe(true)
    }))

  it.effect("a study of named arms runs like a grid study: <study>-<arm> per seed, tagged by arm; --set seeds=[...] sets its seeds for every command", () =>
    Effect.gen(function*() {
      const out = join(tmp(), "runs")
      calls.length = 0
      const r = yield* cliWithFakeTrainer(["run", fixture("arms-study.ts"), "--out", out, "--set", "seeds=[3]", "--set", "train.evalEvery=5"])
      expect(r.err).toBe("")
      expect(r.code).toBe(0)
      expect(calls.map((c) => `${c.name}/${c.seed}`)).toEqual(["arms-slow/3", "arms-fast/3"])
      const study = JSON.parse(readFileSync(join(out, "arms", "study.json"), "utf8"))
      expect(study.variants.map((v: any) => [v.name, v.seed, v.tags, v.status])).toEqual([
        ["arms-slow", 3, { arm: "slow", seed: 3 }, "finished"],
        ["arms-fast", 3, { arm: "fast", seed: 3 }, "finished"]
      ])
      const pipelines = study.variants.map((v: any) => JSON.parse(readFileSync(join(out, "arms", v.dir, "pipeline.json"), "utf8")))
      expect(pipelines.map((p: any) => [p.train.steps, p.train.evalEvery, p.optimizer.lr])).toEqual([[20, 5, 0.01], [10, 5, 0.1]])
      // the same cells, by index, for a scheduler given the same --set
      const cells = yield* cli(["study", "cells", fixture("arms-study.ts"), "--json", "--set", "seeds=[3]", "--set", "train.evalEvery=5"])
      expect(cells.out.split("\n").map((l) => JSON.parse(l).runId)).toEqual(study.variants.map((v: any) => v.dir))
      const bad = yield* cli(["study", "cells", fixture("arms-study.ts"), "--set", "seeds=[1.5]"])
      expect(bad.code).toBe(2)
      expect(bad.err).toContain("--set seeds: invalid study:\n  seeds.0: expected an integer, got 1.5")
    }))

  it.effect("--set applies to every variant of a study", () =>
    Effect.gen(function*() {
      const out = join(tmp(), "runs")
      calls.length = 0
      const r = yield* cliWithFakeTrainer(["run", fixture("study.ts"), "--out", out, "--set", "train.steps=5"])
      expect(r.code).toBe(0)
      const study = JSON.parse(readFileSync(join(out, "lr-study", "study.json"), "utf8"))
      expect(study.variants).toHaveLength(4)
      const dir = join(out, "lr-study", study.variants[0].dir)
      expect(JSON.parse(readFileSync(join(dir, "pipeline.json"), "utf8")).train.steps).toBe(5)
    }))
})
