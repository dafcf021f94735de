/**
 * An out-of-tree plugin end to end: examples/criterion-contribution (its own package, namespace
 * `lab`) is registered the two ways a user would (the pipeline file's `plugins`, and the folder's
 * `rekindle.config.ts`), drives a real recycling stage in a short run on Brown, and its option
 * typos are reported with their full path, in-process and by the `rekindle` bin (exit 2).
 */
import { NodeServices } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Plugins, Scaffold } from "@rekindle/cli"
import { Event, UserError } from "@rekindle/core"
import { builtins } from "@rekindle/builtins"
import { Compile, Load, override, Registry } from "@rekindle/pipeline"
import { Runner } from "@rekindle/training"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"

const root = path.resolve(import.meta.dirname, "../..")
const example = path.join(root, "examples/criterion-contribution")
const bin = path.join(root, "packages/cli/bin/rekindle.mjs")

/** The `rekindle` bin run from the example's folder (so its rekindle.config.ts applies). */
const rekindle = (...args: Array<string>) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: example, encoding: "utf8", timeout: 60_000 })
  return { code: r.status, out: r.stdout, err: r.stderr }
}

/** The example's pipeline file, loaded the way the CLI loads it, with the plugins it carries. */
const loadExample = Effect.gen(function*() {
  const loaded = yield* Load.loadFile(path.join(example, "pipeline.ts"))
  if (loaded._tag !== "Pipeline") throw new Error("pipeline.ts should default-export a pipeline")
  return loaded
})

