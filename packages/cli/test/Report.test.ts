import { describe, expect, it } from "@effect/vitest"
import { Safetensors } from "@rekindle/model"
import { Effect } from "effect"
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { cli, cliWithFakeTrainer, fixture } from "./helpers.ts"

const tmp = () => mkdtempSync(join(tmpdir(), "rekindle-cli-report-"))
const embedded = (file: string) =>
  JSON.parse(/<script id="report-data" type="application\/json">(.*?)<\/script>/s.exec(readFileSync(file, "utf8"))![1]!)

/** A GPT-2-style checkpoint: layer l's neuron i has W_in column norm (i + 1) and W_out row norm (l + 1). */
const gpt2File = () => {
  const dir = tmp()
  const dModel = 2
  const dFF = 4
  const entries: Record<string, Safetensors.Entry> = {}
  for (const l of [0, 1]) {
    const win = new Float32Array(dModel * dFF)
    for (let i = 0; i < dFF; i++) win[i] = i + 1 // row 0 of [dModel, dFF]: column i has norm i + 1
    const wout = new Float32Array(dFF * dModel)
    for (let i = 0; i < dFF; i++) wout[i * dModel + 1] = l + 1
    entries[`h.${l}.mlp.c_fc.weight`] = { dtype: "F32", shape: [dModel, dFF], data: win }
    entries[`h.${l}.mlp.c_proj.weight`] = { dtype: "BF16", shape: [dFF, dModel], data: wout }
  }
  const file = join(dir, "model.safetensors")
  writeFileSync(file, Safetensors.encode(entries))
  return { dir, file }
}

describe("rekindle magnitudes", () => {
  it.effect("writes magnitudes.json and report.html; prints the per-layer table", () =>
    Effect.gen(function*() {
      const { dir, file } = gpt2File()
      const out = join(dir, "mags")
      const r = yield* cli(["magnitudes", file, "--arch", "gpt2", "--bins", "4", "--out", out])
      expect(r.err).toBe("")
      expect(r.code).toBe(0)
      expect(r.out).toMatch(/2 FF layers \(gpt2\)/)
      expect(r.out).toMatch(/h\.1\s+4\s+5\.0000/) // layer 1: magnitudes 2, 4, 6, 8 -> mean 5
      const data = JSON.parse(readFileSync(join(out, "magnitudes.json"), "utf8"))
      expect(data.layers[0].histogram.edges).toEqual([1, 1.75, 2.5, 3.25, 4])
      expect(data.layers[0].histogram.counts).toEqual([1, 1, 1, 1])
      expect(data.layers[1].quantiles[2]).toBe(5)
      expect(embedded(join(out, "report.html")).kind).toBe("magnitudes")
      // `rekindle report` regenerates it
      const again = yield* cli(["report", out])
      expect(again.code).toBe(0)
      expect(again.out).toBe(`report: ${join(out, "report.html")}`)
    }))

  it.effect("user errors exit 2 and write nothing", () =>
    Effect.gen(function*() {
      const { dir, file } = gpt2File()
      const out = join(dir, "mags")
      const wrong = yield* cli(["magnitudes", file, "--arch", "bert", "--out", out])
      expect(wrong.code).toBe(2)
      expect(wrong.err).toContain("no bert FF weights found")
      expect(wrong.err).toContain("try --arch gpt2")
      expect(wrong.err).not.toMatch(/\n\s+at /)
      const bins = yield* cli(["magnitudes", file, "--bins", "0", "--out", out])
      expect(bins.code).toBe(2)
      expect(bins.err).toContain("--bins")
      const missing = yield* cli(["magnitudes", join(dir, "nope.safetensors"), "--out", out])
      expect(missing.code).toBe(2)
      expect(missing.err).toContain("no such file")
      const arch = yield* cli(["magnitudes", file, "--arch", "llama", "--out", out])
      expect(arch.code).toBe(2)
      expect(existsSync(out)).toBe(false)
    }))
})

describe("rekindle report", () => {
  it.effect("writes a study's report and its runs' reports from the study folder", () =>
    Effect.gen(function*() {
      const out = tmp()
      const ran = yield* cliWithFakeTrainer(["run", fixture("study.ts"), "--out", out])
      expect(ran.code).toBe(0)
      const study = readdirSync(out)[0]!
      const dir = join(out, study)
      const r = yield* cli(["report", dir])
      expect(r.code).toBe(0)
      expect(r.out).toBe(`report: ${join(dir, "report.html")} (and 4 run reports)`)
      const data = embedded(join(dir, "report.html"))
      expect(data.kind).toBe("study")
      expect(data.variants).toHaveLength(4)
      const studyJson = JSON.parse(readFileSync(join(dir, "study.json"), "utf8"))
      expect(data.variants.map((v: { folder: string }) => v.folder)).toEqual(studyJson.variants.map((v: { dir: string }) => v.dir))
      // the same numbers as study.json (the page rounds to 6 significant digits)
      studyJson.groups.forEach((g: { name: string; finalEvalLoss: { mean: number } }, i: number) => {
        expect(data.groups[i].name).toBe(g.name)
        expect(data.groups[i].finalEvalLoss.mean).toBeCloseTo(g.finalEvalLoss.mean, 5)
      })
      for (const v of studyJson.variants) expect(existsSync(join(dir, v.dir, "report.html"))).toBe(true)
    }))

  it.effect("a folder that is neither a run nor a study is a user error", () =>
    Effect.gen(function*() {
      const r = yield* cli(["report", tmp()])
      expect(r.code).toBe(2)
      expect(r.err).toContain("not a run or study folder")
    }))
})
