/**
 * Every kind of bad input exits with code 2, a message naming the problem (field path, expected,
 * found), no stack trace, and nothing written to the runs folder.
 */
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, mkdtempSync, readdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli, fixture } from "./helpers.ts"

const cases: ReadonlyArray<readonly [string, string, ReadonlyArray<string>, ReadonlyArray<string>]> = [
  ["unknown top-level key", "unknown-key.yaml", [], [`modle: unknown key; did you mean "model"?`]],
  ["wrong type", "wrong-type.yaml", [], [`train.steps: Expected number, got "many"`]],
  ["out-of-range fraction", "fraction.ts", [], ["recycling.0.select.fraction: Expected a fraction in (0, 1], got 1.5"]],
  ["negative steps", "negative-steps.json", [], ["train.steps: Expected a value greater than 0, got -10"]],
  ["unknown plugin id", "unknown-id.yaml", [], [`optimizer.use: unknown optimizer "optim/adamww"; did you mean "optim/adamw"`]],
  ["plugin option typo", "typo.ts", [], [`recycling.0.select.tua: unknown option; did you mean "tau"?`]],
  // `fraction` belongs to the stage's select ref, not to the criterion's options: still suggested
  ["stage fraction typo", "good.ts", ["--set", "recycling.0.select.fracton=0.2"], [`recycling.0.select.fracton: unknown option; did you mean "fraction"?`]],
  ["a stage that never fires", "never-fires.ts", [], ["recycling.0.schedule: never fires: its first step would be 200, but training runs steps 0..99"]],
  ["YAML syntax error", "broken.yaml", [], [/broken\.yaml:\d+:\d+: invalid YAML: /.source]],
  [".ts pipeline that throws on import", "throws.ts", [], ["throws.ts: failed to load: cannot build this pipeline"]],
  ["missing file", "no-such-pipeline.ts", [], ["no-such-pipeline.ts: no such file"]],
  ["study with an empty grid", "empty-study.ts", [], ["grid: empty grid: sweep at least one path"]],
  ["dModel not divisible by heads", "heads.yaml", [], ["model.heads: dModel (130) must be divisible by heads (4)"]],
  ["unknown backend", "backend.yaml", [], [`backend: unknown backend "tpu"; known: auto, wasm, cpu`]],
  ["bad blas choice", "backend-blas.yaml", [], [`backend.blas: expected "auto", "openblas", "none" or a CBLAS library path, got "fast"`]],
  ["--set with a bad path", "good.ts", ["--set", "train.stepz=10"], [`train.stepz: unknown key; did you mean "steps"?`]],
  ["--set with a bad value", "good.ts", ["--set", "train.steps=-3"], ["train.steps: Expected a value greater than 0, got -3"]],
  ["--set through a non-object", "good.ts", ["--set", "optimizer.use.x=1"], [`--set optimizer.use.x: "optimizer.use" is "optim/sgd", not an object`]],
  ["--set without =", "good.ts", ["--set", "train.steps"], ["--set train.steps: expected path=value"]],
  ["--smoke below 2 steps", "good.ts", ["--smoke", "1"], ["--smoke: expected at least 2 steps, got 1"]],
  ["--smoke below 2 steps on a study", "study.ts", ["--smoke", "1"], ["--smoke: expected at least 2 steps, got 1"]]
]

describe("bad input", () => {
  for (const [what, file, extra, expected] of cases) {
    it.effect(`${what}: exit 2, a clear message, nothing written`, () =>
      Effect.gen(function*() {
        const out = join(mkdtempSync(join(tmpdir(), "rekindle-bad-")), "runs")
        const r = yield* cli(["run", fixture(file), "--out", out, ...extra])
        expect(r.code).toBe(2)
        for (const e of expected) expect(r.err).toMatch(new RegExp(e.startsWith("/") || e.includes("\\") ? e : e.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
        expect(r.err.startsWith("error: ")).toBe(true)
        expect(r.err).not.toMatch(/\n\s+at /)
        expect(existsSync(out)).toBe(false)
      }))
  }

  it.effect("a part that cannot be built at run time (a sink's folder): exit 2, the part named, no stack trace", () =>
    Effect.gen(function*() {
      const out = join(mkdtempSync(join(tmpdir(), "rekindle-bad-")), "runs")
      const r = yield* cli(["run", fixture("sink-fails.yaml"), "--out", out])
      expect(r.code).toBe(2)
      expect(r.err).toMatch(/(^|\n)error: log\/tensorboard: AlreadyExists: .*events\.jsonl/)
      expect(r.err).not.toMatch(/\n\s+at /)
      // the fresh run's folder, created before its sinks, is removed again
      expect(existsSync(out) ? readdirSync(out) : []).toEqual([])
    }), 60_000)

  it.effect("study run-cell --smoke below 2 steps: exit 2, the same message as run --smoke, nothing written", () =>
    Effect.gen(function*() {
      const out = join(mkdtempSync(join(tmpdir(), "rekindle-bad-")), "runs")
      const r = yield* cli(["study", "run-cell", fixture("study.ts"), "--index", "0", "--smoke", "1", "--runs-dir", out])
      expect(r.code).toBe(2)
      expect(r.err).toContain("--smoke: expected at least 2 steps, got 1")
      expect(r.err).not.toMatch(/\n\s+at /)
      expect(existsSync(out)).toBe(false)
    }))

  it.effect("every problem of a file is reported at once, each with its path, expectation and value", () =>
    Effect.gen(function*() {
      const r = yield* cli(["validate", fixture("many-problems.yaml")])
      expect(r.code).toBe(2)
      expect(r.err).toContain(`modle: unknown key; did you mean "model"?`)
      expect(r.err).toContain("train.steps: Expected a value greater than 0, got -1")
      expect(r.err).toContain(`train.batchSize: Expected number, got "32"`)
      expect(r.err).toContain(`optimizer.weightdecay: unknown option; did you mean "weightDecay"?`)
      expect(r.err.split("\n").filter((l) => l.startsWith("  "))).toHaveLength(4)
    }))
})