describe("example plugin lab/contribution (out of tree)", () => {
  it.effect("is registered by the pipeline file's plugins and by rekindle.config.ts", () =>
    Effect.gen(function*() {
      const loaded = yield* loadExample
      expect(loaded.plugins.map((p) => p.meta.namespace)).toEqual(["lab"])
      const config = yield* Load.loadConfig(example)
      expect(config.plugins?.map((p) => p.meta.name)).toEqual(["@rekindle-examples/criterion-contribution"])
      // both at once: the same plugin value is registered once
      const registry = yield* Registry.make([...builtins, ...(config.plugins ?? []), ...loaded.plugins])
      expect(registry.plugins.filter((p) => p.meta.namespace === "lab")).toHaveLength(1)
      expect(Plugins.render(registry, Registry.kindNoun)).toContain("lab/contribution [criterion]")
      expect(Plugins.render(registry, Registry.kindNoun)).toContain("normalize: boolean (default false)")
    }).pipe(Effect.provide(NodeServices.layer)))

  it.effect("chooses the recycled neurons of a short run on Brown", () =>
    Effect.gen(function*() {
      const out = fs.mkdtempSync(path.join(os.tmpdir(), "rekindle-example-"))
      const loaded = yield* loadExample
      let p: any = loaded.pipeline
      for (const [k, v] of Object.entries({
        "model.dModel": 32, "model.heads": 2, "model.dFF": 128, "model.layers": 1, "model.seqLen": 32,
        "data.tokenizer": { kind: "wordpiece", vocabSize: 2048, lowercase: true },
        "train.steps": 30, "train.batchSize": 8, "train.evalEvery": 0, "train.logEvery": 10, "train.evalBatches": 1,
        "recycling.0.schedule.every": 10, "recycling.0.schedule.from": 10, "recycling.0.schedule.until": 20
      })) p = override(p, k as never, v as never)
      const registry = yield* Registry.make([...builtins, ...loaded.plugins])
      const plan = yield* Compile.compile(registry, { ...p, log: [{ use: "log/jsonl" }] })
      const result = yield* Runner.run(plan, { outDir: out, cacheDir: path.join(root, ".cache/rekindle"), backends: [] })

      const events = fs.readFileSync(path.join(result.dir, "events.jsonl"), "utf8").trim().split("\n").map(Event.decodeLine)
      const recycles = events.flatMap((e) => (e._tag === "Recycle" ? [e] : []))
      expect(recycles.map((e) => [e.step, e.layer])).toEqual([[10, 0], [20, 0]])
      for (const e of recycles) {
        expect(e.criterion).toBe("lab/contribution")
        // rank count, per-layer scope: exactly k = round(0.1 · 128) = 13 neurons
        expect(e.k).toBe(13)
        expect(e.indices).toHaveLength(13)
        expect(new Set(e.indices).size).toBe(13)
        expect(e.scores.every((s) => s >= 0)).toBe(true)
        expect(e.shadow.map((s) => s.criterion)).toEqual(["select/magnitude-smallest", "select/dormant"])
        const magnitude = e.shadow[0]!
        expect(magnitude.chosen).toBe(13)
        expect(magnitude.jaccard).toBeGreaterThanOrEqual(0)
        expect(magnitude.jaccard).toBeLessThanOrEqual(1)
      }
      // the run folder records the criterion with its options filled in
      const pipeline = JSON.parse(fs.readFileSync(path.join(result.dir, "pipeline.json"), "utf8"))
      expect(pipeline.recycling[0].select).toEqual({ use: "lab/contribution", fraction: 0.1, normalize: false })
      expect(events.at(-1)!._tag).toBe("RunFinished")
      // the doc's shadow summary script reads the same folder
      const report = spawnSync(process.execPath, ["--import", "tsx", "shadow-report.ts", result.dir], { cwd: example, encoding: "utf8" })
      expect(report.stderr).toBe("")
      expect(report.stdout).toMatch(/^lab\/contribution vs select\/magnitude-smallest: mean Jaccard [01]\.\d{3} over 2 events/m)
      expect(report.stdout).toMatch(/^lab\/contribution vs select\/dormant: mean Jaccard [01]\.\d{3} over 2 events/m)
    }).pipe(Effect.provide(NodeServices.layer)), 120_000)

  it.effect("reports a typo in its option with the full path", () =>
    Effect.gen(function*() {
      const loaded = yield* loadExample
      const p = loaded.pipeline as { recycling: Array<{ select: Record<string, unknown> }> }
      const stage = p.recycling[0]!
      const typo = { ...p, recycling: [{ ...stage, select: { ...stage.select, normalise: true } }] }
      const registry = yield* Registry.make([...builtins, ...loaded.plugins])
      const error = yield* Effect.flip(Compile.compile(registry, typo))
      expect(error).toBeInstanceOf(UserError)
      expect(error.problems).toEqual([
        { path: "recycling.0.select.normalise", message: `unknown option; did you mean "normalize"?` }
      ])
    }).pipe(Effect.provide(NodeServices.layer)))

  it("docs/writing-a-criterion.md shows only code that is in the example or the scaffold (every ts block marked)", () => {
    const doc = fs.readFileSync(path.join(root, "docs/writing-a-criterion.md"), "utf8").split("\n")
    const blocks: Array<{ file: string | undefined; lang: string; body: string }> = []
    for (let i = 0; i < doc.length; i++) {
      const open = /^```(\w*)$/.exec(doc[i]!)
      if (open === null) continue
      const end = doc.indexOf("```", i + 1)
      const marker = /^<!-- file: (\S+) -->$/.exec(doc[i - 1] ?? "")
      const scaffolded = /^<!-- scaffold: (\S+) (\S+) (\S+) -->$/.exec(doc[i - 1] ?? "")
      const body = doc.slice(i + 1, end).join("\n") + "\n"
      if (scaffolded !== null) {
        const [, kind, name, file] = scaffolded
        const generated = Scaffold.files(Scaffold.kindOf(kind!), Scaffold.namesOf(name!))[file!]
        expect(generated, `the scaffold of ${kind} ${name} has no ${file}`).toBeDefined()
        expect(generated, `the doc's block no longer matches what rekindle new writes to ${file}`).toBe(body)
      }
      blocks.push({ file: marker?.[1] ?? (scaffolded !== null ? `scaffold:${scaffolded[3]}` : undefined), lang: open[1]!, body })
      i = end
    }
    const marked = blocks.filter((b) => b.file !== undefined)
    expect(marked.map((b) => b.file)).toEqual(expect.arrayContaining([
      "scaffold:package.json",
      "scaffold:src/index.ts",
      "scaffold:test/my-criterion.test.ts",
      "scaffold:pipeline.ts",
      "examples/criterion-contribution/src/index.ts",
      "examples/criterion-contribution/test/contribution.test.ts",
      "examples/criterion-contribution/pipeline.ts",
      "examples/criterion-contribution/rekindle.config.ts",
      "examples/criterion-taylor/src/index.ts",
      "examples/criterion-taylor/test/taylor.test.ts"
    ]))
    for (const b of blocks) {
      if (b.lang === "ts") expect(b.file, `unmarked ts block:\n${b.body.slice(0, 120)}`).toBeDefined()
      if (b.file !== undefined && !b.file.startsWith("scaffold:")) expect(fs.readFileSync(path.join(root, b.file), "utf8"), `${b.file} no longer contains the doc's block`).toContain(b.body)
    }
  })

  it("works from the rekindle bin: plugins lists it, validate accepts it and rejects a typo (exit 2)", () => {
    const listed = rekindle("plugins")
    expect(listed.code).toBe(0)
    expect(listed.out).toContain(`@rekindle-examples/criterion-contribution 0.1.0 (namespace "lab", core ^0.1.0)`)
    expect(listed.out).toContain("lab/contribution [criterion]")
    const ok = rekindle("validate", "pipeline.ts")
    expect(ok.out).toContain("pipeline.ts: ok (contribution: 400 steps, 1 recycling stage(s)")
    expect(ok.code).toBe(0)
    const typo = rekindle("validate", "pipeline.ts", "--set", "recycling.0.select.normalise=true")
    expect(typo.code).toBe(2)
    expect(typo.err).toBe(`error: invalid pipeline:\n  recycling.0.select.normalise: unknown option; did you mean "normalize"?\n`)
  }, 60_000)
})
